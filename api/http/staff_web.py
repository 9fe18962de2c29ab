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
from starlette.responses import HTMLResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from api.http.csp import page_policy
from api.settings import Settings

WEB_DIR = Path(__file__).resolve().parents[2] / "web"

log = logging.getLogger("safewalk")


def _security_headers(csp: str) -> dict[str, str]:
    return {
        "Content-Security-Policy": csp,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-cache",
    }


def mount_staff_web(app: FastAPI, settings: Settings) -> None:
    headers = _security_headers(page_policy(settings.basemap_origin))
    web = settings.web_dir or WEB_DIR
    staff_dir = web / "staff"
    if not (staff_dir / "index.html").is_file():
        # An API-only deployment still serves the API.
        log.warning("staff web not found at %s: / is not served", staff_dir)
        return
    index = (staff_dir / "index.html").read_text(encoding="utf-8")

    async def staff_index(request: Request) -> Response:
        return HTMLResponse(index, headers=headers)

    app.router.routes.extend(
        [
            Route("/", staff_index, methods=["GET", "HEAD"], name="staff_web"),
            Mount("/staff", app=StaticFiles(directory=staff_dir), name="staff_assets"),
        ]
    )
