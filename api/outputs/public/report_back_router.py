"""``/public/{org_slug}/walks/{walk_id}``: a walk's report back, for anyone with the link once a
coordinator published it (404 before and after). HTML for people, the same as JSON (``.json``,
``?format=json`` or ``Accept: application/json``: what the field app reads) and as a PDF
(``?format=pdf``). Unlisted: not linked from anywhere, not for search engines, revalidated on
every read so a withdrawal holds at once."""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Literal

from fastapi import APIRouter, Request, Response

from api.core.errors import NotFound
from api.core.i18n import pick_language
from api.core.media import PhotoSize
from api.http.deps import MediaDep, SessionDep
from api.http.routing import LANGUAGE_PATH  # noqa: F401 - registers {…:lang}
from api.outputs.public import report_back as service
from api.outputs.public import report_back_page
from api.photos.service import photo_file
from models import Photo

router = APIRouter(prefix="/public", tags=["public"])

Lang = Literal["nb", "nn", "sv", "da", "fi", "en"] | None
Format = Literal["html", "json", "pdf"] | None

_JSON = "application/json"


def _wants_json(request: Request) -> bool:
    """An Accept header that names JSON and not HTML (a browser names HTML)."""
    accept = request.headers.get("accept", "").lower()
    return _JSON in accept and "text/html" not in accept


def _respond(request: Request, body: bytes, media_type: str, **extra: str) -> Response:
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    headers = {
        "Cache-Control": "no-cache",
        "ETag": etag,
        "Vary": "Accept, Accept-Language",
        "X-Content-Type-Options": "nosniff",
        "X-Robots-Tag": "noindex, nofollow",
        # The link is the key to an unlisted page: never sent on to another site.
        "Referrer-Policy": "no-referrer",
        **extra,
    }
    if etag in {t.strip() for t in request.headers.get("if-none-match", "").split(",")}:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=media_type, headers=headers)


def _render(
    request: Request, session: SessionDep, org_slug: str, walk_id: uuid.UUID, fmt: str, lang: Lang
) -> Response:
    org, walk = service.published_walk(session, org_slug, walk_id)
    language = lang or str(pick_language(request.headers.get("accept-language"), org.language))
    report = service.report_back(session, org, walk)
    if fmt == "json":
        body = json.dumps(service.as_json(report, language), ensure_ascii=False)
        return _respond(request, body.encode("utf-8"), _JSON)
    if fmt == "pdf":
        from api.outputs.exports.report_back_pdf import report_back_pdf  # ReportLab: on demand

        return _respond(
            request,
            report_back_pdf(report, language),
            "application/pdf",
            **{"Content-Disposition": f'inline; filename="report-back-{walk.id}.pdf"'},
        )
    html = report_back_page.page(report, language)
    return _respond(request, html.encode("utf-8"), "text/html; charset=utf-8")


# Before the page's own route: "{walk_id}.json" would otherwise be read as a walk id.
@router.get(
    "/{org_slug}/walks/{walk_id}.json",
    response_class=Response,
    summary="A walk's report back as JSON",
    responses={200: {"content": {_JSON: {}}}},
)
def report_back_json(
    org_slug: str, walk_id: uuid.UUID, request: Request, session: SessionDep, lang: Lang = None
) -> Response:
    return _render(request, session, org_slug, walk_id, "json", lang)


@router.get(
    "/{org_slug}/walks/{walk_id}",
    response_class=Response,
    name="report_back_page",
    summary="A walk's report back",
    responses={200: {"content": {"text/html": {}, _JSON: {}, "application/pdf": {}}}},
)
def report_back_page_route(
    org_slug: str,
    walk_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    format: Format = None,
    lang: Lang = None,
) -> Response:
    """Each of the walk's observations' action items with status, due and done dates, the
    resolution note, whom it was referred to or why it was declined; with a later walk in the
    same area, which items it verified, found still a problem, or found new. Never who
    reported, never a sensitive category, never a participant's note."""
    fmt = format or ("json" if _wants_json(request) else "html")
    return _render(request, session, org_slug, walk_id, fmt, lang)


@router.get(
    "/{org_slug}/{language:lang}/walks/{walk_id}",
    response_class=Response,
    summary="A walk's report back in a language",
    responses={200: {"content": {"text/html": {}, _JSON: {}, "application/pdf": {}}}},
)
def report_back_page_in(
    org_slug: str,
    language: str,
    walk_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    format: Format = None,
) -> Response:
    fmt = format or ("json" if _wants_json(request) else "html")
    return _render(request, session, org_slug, walk_id, fmt, language)  # type: ignore[arg-type]


@router.get(
    "/{org_slug}/walks/{walk_id}/photos/{photo_id}",
    response_class=Response,
    summary="A fix photo on a walk's report back",
    responses={200: {"content": {"image/jpeg": {}, "image/webp": {}, "image/png": {}}}},
)
def report_back_photo(
    org_slug: str,
    walk_id: uuid.UUID,
    photo_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    store: MediaDep,
) -> Response:
    """A metadata-free thumbnail of a fix photo the published report back shows (the
    organization shows them: ``report_back_photos``); 404 for any other photo."""
    org, walk = service.published_walk(session, org_slug, walk_id)
    report = service.report_back(session, org, walk)
    if not any(photo_id in i.photo_ids for i in report.items):
        raise NotFound(key="error.no_such_report_back_photo")
    photo = session.get(Photo, photo_id)
    if photo is None:
        raise NotFound(key="error.no_such_report_back_photo")
    found = photo_file(store, photo, PhotoSize.thumb)
    return _respond(request, found.data, found.media_type)
