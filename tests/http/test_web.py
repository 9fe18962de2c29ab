"""Serving the field app and what both apps share (api/http/web.py), and join links
(api/walks/joinlink.py), without a browser or a database: headers, the CSP with and without a
basemap, the join redirect, the service worker's version, the shared kit, the narrow vendor
mount, and a missing web directory."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine

from api.app import create_app
from api.http import web
from api.settings import Settings
from api.walks import joinlink
from tests.factories.client import SyncClient

SECRET = "test-secret-key-long-enough-for-hs256-and-hs512-0123456789abcdefghijklmnop"


def _client(tmp_path: Path, **settings: Any) -> SyncClient:
    s = Settings(environment="test", data_dir=tmp_path, secret_key=SECRET, **settings)
    # Nothing here touches the database: an empty in-memory engine is enough.
    return SyncClient(create_app(s, engine=create_engine("sqlite://")))


@pytest.fixture
def client(tmp_path: Path) -> Iterator[SyncClient]:
    with _client(tmp_path) as c:
        yield c


def test_app_shell_with_security_headers(client: SyncClient) -> None:
    r = client.get("/app/")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    csp = r.headers["content-security-policy"]
    assert "default-src 'self'" in csp
    assert "script-src 'self';" in csp
    assert "unsafe" not in csp
    assert "frame-ancestors 'none'" in csp
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "no-referrer"
    assert "geolocation=(self)" in r.headers["permissions-policy"]
    assert r.headers["cache-control"] == "no-cache"
    assert client.get("/app", follow_redirects=False).status_code == 307


def test_shell_is_sent_compressed(client: SyncClient) -> None:
    r = client.get("/app/js/app.js", headers={"Accept-Encoding": "gzip"})
    assert r.status_code == 200
    assert r.headers["content-encoding"] == "gzip"
    assert r.headers["content-type"].startswith("text/javascript")
    assert r.text.startswith("//")  # httpx decoded it


def test_basemap_origin_is_the_only_outside_origin(tmp_path: Path) -> None:
    with _client(tmp_path, basemap_url="https://tiles.example.org/{z}/{x}/{y}.png") as c:
        csp = c.get("/app/").headers["content-security-policy"]
        style = c.get("/basemap/style.json").json()
    assert "img-src 'self' https://tiles.example.org data: blob:;" in csp
    assert "connect-src 'self' https://tiles.example.org;" in csp
    assert style["sources"]["basemap"]["tiles"] == ["https://tiles.example.org/{z}/{x}/{y}.png"]


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("javascript:alert(1)", id="javascript"),
        pytest.param("tiles/{z}/{x}/{y}.png", id="relative"),
        pytest.param("ftp://tiles.example.org/{z}", id="ftp"),
    ],
)
def test_unusable_basemap_refuses_to_start(tmp_path: Path, url: str) -> None:
    """One setting serves both apps; a basemap no browser may load is a configuration error,
    said at start, rather than a map that silently stays blank."""
    with (
        pytest.raises(ValueError, match="SAFEWALK_BASEMAP_URL"),
        _client(tmp_path, basemap_url=url),
    ):
        pass


@pytest.mark.parametrize(
    ("path", "location"),
    [
        pytest.param("/j/K7M2-Q9PX", "/app/?code=K7M2Q9PX", id="dash"),
        pytest.param("/j/k7m2q9px", "/app/?code=k7m2q9px", id="lowercase"),
        pytest.param("/j/%22%3E%3Cscript%3E", "/app/?code=script", id="markup"),
        pytest.param("/j/" + "A" * 80, "/app/?code=" + "A" * 32, id="long"),
    ],
)
def test_join_link_redirects_with_only_the_code(
    client: SyncClient, path: str, location: str
) -> None:
    r = client.get(path, follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == location


def test_service_worker_is_stamped_and_scoped(client: SyncClient) -> None:
    r = client.get("/app/sw.js")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/javascript")
    assert r.headers["cache-control"] == "no-cache"
    assert "__VERSION__" not in r.text
    assert "__SHELL__" not in r.text
    for path in web.SHELL:  # every file the worker caches exists
        if path == "./":
            continue
        if path.startswith("/shared/"):
            assert (web.SHARED_DIR / path.removeprefix("/shared/")).is_file(), path
        else:
            assert (web.FIELD_DIR / path).is_file(), path
        assert path in r.text
    manifest = client.get("/app/manifest.webmanifest").json()
    assert manifest["scope"] == "./"
    assert manifest["display"] == "standalone"
    for icon in manifest["icons"]:
        assert client.get(f"/app/{icon['src']}").status_code == 200


def test_shell_version_follows_the_files(tmp_path: Path) -> None:
    field, shared = tmp_path / "field", tmp_path / "shared"
    shutil.copytree(web.FIELD_DIR, field)
    shutil.copytree(web.SHARED_DIR, shared)
    before = web.shell_version(field, shared)
    assert web.shell_version(field, shared) == before
    (field / "app.css").write_text("body{}", encoding="utf-8")
    after_app = web.shell_version(field, shared)
    assert after_app != before
    # The shared kit is part of the shell: a change there is a new release of the app too.
    (shared / "dom.js").write_text("export {};", encoding="utf-8")
    assert web.shell_version(field, shared) != after_app


def test_the_shared_kit_is_served_once_for_both_apps(client: SyncClient) -> None:
    for name in ("api.js", "dom.js", "i18n.js", "map.js"):
        r = client.get(f"/shared/{name}", headers={"Accept-Encoding": "gzip"})
        assert r.status_code == 200, name
        assert r.headers["content-type"].startswith("text/javascript")
        assert r.headers["cache-control"] == "no-cache"
        assert "script-src 'self';" in r.headers["content-security-policy"]
    assert client.get("/shared/nothing.js").status_code == 404
    # Both apps import it from there, and have no copy of their own.
    for app_file in ("field/js/app.js", "field/js/i18n.js", "field/js/api.js", "field/js/map.js"):
        assert "../../shared/" in (web.WEB_DIR / app_file).read_text(encoding="utf-8"), app_file
    for app_file in ("staff/i18n.js", "staff/api.js", "staff/dom.js", "staff/map.js"):
        assert "'../shared/" in (web.WEB_DIR / app_file).read_text(encoding="utf-8"), app_file
    # The basemap is the style's business (/basemap/style.json), no file of the kit.
    assert client.get("/shared/config.json").status_code == 404


def test_only_the_map_library_files_are_served(client: SyncClient) -> None:
    for name in web.VENDOR:
        r = client.get(f"/vendor/{name}", headers={"Accept-Encoding": "gzip"})
        assert r.status_code == 200, name
        assert r.headers["content-type"].split(";")[0] in ("text/javascript", "text/css")
    js = client.get("/vendor/maplibre-gl.js", headers={"Accept-Encoding": "gzip"})
    assert js.headers["content-encoding"] == "gzip"
    assert js.headers["cache-control"] == "no-cache"
    # Revalidated, not downloaded again: 800 kB on every page load is a phone's data plan.
    again = client.get("/vendor/maplibre-gl.js", headers={"If-None-Match": js.headers["etag"]})
    assert again.status_code == 304
    assert client.post("/vendor/maplibre-gl.js").status_code == 405
    for name in ("package.json", "maplibre-gl-dev.js", "..%2Fpackage.json", "maplibre-gl.js.map"):
        r = client.get(f"/vendor/{name}")
        assert r.status_code == 404, name
        assert r.headers["content-type"] == "application/problem+json"
    # The field app's old second path is gone: one map library, one URL, one cache entry.
    assert client.get("/app/vendor/maplibre/maplibre-gl-csp.js").status_code == 404


def test_missing_web_directory_leaves_the_api_working(tmp_path: Path) -> None:
    with _client(tmp_path, web_dir=tmp_path / "nowhere") as c:
        assert c.get("/app/").status_code == 404
        assert c.get("/healthz").status_code == 200


def test_other_web_directory(tmp_path: Path) -> None:
    root = tmp_path / "web"
    shutil.copytree(web.FIELD_DIR, root / "field")
    (root / "field" / "index.html").write_text("<!doctype html><title>x</title>", "utf-8")
    with _client(tmp_path, web_dir=root) as c:
        assert c.get("/app/").text == "<!doctype html><title>x</title>"


def test_public_base_for_the_local_network(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(joinlink, "lan_address", lambda: "192.168.1.20")
    assert joinlink.public_base("127.0.0.1", 8000) == "http://127.0.0.1:8000"
    assert joinlink.public_base("0.0.0.0", 8080) == "http://192.168.1.20:8080"
    assert joinlink.public_base("0.0.0.0", 8080, "https://walk.example.org/") == (
        "https://walk.example.org"
    )
    assert joinlink.public_base("::1", 8000) == "http://[::1]:8000"
    assert joinlink.join_url("http://h:1", "K7M2Q9PX") == "http://h:1/j/K7M2Q9PX"


def test_terminal_qr_code_is_blocks() -> None:
    text = joinlink.terminal_qr("http://192.168.1.20:8000/j/K7M2Q9PX")
    lines = text.strip("\n").splitlines()
    assert len(lines) > 10
    assert set("".join(lines)) <= {"█", "▀", "▄", " "}
    assert len({len(line) for line in lines}) == 1  # a square of equal lines


def test_lan_address_is_an_ipv4_address() -> None:
    parts = joinlink.lan_address().split(".")
    assert len(parts) == 4
    assert all(p.isdigit() for p in parts)


def test_the_image_carries_every_folder_the_apps_load() -> None:
    """The image copies the web folders one by one: a folder left out would leave the apps
    without their kit in production only."""
    dockerfile = (web.WEB_DIR.parent / "Dockerfile").read_text(encoding="utf-8")
    folders = sorted(
        p.name for p in web.WEB_DIR.iterdir() if p.is_dir() and p.name != "node_modules"
    )
    assert folders == ["field", "shared", "staff"]
    for folder in folders:
        assert f"COPY web/{folder} /opt/safewalk/web/{folder}\n" in dockerfile, folder
