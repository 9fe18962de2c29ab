"""The web apps at the edge (api/http/assets.py): every script and style the pages name
carries the release in its URL and is cached for good under it, sent brotli- or
gzip-compressed as the browser accepts; the pages themselves are revalidated; a favicon at
/favicon.ico; meta descriptions."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urljoin

import pytest
from sqlalchemy import create_engine

from api.app import create_app
from api.http.web import WEB_DIR, web_version
from api.settings import Settings
from tests.factories.client import SyncClient

SECRET = "test-secret-key-long-enough-for-hs256-and-hs512-0123456789abcdefghijklmnop"
IMMUTABLE = "public, max-age=31536000, immutable"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SyncClient]:
    s = Settings(environment="test", data_dir=tmp_path_factory.mktemp("edge"), secret_key=SECRET)
    with SyncClient(create_app(s, engine=create_engine("sqlite://"))) as c:
        yield c


def _sent(client: SyncClient, url: str, encoding: str) -> tuple[int, bytes, dict[str, str]]:
    """The size on the wire, the decoded body, and the headers."""
    r = client.get(url, headers={"Accept-Encoding": encoding})
    assert r.status_code == 200, url
    return int(r.headers["content-length"]), r.content, dict(r.headers)


@pytest.mark.parametrize("page", ["/", "/app/"])
def test_every_script_and_style_of_a_page_is_named_by_release(
    client: SyncClient, page: str
) -> None:
    release = web_version(WEB_DIR)
    r = client.get(page)
    assert r.headers["cache-control"] == "no-cache"
    refs = re.findall(r'(?:src|href)="([^"]+\.(?:js|css)[^"]*)"', r.text)
    assert refs
    for ref in refs:
        assert ref.endswith(f"?v={release}"), ref
        url = ref if ref.startswith("/") else page + ref
        asset = client.get(url)
        assert asset.status_code == 200, url
        assert asset.headers["cache-control"] == IMMUTABLE, url
    assert re.search(r'<meta name="description" [^>]*content="[^"]{40,}">', r.text)


@pytest.mark.parametrize("page", ["/", "/app/"])
def test_every_module_a_page_imports_is_preloaded(client: SyncClient, page: str) -> None:
    # The browser fetches the whole module graph in one round trip only if the page names
    # every module of it: one left out costs a round trip per import level (on a phone on
    # 4G, most of the first paint).
    html = client.get(page).text
    preloaded = {
        urljoin(page, ref).split("?")[0]
        for ref in re.findall(r'<link rel="modulepreload" href="([^"]+)"', html)
    }
    entry = re.search(r'<script type="module" src="([^"]+)"', html)
    assert entry is not None
    seen: set[str] = set()
    todo = [urljoin(page, entry.group(1)).split("?")[0]]
    while todo:
        url = todo.pop()
        if url in seen:
            continue
        seen.add(url)
        source = client.get(url).text
        # Static imports only: a dynamic import() is loaded when it is needed, on purpose.
        for ref in re.findall(
            r"^\s*(?:import|export)\b[^;()]*?['\"]([^'\"]+\.js)[^'\"]*['\"]", source, re.M
        ):
            todo.append(urljoin(url, ref).split("?")[0])
    entry_url = urljoin(page, entry.group(1)).split("?")[0]
    assert sorted(seen - preloaded - {entry_url}) == []
    assert len(seen) > 5


def test_modules_import_each_other_by_release(client: SyncClient) -> None:
    release = web_version(WEB_DIR)
    app = client.get(f"/staff/app.js?v={release}").text
    imports = re.findall(r"from '([^']+)'", app)
    assert imports
    assert all(i.endswith(f".js?v={release}") for i in imports), imports
    shared_map = client.get(f"/shared/map.js?v={release}").text
    assert f"'/vendor/maplibre-gl.js?v={release}'" in shared_map
    vendor = client.get(f"/vendor/maplibre-gl.js?v={release}")
    assert vendor.headers["cache-control"] == IMMUTABLE


def test_compressed_as_accepted(client: SyncClient) -> None:
    release = web_version(WEB_DIR)
    url = f"/staff/app.js?v={release}"
    plain_size, plain, plain_headers = _sent(client, url, "identity")
    assert "content-encoding" not in plain_headers
    assert plain_size == len(plain)
    br_size, br_body, br_headers = _sent(client, url, "gzip, deflate, br")
    assert br_headers["content-encoding"] == "br"
    assert br_headers["vary"] == "Accept-Encoding"
    assert br_body == plain  # decoded by the client
    gz_size, gz_body, gz_headers = _sent(client, url, "gzip")
    assert gz_headers["content-encoding"] == "gzip"
    assert gz_body == plain
    assert br_size < gz_size < plain_size / 2
    # The whole map library, the biggest file: a fraction of its size on the wire.
    lib_size, _, _ = _sent(client, f"/vendor/maplibre-gl.js?v={release}", "br")
    lib_plain, _, _ = _sent(client, f"/vendor/maplibre-gl.js?v={release}", "identity")
    assert lib_size < lib_plain / 3


def test_revalidated_without_the_release_and_304_when_unchanged(client: SyncClient) -> None:
    r = client.get("/staff/app.js")
    assert r.headers["cache-control"] == "no-cache"
    again = client.get("/staff/app.js", headers={"If-None-Match": r.headers["etag"]})
    assert again.status_code == 304
    assert again.content == b""
    stale = client.get("/staff/app.js?v=0000000000000000")
    assert stale.headers["cache-control"] == "no-cache"  # another release's URL: not for good


def test_favicon(client: SyncClient) -> None:
    r = client.get("/favicon.ico")
    assert r.status_code == 200
    assert r.headers["content-type"] == "image/x-icon"
    assert r.content[:4] == b"\x00\x00\x01\x00"  # an ICO file
    assert r.headers["cache-control"] == "public, max-age=604800"


def test_paths_outside_the_app_are_not_served(client: SyncClient) -> None:
    for path in ("/staff/../api/settings.py", "/staff/%2e%2e/index.html", "/shared/nothing.js"):
        r = client.get(path)
        assert r.status_code == 404, path


def test_the_release_follows_the_files(tmp_path: Path) -> None:
    import shutil

    web = tmp_path / "web"
    for name in ("field", "shared", "staff"):
        shutil.copytree(WEB_DIR / name, web / name)
    before = web_version(web)
    (web / "staff" / "style.css").write_text("body{}", encoding="utf-8")
    assert web_version(web) != before
