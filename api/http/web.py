"""The web apps' static side: what both apps load (the shared kit at ``/shared/``, the map
library at ``/vendor/``, ``/favicon.ico``), and the participant field app (``web/field``) at
``/app/`` with ``/j/{code}``.

No templates and no API here: the apps talk to ``/api/v1`` like any other client, and the
maps ask ``/basemap/style.json`` for their basemap. A few small things are generated beside
the static files: ``sw.js`` (the field app's service worker, stamped with a hash of its shell
so a new release replaces the old cache), the favicon and the short join link. Files are
served through ``api.http.assets`` (compressed, cached by release); every response here
carries the page Content-Security-Policy (``api.http.csp``).
"""

from __future__ import annotations

import functools
import io
import json
import logging
import re
from pathlib import Path

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from api.http.assets import WebFiles, release_version, versioned
from api.http.csp import page_policy
from api.settings import Settings
from models.organizations import LANGUAGES

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
    "js/nearness.js",
    "js/map.js",
    *(f"i18n/{language.value}.json" for language in LANGUAGES),
    "/shared/api.js",
    "/shared/dom.js",
    "/shared/i18n.js",
    "/shared/map.js",
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


def shell_version(*directories: Path) -> str:
    """A hash of every file the field app loads (its own and the shared kit's): a new release
    installs a new service worker."""
    return release_version(*directories)


def web_version(web: Path) -> str:
    """The release of the web apps: every file of theirs and the npm packages' versions."""
    return release_version(
        web / "field", web / "shared", web / "staff", extra=(web / "package-lock.json",)
    )


def _service_worker(field_dir: Path, version: str, release: str) -> bytes:
    template = (field_dir / "sw.template.js").read_text(encoding="utf-8")
    # The shell as the pages reference it, so the cache holds the URLs they ask for.
    shell = [versioned(path, release) for path in SHELL]
    return (
        template.replace("__VERSION__", version)
        .replace("__SHELL__", json.dumps(shell))
        .encode("utf-8")
    )


@functools.cache
def favicon_ico(icon: Path) -> bytes:
    """The app icon as ``/favicon.ico`` (16, 32 and 48 px), for every page and for the
    browsers and crawlers that ask there without reading a page's ``<link rel=icon>``."""
    from PIL import Image  # Pillow is the photo uploads'; the icon is made once, on first ask

    out = io.BytesIO()
    with Image.open(icon) as image:
        image.convert("RGBA").save(out, format="ICO", sizes=[(16, 16), (32, 32), (48, 48)])
    return out.getvalue()


def mount_shared(app: FastAPI, settings: Settings) -> None:
    """What both apps load, at one path each: the kit, the map library and the favicon."""
    web = settings.web_dir or WEB_DIR
    headers = security_headers(settings)
    release = web_version(web)
    icon = web / "field" / "icon-192.png"

    async def favicon(_: Request) -> Response:
        if not icon.is_file():
            return Response(status_code=404, headers=headers)
        return Response(
            favicon_ico(icon),
            media_type="image/x-icon",
            headers={**headers, "Cache-Control": "public, max-age=604800"},
        )

    app.router.routes.insert(0, Route("/favicon.ico", favicon, methods=["GET"]))
    app.mount(
        "/vendor",
        WebFiles(web / "node_modules", release, headers, names=VENDOR),
        name="vendor",
    )
    if (web / "shared").is_dir():
        app.mount("/shared", WebFiles(web / "shared", release, headers), name="shared")


def web_app(settings: Settings, name: str, what: str, at: str) -> tuple[Path, Path] | None:
    """The web folder and its app ``name`` (``web/field``, ``web/staff``), or None where the
    app has no index.html: an API-only deployment (or a broken image) still serves the API."""
    web = settings.web_dir or WEB_DIR
    app_dir = web / name
    if not (app_dir / "index.html").is_file():
        log.warning("%s not found at %s: %s is not served", what, app_dir, at)
        return None
    return web, app_dir


def mount_field_app(app: FastAPI, settings: Settings) -> None:
    found = web_app(settings, "field", "field app", "/app/")
    if found is None:
        return
    web, field_dir = found
    headers = security_headers(settings)
    release = web_version(web)
    sw_body = _service_worker(field_dir, shell_version(field_dir, web / "shared"), release)

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
    app.mount("/app", WebFiles(field_dir, release, headers, html=True), name="field-app")
