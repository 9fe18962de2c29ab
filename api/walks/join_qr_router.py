"""The printable join sheet's QR code: the walk's short join link, as SVG."""

from __future__ import annotations

import io

from fastapi import Request, Response

from api.http.routing import api_router
from api.walks.deps import ValidWalk

router = api_router("walks")

SVG = "image/svg+xml"


def join_link(request: Request, code: str) -> str:
    """``<origin>/j/{code}``: the configured public origin, else the one the caller reached."""
    origin = request.app.state.settings.public_url or str(request.base_url)
    return f"{origin.rstrip('/')}/j/{code}"


@router.get(
    "/walks/{id}/join-qr.svg",
    response_class=Response,
    responses={200: {"content": {SVG: {}}, "description": "QR code of the walk's join link"}},
)
def join_qr(walk: ValidWalk, request: Request) -> Response:
    link = join_link(request, walk.join_code)
    # Error correction M survives a crease or a smudge on a printed sheet; a quiet zone of 4
    # modules is what scanners expect.
    import segno  # imported by the request that draws one

    qr = segno.make_qr(link, error="m")
    out = io.BytesIO()
    qr.save(out, kind="svg", scale=10, border=4, title=link, xmldecl=False)
    return Response(
        out.getvalue(),
        media_type=SVG,
        headers={"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"},
    )
