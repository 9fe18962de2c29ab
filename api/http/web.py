"""The web apps' static side: what both apps load (the shared kit at ``/shared/``, the map
library at ``/vendor/``, the basemap setting at ``/shared/config.json``), and the participant
field app (``web/field``) at ``/app/`` with ``/j/{code}``.

No templates and no API here: the apps talk to ``/api/v1`` like any other client. A few small
files are generated beside the static ones: the basemap setting, ``sw.js`` (the field app's
service worker, stamped with a hash of its shell so a new release replaces the old cache) and
the short join link. Every response here carries a Content-Security-Policy that allows only
this origin and, when configured, the basemap's origin.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from starlette.exceptions import HTTPException
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from api.http.csp import page_policy
from api.settings import Settings

WEB_DIR = Path(__file__).resolve().parents[2] / "web"
FIELD_DIR = WEB_DIR / "field"
SHARED_DIR = WEB_DIR / "shared"
# Only what the maps load, under one name each; the rest of the npm package is never reachable.
# The CSP build of MapLibre needs no eval and no blob: worker.
VENDOR: dict[str, str] = {
    "maplibre-gl.js": "maplibre-gl/dist/maplibre-gl-csp.js",
    "maplibre-gl-worker.js": "maplibre-gl/dist/maplibre-gl-csp-worker.js",
    "maplibre-gl.css": "maplibre-gl/dist/maplibre-gl.css",
}
# Files the service worker caches at install: enough to open the app and capture offline.
SHELL = (
    "./",
    "index.html",
    "app.css",
    "manifest.webmanifest",
    "icons.svg",
    "icon-192.png",
    "icon-512.png",
    "icon-maskable-512.png",
    "js/app.js",
    "js/api.js",
    "js/queue.js",
    "js/i18n.js",
    "js/photo.js",
    "js/sun.js",
    "js/ui.js",
    "js/report.js",
    "js/map.js",
    "i18n/en.js",
    "i18n/nb.js",
    "/shared/api.js",
    "/shared/dom.js",
    "/shared/i18n.js",
    "/shared/map.js",
    "/shared/config.json",
)
_CODE_CHARS = re.compile(r"[^A-Za-z0-9]")

log = logging.getLogger("safewalk")


def security_headers(settings: Settings) -> dict[str, str]:
    return {
        "Content-Security-Policy": page_policy(settings.basemap_origin),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "X-Frame-Options": "DENY",
        # The app asks for the position and the camera (file input with capture), nothing else.
        "Permissions-Policy": "geolocation=(self), camera=(self), microphone=()",
        "Cross-Origin-Opener-Policy": "same-origin",
    }


class _Headers:
    """Adds fixed headers to every response of the wrapped app (static files included)."""

    def __init__(self, app: ASGIApp, headers: dict[str, str]) -> None:
        self.app = app
        self.raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_headers(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                names = {k for k, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [
                    (k, v) for k, v in self.raw if k not in names
                ]
            await send(message)

        await self.app(scope, receive, send_with_headers)


class _NoCacheShell(StaticFiles):
    """Static files that the browser revalidates (ETag) each time: the service worker is the
    cache that makes the app work offline, the HTTP cache must never serve a stale shell."""

    def file_response(self, *args: Any, **kwargs: Any) -> Response:
        response = super().file_response(*args, **kwargs)
        response.headers.setdefault("Cache-Control", "no-cache")
        return response


def shell_version(*directories: Path) -> str:
    """A hash of every file the app loads (its own and the shared kit's): a new release
    installs a new service worker."""
    digest = hashlib.sha256()
    for directory in directories:
        for path in sorted(p for p in directory.rglob("*") if p.is_file()):
            digest.update(path.relative_to(directory.parent).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _service_worker(field_dir: Path, version: str) -> bytes:
    template = (field_dir / "sw.template.js").read_text(encoding="utf-8")
    return (
        template.replace("__VERSION__", version)
        .replace("__SHELL__", json.dumps(list(SHELL)))
        .encode("utf-8")
    )


def _vendor_app(node_modules: Path) -> ASGIApp:
    """Only the named map library files; anything else under the mount is a 404. Served like
    the shell (revalidated, 304 when unchanged), not resent whole on every page load."""
    static = _NoCacheShell(directory=node_modules, check_dir=False)

    async def vendor(scope: Scope, receive: Receive, send: Send) -> None:
        name = VENDOR.get(scope["path"].rsplit("/", 1)[-1])
        if name is None:
            raise HTTPException(404, "no such file")
        if not (node_modules / name).is_file():
            # A clear 503 beats a map that silently never draws.
            raise HTTPException(503, "web dependencies are not installed (run `make web`)")
        response = await static.get_response(name, scope)
        await response(scope, receive, send)

    return vendor


def _static(directory: Path, headers: dict[str, str], *, html: bool = False) -> ASGIApp:
    return _Headers(
        GZipMiddleware(_NoCacheShell(directory=directory, html=html), minimum_size=512), headers
    )


def mount_shared(app: FastAPI, settings: Settings) -> None:
    """What both apps load, at one path each: the kit, the map library and the basemap."""
    web = settings.web_dir or WEB_DIR
    headers = security_headers(settings)
    config = {
        "basemap_url": settings.basemap_url,
        "basemap_attribution": settings.basemap_attribution,
    }

    async def map_config(_: Request) -> Response:
        return JSONResponse(config, headers={**headers, "Cache-Control": "no-cache"})

    # Before the mounts, so this wins over the static directory.
    app.router.routes.insert(0, Route("/shared/config.json", map_config, methods=["GET"]))
    app.mount(
        "/vendor",
        _Headers(GZipMiddleware(_vendor_app(web / "node_modules"), minimum_size=1024), headers),
        name="vendor",
    )
    if (web / "shared").is_dir():
        app.mount("/shared", _static(web / "shared", headers), name="shared")


def mount_field_app(app: FastAPI, settings: Settings) -> None:
    web = settings.web_dir or WEB_DIR
    field_dir = web / "field"
    if not (field_dir / "index.html").is_file():
        # An API-only deployment (or a broken image) still serves the API.
        log.warning("field app not found at %s: /app/ is not served", field_dir)
        return
    headers = security_headers(settings)
    sw_body = _service_worker(field_dir, shell_version(field_dir, web / "shared"))

    async def service_worker(_: Request) -> Response:
        return Response(
            sw_body,
            media_type="text/javascript",
            headers={**headers, "Cache-Control": "no-cache"},
        )

    async def join_link(request: Request) -> Response:
        # Only the code's letters and digits travel on: nothing else can reach the app's URL.
        code = _CODE_CHARS.sub("", request.path_params["code"])[:32]
        return RedirectResponse(f"/app/?code={code}", status_code=303, headers=headers)

    # Before the mount, so these win over the static directory.
    app.router.routes.insert(0, Route("/app/sw.js", service_worker, methods=["GET"]))
    app.router.routes.insert(0, Route("/j/{code}", join_link, methods=["GET"]))
    app.mount("/app", _static(field_dir, headers, html=True), name="field-app")
