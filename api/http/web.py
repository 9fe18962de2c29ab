"""The participant field app (``web/field``) served as static files at ``/app/``, and ``/j/{code}``.

No templates and no API here: the app talks to ``/api/v1`` like any other client. Three small
generated files sit beside the static ones: ``config.json`` (the basemap setting), ``sw.js`` (the
service worker, stamped with a hash of the shell so a new release replaces the old cache) and
the short join link. Every response under ``/app/`` carries a Content-Security-Policy that allows
only this origin and, when configured, the basemap's origin.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fastapi import FastAPI
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from api.settings import Settings

WEB_DIR = Path(__file__).resolve().parents[2] / "web"
FIELD_DIR = WEB_DIR / "field"
MAPLIBRE = Path("node_modules") / "maplibre-gl" / "dist"
MAPLIBRE_DIR = WEB_DIR / MAPLIBRE
# Only what the map view loads; the rest of the npm package is never reachable.
MAPLIBRE_FILES = ("maplibre-gl-csp.js", "maplibre-gl-csp-worker.js", "maplibre-gl.css")
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
    "config.json",
)
_CODE_CHARS = re.compile(r"[^A-Za-z0-9]")

log = logging.getLogger("safewalk")


def basemap_origin(url: str) -> str | None:
    """The scheme://host[:port] of the basemap template, or None when unset or unusable."""
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}"


def content_security_policy(settings: Settings) -> str:
    extra = basemap_origin(settings.basemap_url)
    tiles = f" {extra}" if extra else ""
    return "; ".join(
        (
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            f"img-src 'self' data: blob:{tiles}",
            f"connect-src 'self'{tiles}",
            "worker-src 'self' blob:",
            "manifest-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        )
    )


def security_headers(settings: Settings) -> dict[str, str]:
    return {
        "Content-Security-Policy": content_security_policy(settings),
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


def shell_version(directory: Path) -> str:
    """A hash of every file of the app: a new release installs a new service worker."""
    digest = hashlib.sha256()
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        digest.update(path.relative_to(directory).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _service_worker(field_dir: Path, version: str) -> bytes:
    template = (field_dir / "sw.template.js").read_text(encoding="utf-8")
    return (
        template.replace("__VERSION__", version)
        .replace("__SHELL__", json.dumps(list(SHELL)))
        .encode("utf-8")
    )


def _vendor_app(directory: Path) -> ASGIApp:
    """Only the named map library files; anything else under the mount is a 404."""
    static = StaticFiles(directory=directory, check_dir=False)

    async def vendor(scope: Scope, receive: Receive, send: Send) -> None:
        name = scope["path"].rsplit("/", 1)[-1]
        if name not in MAPLIBRE_FILES:
            await Response("not found", status_code=404)(scope, receive, send)
            return
        await static(scope, receive, send)

    return vendor


def mount_field_app(app: FastAPI, settings: Settings) -> None:
    web = settings.web_dir or WEB_DIR
    field_dir = web / "field"
    if not (field_dir / "index.html").is_file():
        # An API-only deployment (or a broken image) still serves the API.
        log.warning("field app not found at %s: /app/ is not served", field_dir)
        return
    headers = security_headers(settings)
    version = shell_version(field_dir)
    sw_body = _service_worker(field_dir, version)
    config = {
        "basemap_url": settings.basemap_url if basemap_origin(settings.basemap_url) else "",
        "basemap_attribution": settings.basemap_attribution,
        "version": version,
    }

    async def service_worker(_: Request) -> Response:
        return Response(
            sw_body,
            media_type="text/javascript",
            headers={**headers, "Cache-Control": "no-cache"},
        )

    async def field_config(_: Request) -> Response:
        return JSONResponse(config, headers={**headers, "Cache-Control": "no-cache"})

    async def join_link(request: Request) -> Response:
        # Only the code's letters and digits travel on: nothing else can reach the app's URL.
        code = _CODE_CHARS.sub("", request.path_params["code"])[:32]
        return RedirectResponse(f"/app/?code={code}", status_code=303, headers=headers)

    # Before the mount, so these win over the static directory.
    app.router.routes.insert(0, Route("/app/sw.js", service_worker, methods=["GET"]))
    app.router.routes.insert(0, Route("/app/config.json", field_config, methods=["GET"]))
    app.router.routes.insert(0, Route("/j/{code}", join_link, methods=["GET"]))
    app.mount(
        "/app/vendor/maplibre",
        _Headers(GZipMiddleware(_vendor_app(web / MAPLIBRE), minimum_size=1024), headers),
        name="field-vendor",
    )
    app.mount(
        "/app",
        _Headers(
            GZipMiddleware(_NoCacheShell(directory=field_dir, html=True), minimum_size=512),
            headers,
        ),
        name="field-app",
    )
