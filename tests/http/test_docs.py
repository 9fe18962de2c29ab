"""/docs works on a closed network: every asset from this origin, and an Authorize button that
signs in with the OAuth2 password flow against /api/v1/auth/token."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from api.http.docs import install_docs
from tests.factories import PASSWORD
from tests.factories.client import SyncClient
from tests.factories.world import World

URL_ATTR = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", re.IGNORECASE)


def test_docs_references_only_same_origin_assets_and_serves_them(
    client: SyncClient, world: World
) -> None:
    r = client.get("/docs")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    html = r.text
    refs = URL_ATTR.findall(html)
    assert len(refs) >= 3  # stylesheet, icon, script
    for ref in refs:
        # Same origin: a path on this server, never a scheme or a protocol-relative host.
        assert ref.startswith("/"), ref
        assert not ref.startswith("//"), ref
    assert "http://" not in html
    assert "https://" not in html
    assert '"validatorUrl": null' in html  # the online validator badge would call out
    expected_types = {".js": "javascript", ".css": "text/css", ".png": "image/png"}
    for ref in refs:
        asset = client.get(ref)
        assert asset.status_code == 200, ref
        assert expected_types[Path(ref).suffix] in asset.headers["content-type"], ref
        assert len(asset.content) > 100
    bundle = client.get("/docs/assets/swagger-ui-bundle.js").text
    assert "SwaggerUIBundle" in bundle


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("index.html", id="not-allow-listed"),
        pytest.param("package.json", id="package-metadata"),
        pytest.param("..%2F..%2Fpackage.json", id="traversal"),
        pytest.param("nothing.js", id="unknown"),
    ],
)
def test_only_the_pages_assets_are_served(client: SyncClient, name: str) -> None:
    r = client.get(f"/docs/assets/{name}")
    assert r.status_code == 404
    assert r.headers["content-type"] == "application/problem+json"


def test_openapi_offers_the_password_flow_and_it_works(client: SyncClient, world: World) -> None:
    spec = client.get("/openapi.json").json()
    schemes = spec["components"]["securitySchemes"]
    flows = [s["flows"]["password"] for s in schemes.values() if s["type"] == "oauth2"]
    assert flows == [{"scopes": {}, "tokenUrl": "/api/v1/auth/token"}]
    assert spec["paths"]["/api/v1/me"]["get"]["security"]
    # What Swagger UI posts when Authorize is clicked (an empty scope included).
    form = {
        "grant_type": "password",
        "username": world.users["planner"].email,
        "password": PASSWORD,
        "scope": "",
    }
    # Swagger UI also sends the (empty) client credentials as HTTP Basic, as RFC 6749 allows.
    token = client.post("/api/v1/auth/token", data=form, headers={"Authorization": "Basic Og=="})
    assert token.status_code == 200, token.text
    me = client.get(
        "/api/v1/me", headers={"Authorization": f"Bearer {token.json()['access_token']}"}
    )
    assert me.json()["role"] == "planner"


def test_oauth2_redirect_page_and_no_cdn_redoc(client: SyncClient) -> None:
    r = client.get("/docs/oauth2-redirect")
    assert r.status_code == 200
    assert "https://" not in r.text
    assert client.get("/redoc").status_code == 404


def test_missing_assets_say_what_to_run(app: Any, tmp_path: Path) -> None:
    from fastapi import FastAPI

    bare = FastAPI(docs_url=None, redoc_url=None)
    install_docs(bare, assets_dir=tmp_path / "nothing-here")
    with SyncClient(bare) as c:
        r = c.get("/docs")
    assert r.status_code == 503
    assert r.headers["content-type"] == "application/problem+json"
    assert "make web" in r.json()["detail"]
