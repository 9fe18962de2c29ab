"""Map layers for planners: RFC 7946 FeatureCollections, streamed from the database.

Readers' routes (api/auth/readers_router.py): desktop GIS reads them with a personal access token, as a
Bearer token or as the password of HTTP Basic auth (QGIS's "Add vector layer" cannot send a
Bearer header); sign-in tokens work as before, and the policy table decides."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from typing import Annotated, Any

from fastapi import Depends, Query, Request
from fastapi.responses import Response
from pydantic import AwareDatetime
from sqlalchemy import Select
from sqlalchemy.orm import Session

from api.auth.principal import Principal
from api.auth.readers_router import ReaderDep, caller_key
from api.core.paging import clamp_limit
from api.http import byte_ranges
from api.http.bbox import parse_bbox
from api.http.deps import SessionDep, feed_connection
from api.http.paging import next_url
from api.http.routing import api_router
from api.outputs.maps import service as map_service
from api.privacy import sensitive
from api.walks.deps_router import ReaderWalk

router = api_router("maps")

GEOJSON = "application/geo+json"
MAP_PAGE_MAX = 10_000
MAP_PAGE_DEFAULT = 1_000
MapLimit = Annotated[int | None, Query(description=f"features a page (clamped to {MAP_PAGE_MAX})")]


BBox = Annotated[str | None, Query(description="minLon,minLat,maxLon,maxLat")]


@dataclass(frozen=True)
class FeedPage:
    n: int
    cursor: str | None


def whole_layer(limit: MapLimit = None, cursor: str | None = None) -> FeedPage:
    """A map reads a layer whole in one request: the default page is the largest one."""
    return FeedPage(clamp_limit(MAP_PAGE_MAX if limit is None else limit, MAP_PAGE_MAX), cursor)


def observations_layer(limit: MapLimit = None, cursor: str | None = None) -> FeedPage:
    """Observations come by the thousand unless asked for more."""
    n = clamp_limit(limit if limit is not None else MAP_PAGE_DEFAULT, MAP_PAGE_MAX)
    return FeedPage(n, cursor)


WholeLayer = Annotated[FeedPage, Depends(whole_layer)]


def feed_filter(
    bbox: BBox = None,
    category: str | None = None,
    area_id: uuid.UUID | None = None,
    status: Annotated[
        list[str] | None, Query(description="statuses (of observations: moderation states)")
    ] = None,
) -> map_service.FeedFilter:
    return map_service.FeedFilter(
        bbox=parse_bbox(bbox), category=category, area_id=area_id, status=status
    )


def observation_filter(
    f: Annotated[map_service.FeedFilter, Depends(feed_filter)],
    walk_id: uuid.UUID | None = None,
    since: AwareDatetime | None = None,
    until: AwareDatetime | None = None,
) -> map_service.FeedFilter:
    return replace(f, walk_id=walk_id, since=since, until=until)


@dataclass(frozen=True)
class MapRead:
    """One map request: who reads, the session the layer is chosen in, and the one way every
    layer is answered (a streamed FeatureCollection with its self and next links, kept for byte
    ranges under the caller's key)."""

    request: Request
    principal: Principal
    session: Session

    def answer(
        self,
        statements: list[Select[Any]],
        next_cursor: str | None,
        extra: dict[str, Any] | None = None,
    ) -> Response:
        request = self.request
        nxt = next_url(request, next_cursor)
        links = [{"href": str(request.url), "rel": "self", "type": GEOJSON}]
        headers = {"X-Content-Type-Options": "nosniff"}
        if nxt:
            links.append({"href": nxt, "rel": "next", "type": GEOJSON})
            headers["Link"] = f'<{nxt}>; rel="next"; type="{GEOJSON}"'
        members = {**(extra or {}), "links": links}
        return byte_ranges.serve(
            request,
            request.app.state.documents,
            (*caller_key(self.principal), str(request.url)),
            lambda: map_service.stream_collection(feed_connection(request), statements, members),
            media_type=GEOJSON,
            headers=headers,
        )


def map_read(request: Request, principal: ReaderDep, session: SessionDep) -> MapRead:
    return MapRead(request, principal, session)


MapReadDep = Annotated[MapRead, Depends(map_read)]


@router.get("/map/observations", response_class=Response, responses=byte_ranges.RESPONSES)
def map_observations(
    read: MapReadDep,
    page: Annotated[FeedPage, Depends(observations_layer)],
    f: Annotated[map_service.FeedFilter, Depends(observation_filter)],
) -> Response:
    feed = map_service.observations_page(
        read.session, read.principal, f, limit=page.n, cursor=page.cursor
    )
    return read.answer([feed.statement], feed.next_cursor)


@router.get("/map/action-items", response_class=Response, responses=byte_ranges.RESPONSES)
def map_action_items(
    read: MapReadDep,
    page: WholeLayer,
    f: Annotated[map_service.FeedFilter, Depends(feed_filter)],
) -> Response:
    view = sensitive.item_view(read.session, read.principal)
    feed = map_service.action_items_page(
        read.session, read.principal, f, limit=page.n, cursor=page.cursor, view=view
    )
    return read.answer([feed.statement], feed.next_cursor)


@router.get("/map/areas", response_class=Response, responses=byte_ranges.RESPONSES)
def map_areas(read: MapReadDep, page: WholeLayer) -> Response:
    feed = map_service.areas_page(read.session, read.principal, limit=page.n, cursor=page.cursor)
    return read.answer([feed.statement], feed.next_cursor)


@router.get("/map/assets", response_class=Response, responses=byte_ranges.RESPONSES)
def map_assets(
    read: MapReadDep, layer: WholeLayer, kind: str | None = None, bbox: BBox = None
) -> Response:
    """Street lights and other assets still in place; participants get their walk's area."""
    box = parse_bbox(bbox)
    page = map_service.assets_page(
        read.session, read.principal, kind=kind, bbox=box, limit=layer.n, cursor=layer.cursor
    )
    return read.answer([page.statement], page.next_cursor)


@router.get("/map/walks/{id}", response_class=Response, responses=byte_ranges.RESPONSES)
def map_walk(walk: ReaderWalk, read: MapReadDep, layer: WholeLayer) -> Response:
    """The walk's area, route and observations, in that order (``limit`` counts them all)."""
    page = map_service.walk_page(
        read.session, walk, read.principal, limit=layer.n, cursor=layer.cursor
    )
    extra = {
        "walk": {
            "id": str(walk.id),
            "title": walk.title,
            "status": str(walk.status),
            # The field app asks "fixed or still a problem?" only on a follow-up walk.
            "follow_up_of_id": str(walk.follow_up_of_id) if walk.follow_up_of_id else None,
            # How far from the area or route a point may be: the field app checks a position
            # against the features above before it queues an observation the server would refuse.
            "max_distance_m": read.request.app.state.settings.walk_max_distance_m,
        }
    }
    return read.answer(page.statements, page.next_cursor, extra)
