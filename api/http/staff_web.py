"""The staff web at ``/``: the single-page app in ``web/staff/``, and the Content-Security-Policy
that keeps it to its own origin and the basemap. What it shares with the field app (the kit,
the map library, the basemap setting) is served by ``api.web``.

Plain routes and a static mount, not API routes: nothing here reads the database or a token.
The app talks to ``/api/v1`` like any other client.
"""

from __future__ import annotations

import logging
from pathlib import Path

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route

from api.http.assets import WebFiles, file_response
from api.http.web import security_headers, web_version
from api.settings import Settings

WEB_DIR = Path(__file__).resolve().parents[2] / "web"

log = logging.getLogger("safewalk")


def mount_staff_web(app: FastAPI, settings: Settings) -> None:
    headers = security_headers(settings)
    web = settings.web_dir or WEB_DIR
    staff_dir = web / "staff"
    if not (staff_dir / "index.html").is_file():
        # An API-only deployment still serves the API.
        log.warning("staff web not found at %s: / is not served", staff_dir)
        return
    release = web_version(web)

    async def staff_index(request: Request) -> Response:
        return file_response(staff_dir / "index.html", request.scope, release, headers)

    app.router.routes.extend(
        [
            Route("/", staff_index, methods=["GET", "HEAD"], name="staff_web"),
            Mount("/staff", app=WebFiles(staff_dir, release, headers), name="staff_assets"),
        ]
    )
