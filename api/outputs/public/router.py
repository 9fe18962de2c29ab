"""``/public/{org_slug}/``: the published follow-up, for anyone, when the organization turns
it on. HTML per area and a GeoJSON feed; cacheable (``Cache-Control``, ``ETag``, 304)."""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response

from api.core.i18n import pick_language
from api.core.paging import clamp_limit
from api.http.deps import SessionDep
from api.http.paging import next_url
from api.outputs.public import pages, service

router = APIRouter(prefix="/public", tags=["public"])

MAX_AGE_S = 300
GEOJSON = "application/geo+json"
# A map reads the whole feed in one request; an organization has far fewer published items.
FEED_PAGE_MAX = 10_000
Lang = Literal["nb", "en"] | None


def _language(request: Request, lang: Lang, default: object) -> str:
    if lang is not None:
        return lang
    return str(pick_language(request.headers.get("accept-language"), str(default)))


def _cached(request: Request, body: bytes, media_type: str) -> Response:
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    headers = {
        "Cache-Control": f"public, max-age={MAX_AGE_S}",
        "ETag": etag,
        "Vary": "Accept-Language",
        "X-Content-Type-Options": "nosniff",
    }
    if etag in {t.strip() for t in request.headers.get("if-none-match", "").split(",")}:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=media_type, headers=headers)


@router.get("/{org_slug}/", response_class=Response, summary="The published follow-up")
def index(org_slug: str, request: Request, session: SessionDep, lang: Lang = None) -> Response:
    org = service.published_organization(session, org_slug)
    language = _language(request, lang, org.language)
    html = pages.index_page(org, service.areas(session, org), service.items(session, org), language)
    return _cached(request, html.encode("utf-8"), "text/html; charset=utf-8")


@router.get("/{org_slug}/areas/{area_id}", response_class=Response, summary="One area")
def area_page(
    org_slug: str, area_id: uuid.UUID, request: Request, session: SessionDep, lang: Lang = None
) -> Response:
    org = service.published_organization(session, org_slug)
    language = _language(request, lang, org.language)
    area = service.area(session, org, area_id)
    html = pages.area_page(org, area, service.items(session, org, area.id), language)
    return _cached(request, html.encode("utf-8"), "text/html; charset=utf-8")


@router.get("/{org_slug}/action-items.geojson", response_class=Response, summary="Published items")
def feed(
    org_slug: str,
    request: Request,
    session: SessionDep,
    area_id: uuid.UUID | None = None,
    lang: Lang = None,
    limit: Annotated[int | None, Query(description=f"default and most: {FEED_PAGE_MAX}")] = None,
    cursor: str | None = None,
) -> Response:
    """The published items as GeoJSON, oldest first; the next page in ``links`` and in the
    ``Link`` header."""
    org = service.published_organization(session, org_slug)
    language = _language(request, lang, org.language)
    n = clamp_limit(FEED_PAGE_MAX if limit is None else limit, FEED_PAGE_MAX)
    rows, nxt = service.items_page(session, org, area_id, n, cursor)
    url = next_url(request, nxt)
    links = [{"href": url, "rel": "next", "type": GEOJSON}] if url else None
    body = json.dumps(service.feature_collection(rows, language, links), ensure_ascii=False)
    response = _cached(request, body.encode("utf-8"), GEOJSON)
    if url:
        response.headers["Link"] = f'<{url}>; rel="next"; type="{GEOJSON}"'
    return response
