"""Export routes: the area's action list in every format (JSON and CSV from the action list's
reads, ``?format=xlsx|gpkg|pdf`` written here) and ``/walks/{id}/report.pdf``. Thin: gather,
write, attach."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import Query, Request, Response
from sqlalchemy.orm import Session

from api.action_items import reads
from api.areas.deps_router import ValidArea
from api.auth.deps_router import PrincipalDep
from api.core.errors import InvalidInput
from api.core.media import MediaStore
from api.core.signing import EXPORT_TTL, PhotoSigner
from api.http.deps import PageDep, SessionDep, SettingsDep, SignerDep
from api.http.export_links import media_url_builder
from api.http.paging import next_url
from api.http.problems import request_language
from api.http.routing import API_PREFIX, api_router
from api.outputs.exports import data
from api.privacy import sensitive
from api.walks.deps_router import ValidWalk
from models import Area, Organization
from models.action_items import ActionListRead

router = api_router("exports")
# The area's action list answers here in every format, beside the writers of the files; it is
# documented with the action list's other routes.
action_list_router = api_router("action-items")

ExportFormat = Literal["xlsx", "gpkg", "pdf"]
EXPORT_FORMATS: tuple[str, ...] = ("xlsx", "gpkg", "pdf")
CSV_DELIMITERS = {"semicolon": ";", "comma": ","}
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
    listing = data.area_listing(
        session, org, area, include_closed=include_closed, full=full, lang=request_language(request)
    )
    # The writers import openpyxl, pyogrio (which pulls in pandas and geopandas) and ReportLab:
    # 150 MB that an idle worker should not carry for the one request in a thousand that asks.
    if fmt == "xlsx":
        from api.outputs.exports import xlsx

        body = xlsx.action_list_xlsx(listing, media_url_builder(request, org))
    elif fmt == "gpkg":
        from api.outputs.exports import gpkg

        body = gpkg.action_list_gpkg(listing)
    else:
        from api.outputs.exports import pdf

        body = pdf.action_list_pdf(listing)
    return _attachment(body, fmt, f"action-list-{area.code or area.name}")


@router.get(
    "/walks/{id}/report.pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
def walk_report(
    request: Request,
    walk: ValidWalk,
    principal: PrincipalDep,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    """Cover (date, darkness, participant groups counted, never names), a map of the area,
    route and numbered observations, the observations with thumbnails, the action list."""
    org = session.get(Organization, principal.org_id)
    assert org is not None
    listing = data.walk_listing(session, org, walk, lang=request_language(request))
    from api.outputs.exports import pdf  # heavy; see action_list_export

    body = pdf.walk_report_pdf(listing, MediaStore(settings.resolved_media_dir))
    return _attachment(body, "pdf", f"walk-report-{walk.title}")


@action_list_router.get(
    "/areas/{id}/action-list",
    response_model=ActionListRead,
    responses={200: {"content": {"text/csv": {}}, "description": "JSON, or CSV with format=csv"}},
)
def area_action_list(
    request: Request,
    area: ValidArea,
    principal: PrincipalDep,
    session: SessionDep,
    signer: SignerDep,
    page: PageDep,
    format: Literal["json", "csv", "xlsx", "gpkg", "pdf"] = "json",
    delimiter: Annotated[
        Literal["semicolon", "comma"] | None,
        Query(description="CSV: semicolons with decimal commas, or commas with decimal points"),
    ] = None,
    include_closed: bool = False,
) -> Any:
    """The area's items by priority, ``limit`` at a time (``counts`` are the whole list's).
    ``format=csv``: a spreadsheet in the caller's language (UTF-8 with BOM; in English commas
    and decimal points, in Norwegian semicolons and decimal commas, unless ``delimiter`` says
    otherwise), photos as links valid for days. An export holds every item: ``limit`` and
    ``cursor`` page the JSON list only."""
    if format != "json":
        for name in ("limit", "cursor"):
            if name in request.query_params:
                raise InvalidInput.at(["query", name], "error.export_not_paged")
    if format in EXPORT_FORMATS:  # spreadsheet, GeoPackage, PDF
        return area_export(
            request, session, principal.org_id, area, format, include_closed,
            full=sensitive.full_detail(principal),
        )  # fmt: skip
    paged = format == "json"
    listing = reads.area_list(
        session, area, include_closed=include_closed, principal=principal, signer=signer,
        n=page.n if paged else None, cursor=page.cursor if paged else None,
    )  # fmt: skip
    nxt = listing.pop("next_cursor")
    if format == "csv":
        # Links in a spreadsheet are opened later and elsewhere: absolute, valid for days.
        export_signer = PhotoSigner(
            request.app.state.secret, str(request.base_url).rstrip("/") + API_PREFIX, EXPORT_TTL
        )
        lang = request_language(request)
        sep = reads.csv_delimiter(lang) if delimiter is None else CSV_DELIMITERS[delimiter]
        body = reads.area_list_csv(
            session,
            listing,
            sep,
            lang,
            export_signer,
            full=sensitive.full_detail(principal),
        )
        filename = f"action-list-{(area.code or area.name).replace(' ', '_')}.csv"
        return Response(
            content=body.encode("utf-8"),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}"},
        )
    return ActionListRead.model_validate({**listing, "next": next_url(request, nxt)})
