"""The printable join sheet's QR codes, as SVG: the walk's short join link, and the link to its
report back (printed before the walk, read after it: the page answers once it is published)."""

from __future__ import annotations

import io

from fastapi import Request, Response

from api.http.deps import SessionDep
from api.http.routing import api_router
from api.walks.deps_router import ValidWalk
from models import Organization

router = api_router("walks")

SVG = "image/svg+xml"


def join_link(request: Request, code: str) -> str:
    """``<origin>/j/{code}``: the configured public origin, else the one the caller reached."""
    origin = request.app.state.settings.public_url or str(request.base_url)
    return f"{origin.rstrip('/')}/j/{code}"


def report_back_link(request: Request, org_slug: str, walk_id: str) -> str:
    """``<origin>/public/{org_slug}/walks/{walk_id}``, the origin as for the join link."""
    path = request.app.url_path_for("report_back_page", org_slug=org_slug, walk_id=walk_id)
    origin = request.app.state.settings.public_url or str(request.base_url)
    return f"{origin.rstrip('/')}{path}"


def _svg(link: str) -> Response:
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


@router.get(
    "/walks/{id}/join-qr.svg",
    response_class=Response,
    responses={200: {"content": {SVG: {}}, "description": "QR code of the walk's join link"}},
)
def join_qr(walk: ValidWalk, request: Request) -> Response:
    return _svg(join_link(request, walk.join_code))


@router.get(
    "/walks/{id}/report-back-qr.svg",
    response_class=Response,
    responses={200: {"content": {SVG: {}}, "description": "QR code of the report back's link"}},
)
def report_back_qr(walk: ValidWalk, request: Request, session: SessionDep) -> Response:
    """The walk's report-back page link as a QR code, whether or not it is published yet."""
    org = session.get(Organization, walk.organization_id)
    assert org is not None
    return _svg(report_back_link(request, org.slug, str(walk.id)))
