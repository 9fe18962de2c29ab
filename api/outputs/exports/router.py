"""Export routes: ``?format=xlsx|gpkg|pdf`` of an area's action list (answered through the
action list route) and ``/walks/{id}/report.pdf``. Thin: gather, write, attach."""

from __future__ import annotations

import uuid
from typing import Literal
from urllib.parse import quote

from fastapi import Request, Response
from sqlalchemy.orm import Session

from api.auth.deps import PrincipalDep
from api.core.media import MediaStore
from api.http.deps import SessionDep, SettingsDep
from api.http.routing import api_router
from api.outputs.exports import data, gpkg, pdf, xlsx
from api.outputs.open311.links import media_url_builder
from api.walks.deps import ValidWalk
from models import Area, Organization

router = api_router("exports")

ExportFormat = Literal["xlsx", "gpkg", "pdf"]
EXPORT_FORMATS: tuple[str, ...] = ("xlsx", "gpkg", "pdf")
MEDIA_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "gpkg": "application/geopackage+sqlite3",
    "pdf": "application/pdf",
}


def _attachment(body: bytes, fmt: str, stem: str) -> Response:
    filename = f"{stem.replace(' ', '_').replace('/', '_')}.{fmt}"
    return Response(
        content=body,
        media_type=MEDIA_TYPES[fmt],
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}",
            "Cache-Control": "private, no-store",
        },
    )


def area_export(
    request: Request,
    session: Session,
    org_id: uuid.UUID,
    area: Area,
    fmt: str,
    include_closed: bool,
    *,
    full: bool,
) -> Response:
    """``full``: the caller sees sensitive places as they are (api.privacy.sensitive)."""
    org = session.get(Organization, org_id)
    assert org is not None
    listing = data.area_listing(session, org, area, include_closed=include_closed, full=full)
    if fmt == "xlsx":
        body = xlsx.action_list_xlsx(listing, media_url_builder(request, org))
    elif fmt == "gpkg":
        body = gpkg.action_list_gpkg(listing)
    else:
        body = pdf.action_list_pdf(listing)
    return _attachment(body, fmt, f"action-list-{area.code or area.name}")


@router.get(
    "/walks/{id}/report.pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
def walk_report(
    walk: ValidWalk, principal: PrincipalDep, session: SessionDep, settings: SettingsDep
) -> Response:
    """Cover (date, darkness, participant groups counted, never names), a map of the area,
    route and numbered observations, the observations with thumbnails, the action list."""
    org = session.get(Organization, principal.org_id)
    assert org is not None
    listing = data.walk_listing(session, org, walk)
    body = pdf.walk_report_pdf(listing, MediaStore(settings.resolved_media_dir))
    return _attachment(body, "pdf", f"walk-report-{walk.title}")
