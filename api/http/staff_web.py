"""The staff web at ``/``: the single-page app in ``web/staff/``, and the Content-Security-Policy
that keeps it to its own origin and the basemap. What it shares with the field app (the kit,
the map library, the basemap setting) is served by ``api.web``.

Plain routes and a static mount, not API routes: nothing here reads the database or a token.
The app talks to ``/api/v1`` like any other client.
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route

from api.http.assets import WebFiles, file_response
from api.http.web import security_headers, web_app, web_version
from api.settings import Settings


def mount_staff_web(app: FastAPI, settings: Settings) -> None:
    headers = security_headers(settings)
    found = web_app(settings, "staff", "staff web", "/")
    if found is None:
        return
    web, staff_dir = found
    release = web_version(web)

    async def staff_index(request: Request) -> Response:
        return file_response(staff_dir / "index.html", request.scope, release, headers)

    app.router.routes.extend(
        [
            Route("/", staff_index, methods=["GET", "HEAD"], name="staff_web"),
            Mount("/staff", app=WebFiles(staff_dir, release, headers), name="staff_assets"),
        ]
    )
