"""Interactive API documentation that works on a closed municipal network.

Swagger UI comes from npm (``web/node_modules/swagger-ui-dist``, pinned in ``web/package.json``)
and is served by the service itself, never from a CDN; its online validator badge is switched off
for the same reason. The Authorize button signs in with the OAuth2 password flow against
``/api/v1/auth/token``. ReDoc is not offered: its bundle is not among the npm dependencies, and
FastAPI's default /redoc page would load it from a CDN.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.security import OAuth2PasswordBearer
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response

from api.http.problems import problem

SWAGGER_UI_DIR: Final = (
    Path(__file__).resolve().parents[2] / "web" / "node_modules" / "swagger-ui-dist"
)
DOCS_PATH: Final = "/docs"
ASSETS_PATH: Final = "/docs/assets"
OAUTH2_REDIRECT_PATH: Final = "/docs/oauth2-redirect"
TOKEN_URL: Final = "/api/v1/auth/token"

# Only what the page loads; the rest of the package (its demo index.html pointing at the
# petstore, source maps) is not served.
ASSETS: Final = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "favicon-32x32.png": "image/png",
}

# Declares the bearer scheme in OpenAPI, which is what gives Swagger UI its Authorize button.
# auto_error=False: api.auth.deps_router reads and checks the header itself, with its own
# problem details.
oauth2_scheme = OAuth2PasswordBearer(tokenUrl=TOKEN_URL, auto_error=False)


def _missing() -> Response:
    return problem(
        503,
        "Service unavailable",
        f"the Swagger UI files are not installed in {SWAGGER_UI_DIR}: run 'make web'",
        slug="docs-unavailable",
    )


def install_docs(app: FastAPI, *, assets_dir: Path = SWAGGER_UI_DIR) -> None:
    """Add /docs, its assets and the OAuth2 redirect page (plain routes, not in the schema)."""

    async def docs(request: Request) -> Response:
        if not (assets_dir / "swagger-ui-bundle.js").is_file():
            return _missing()
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} – API",
            swagger_js_url=f"{ASSETS_PATH}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS_PATH}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS_PATH}/favicon-32x32.png",
            oauth2_redirect_url=OAUTH2_REDIRECT_PATH,
            swagger_ui_parameters={"validatorUrl": None, "persistAuthorization": True},
        )

    async def asset(request: Request) -> Response:
        name = request.path_params["name"]
        media_type = ASSETS.get(name)
        path = assets_dir / name
        if media_type is None or not path.is_file():
            return problem(404, "Not found", "no such documentation asset", slug="not-found")
        return FileResponse(
            path, media_type=media_type, headers={"Cache-Control": "public, max-age=86400"}
        )

    async def oauth2_redirect(request: Request) -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    app.add_route(DOCS_PATH, docs, include_in_schema=False)
    app.add_route(f"{ASSETS_PATH}/{{name}}", asset, include_in_schema=False)
    app.add_route(OAUTH2_REDIRECT_PATH, oauth2_redirect, include_in_schema=False)
