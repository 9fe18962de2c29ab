"""Map layers for planners: RFC 7946 FeatureCollections, streamed from the database.

Readers' routes (api/auth/readers_router.py): desktop GIS reads them with a personal access token, as a
Bearer token or as the password of HTTP Basic auth (QGIS's "Add vector layer" cannot send a
Bearer header); sign-in tokens work as before, and the policy table decides."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import Query, Request
from fastapi.responses import Response
from pydantic import AwareDatetime
from sqlalchemy import Select

from api.auth.principal import Principal
from api.auth.readers_router import ReaderDep, caller_key
from api.core.paging import clamp_limit
from api.http import byte_ranges
from api.http.deps import SessionDep, feed_connection
from api.http.paging import next_url
from api.http.routing import api_router
from api.observations.service import parse_bbox
from api.outputs.maps import service as map_service
from api.privacy import sensitive
from api.walks.deps_router import ReaderWalk

router = api_router("maps")

GEOJSON = "application/geo+json"
MAP_PAGE_MAX = 10_000
MAP_PAGE_DEFAULT = 1_000
MapLimit = Annotated[int | None, Query(description=f"features a page (clamped to {MAP_PAGE_MAX})")]


def _whole(limit: int | None) -> int:
    """A map reads a layer whole in one request: the default page is the largest one."""
    return clamp_limit(MAP_PAGE_MAX if limit is None else limit, MAP_PAGE_MAX)


def _response(
    request: Request,
    principal: Principal,
    statements: list[Select[Any]],
    extra: dict[str, Any],
    next_cursor: str | None = None,
) -> Response:
    nxt = next_url(request, next_cursor)
    links = [{"href": str(request.url), "rel": "self", "type": GEOJSON}]
    headers = {"X-Content-Type-Options": "nosniff"}
    if nxt:
        links.append({"href": nxt, "rel": "next", "type": GEOJSON})
        headers["Link"] = f'<{nxt}>; rel="next"; type="{GEOJSON}"'
    return byte_ranges.serve(
        request,
        request.app.state.documents,
        (*caller_key(principal), str(request.url)),
        lambda: map_service.stream_collection(
            feed_connection(request), statements, {**extra, "links": links}
        ),
        media_type=GEOJSON,
        headers=headers,
    )


@router.get("/map/observations", response_class=Response, responses=byte_ranges.RESPONSES)
def map_observations(
    request: Request,
    principal: ReaderDep,
    session: SessionDep,
    bbox: str | None = Query(default=None, description="minLon,minLat,maxLon,maxLat"),
    category: str | None = None,
    area_id: uuid.UUID | None = None,
    walk_id: uuid.UUID | None = None,
    status: Annotated[list[str] | None, Query(description="moderation states")] = None,
    since: AwareDatetime | None = None,
    until: AwareDatetime | None = None,
    limit: int | None = None,
    cursor: str | None = None,
) -> Response:
    n = clamp_limit(limit if limit is not None else MAP_PAGE_DEFAULT, MAP_PAGE_MAX)
    f = map_service.FeedFilter(
        bbox=parse_bbox(bbox),
        category=category,
        area_id=area_id,
        walk_id=walk_id,
        status=status,
        since=since,
        until=until,
    )
    page = map_service.observations_page(session, principal, f, limit=n, cursor=cursor)
    return _response(request, principal, [page.statement], {}, page.next_cursor)


@router.get("/map/action-items", response_class=Response, responses=byte_ranges.RESPONSES)
def map_action_items(
    request: Request,
    principal: ReaderDep,
    session: SessionDep,
    bbox: str | None = Query(default=None, description="minLon,minLat,maxLon,maxLat"),
    category: str | None = None,
    area_id: uuid.UUID | None = None,
    status: Annotated[list[str] | None, Query()] = None,
    limit: MapLimit = None,
    cursor: str | None = None,
) -> Response:
    f = map_service.FeedFilter(
        bbox=parse_bbox(bbox), category=category, area_id=area_id, status=status
    )
    view = sensitive.item_view(session, principal)
    page = map_service.action_items_page(
        session, principal, f, limit=_whole(limit), cursor=cursor, view=view
    )
    return _response(request, principal, [page.statement], {}, page.next_cursor)


@router.get("/map/areas", response_class=Response, responses=byte_ranges.RESPONSES)
def map_areas(
    request: Request,
    principal: ReaderDep,
    session: SessionDep,
    limit: MapLimit = None,
    cursor: str | None = None,
) -> Response:
    page = map_service.areas_page(session, principal, limit=_whole(limit), cursor=cursor)
    return _response(request, principal, [page.statement], {}, page.next_cursor)


@router.get("/map/assets", response_class=Response, responses=byte_ranges.RESPONSES)
def map_assets(
    request: Request,
    principal: ReaderDep,
    session: SessionDep,
    kind: str | None = None,
    bbox: str | None = Query(default=None, description="minLon,minLat,maxLon,maxLat"),
    limit: MapLimit = None,
    cursor: str | None = None,
) -> Response:
    """Street lights and other assets still in place; participants get their walk's area."""
    page = map_service.assets_page(
        session, principal, kind=kind, bbox=parse_bbox(bbox), limit=_whole(limit), cursor=cursor
    )
    return _response(request, principal, [page.statement], {}, page.next_cursor)


@router.get("/map/walks/{id}", response_class=Response, responses=byte_ranges.RESPONSES)
def map_walk(
    request: Request,
    walk: ReaderWalk,
    principal: ReaderDep,
    session: SessionDep,
    limit: MapLimit = None,
    cursor: str | None = None,
) -> Response:
    """The walk's area, route and observations, in that order (``limit`` counts them all)."""
    page = map_service.walk_page(session, walk, principal, limit=_whole(limit), cursor=cursor)
    extra = {
        "walk": {
            "id": str(walk.id),
            "title": walk.title,
            "status": str(walk.status),
            # The field app asks "fixed or still a problem?" only on a follow-up walk.
            "follow_up_of_id": str(walk.follow_up_of_id) if walk.follow_up_of_id else None,
        }
    }
    return _response(request, principal, page.statements, extra, page.next_cursor)
