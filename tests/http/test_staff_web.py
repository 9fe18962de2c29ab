"""The staff web's server side: `/` and its assets with a Content-Security-Policy, only the
listed npm files under /vendor, the API and docs not shadowed, and the join sheet's QR code."""

from __future__ import annotations

import re
from typing import Any

import segno

from api.app import create_app
from api.http.web import VENDOR
from api.settings import Settings
from tests.factories.client import SyncClient
from tests.factories.world import World


def test_index_is_served_with_a_strict_csp(client: SyncClient) -> None:
    r = client.get("/")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    csp = r.headers["content-security-policy"]
    assert "script-src 'self';" in csp
    assert "'unsafe-inline'" not in csp
    assert "'unsafe-eval'" not in csp
    assert "connect-src 'self';" in csp  # no basemap configured: nothing outside
    assert "frame-ancestors 'none'" in csp
    assert r.headers["x-content-type-options"] == "nosniff"
    assert re.search(r'<script type="module" src="/staff/app.js\?v=\w+">', r.text)
    # The basemap reaches every map one way: /basemap/style.json, not markup.
    assert "basemap" not in r.text


def test_assets_and_only_listed_vendor_files(client: SyncClient) -> None:
    assert client.get("/staff/app.js").status_code == 200
    assert client.get("/staff/i18n/nb.json").status_code == 200
    for name in VENDOR:
        r = client.get(f"/vendor/{name}")
        assert r.status_code == 200, name
        assert r.headers["content-type"].split(";")[0] in ("text/javascript", "text/css")
    for path in ("/vendor/package.json", "/vendor/..%2Fpackage.json", "/vendor/maplibre-gl-dev.js"):
        r = client.get(path)
        assert r.status_code == 404, path
        assert r.headers["content-type"] == "application/problem+json"


def test_api_and_docs_are_not_shadowed(client: SyncClient) -> None:
    assert client.get("/healthz").status_code == 200
    assert client.get("/openapi.json").status_code == 200
    assert client.get("/docs").status_code == 200
    r = client.get("/api/v1/me")
    assert r.status_code == 401
    assert r.headers["content-type"] == "application/problem+json"
    assert client.get("/api/v1/nothing-here").status_code == 404


def test_the_basemap_is_the_only_outside_origin(settings: Settings, engine: Any) -> None:
    s = settings.model_copy(
        update={"basemap_url": "https://tile.openstreetmap.org/{z}/{x}/{y}.png"}
    )
    with SyncClient(create_app(s, engine=engine)) as c:
        r = c.get("/")
        style = c.get("/basemap/style.json").json()
    csp = r.headers["content-security-policy"]
    outside = set(re.findall(r"https?://[^\s;]+", csp))
    assert outside == {"https://tile.openstreetmap.org"}
    assert "connect-src 'self' https://tile.openstreetmap.org;" in csp
    assert style["sources"]["basemap"]["tiles"] == [
        "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    ]


def test_join_qr_is_the_join_link(client: SyncClient, world: World) -> None:
    r = client.get(
        f"/api/v1/walks/{world.walk.id}/join-qr.svg", headers=world.headers("coordinator")
    )
    assert r.status_code == 200
    assert r.headers["content-type"] == "image/svg+xml"
    assert r.headers["x-content-type-options"] == "nosniff"
    link = f"http://testserver/j/{world.walk.join_code}"
    assert f"<title>{link}</title>" in r.text
    # The same payload, encoded the same way, draws the same modules: the SVG is this link.
    expected = segno.make_qr(link, error="m")
    assert r.text.count("<path") == 1
    import io

    buf = io.BytesIO()
    expected.save(buf, kind="svg", scale=10, border=4, title=link, xmldecl=False)
    assert r.text == buf.getvalue().decode()


def test_join_qr_walls(client: SyncClient, world: World) -> None:
    url = f"/api/v1/walks/{world.other_walk.id}/join-qr.svg"
    assert client.get(url, headers=world.headers("foreign_admin")).status_code == 404
    assert client.get(url, headers=world.headers("engineer")).status_code == 403
    assert client.get(url).status_code == 401
    unknown = "/api/v1/walks/00000000-0000-0000-0000-000000000000/join-qr.svg"
    assert client.get(unknown, headers=world.headers("admin")).status_code == 404


def test_report_back_qr_is_the_report_back_link(app: Any, client: SyncClient, world: World) -> None:
    url = f"/api/v1/walks/{world.walk.id}/report-back-qr.svg"
    r = client.get(url, headers=world.headers("coordinator"))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "image/svg+xml"
    link = f"http://testserver/public/{world.org.slug}/walks/{world.walk.id}"
    expected = segno.make_qr(link, error="m")
    import io

    buf = io.BytesIO()
    expected.save(buf, kind="svg", scale=10, border=4, title=link, xmldecl=False)
    assert r.text == buf.getvalue().decode()
    # The link it draws is the page's own route.
    published = client.post(
        f"/api/v1/walks/{world.walk.id}/report-back", headers=world.headers("coordinator")
    )
    assert published.json()["url"] == link
    app.state.settings = app.state.settings.model_copy(
        update={"public_url": "http://192.168.1.20:8000/"}
    )
    r = client.get(url, headers=world.headers("coordinator"))
    assert f"<title>http://192.168.1.20:8000/public/{world.org.slug}/walks/" in r.text


def test_report_back_qr_walls(client: SyncClient, world: World) -> None:
    url = f"/api/v1/walks/{world.other_walk.id}/report-back-qr.svg"
    assert client.get(url, headers=world.headers("foreign_admin")).status_code == 404
    assert client.get(url, headers=world.headers("engineer")).status_code == 403
    assert client.get(url).status_code == 401
    mine = f"/api/v1/walks/{world.walk.id}/report-back-qr.svg"
    # A participant draws the code of their own walk on the field app's last screen.
    own = client.get(mine, headers=world.headers("participant"))
    assert own.status_code == 200
    assert own.text.lstrip().startswith("<svg")
    assert client.get(url, headers=world.headers("participant")).status_code == 404


def test_join_qr_prints_the_public_url(app: Any, client: SyncClient, world: World) -> None:
    # Behind a proxy or on a LAN the address the server sees is not the one phones can reach.
    app.state.settings = app.state.settings.model_copy(
        update={"public_url": "http://192.168.1.20:8000/"}
    )
    r = client.get(
        f"/api/v1/walks/{world.walk.id}/join-qr.svg", headers=world.headers("coordinator")
    )
    assert f"<title>http://192.168.1.20:8000/j/{world.walk.join_code}</title>" in r.text
