"""Map layers for planners: hotspots."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Query
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime

from api.auth import PrincipalDep
from api.deps import SessionDep
from api.routers import api_router
from api.services import hotspots as hotspot_service

router = api_router("maps")

GEOJSON = "application/geo+json"


@router.get(
    "/map/hotspots",
    response_class=JSONResponse,
    responses={200: {"content": {GEOJSON: {}}, "description": "RFC 7946 FeatureCollection"}},
)
def map_hotspots(
    principal: PrincipalDep,
    session: SessionDep,
    resolution: Annotated[int, Query(ge=0, le=15, description="H3 resolution")] = (
        hotspot_service.DEFAULT_RESOLUTION
    ),
    category: Annotated[
        list[str] | None,
        Query(description="category codes (repeatable); default: all but positive_place"),
    ] = None,
    since: Annotated[AwareDatetime | None, Query(description="recorded at or after")] = None,
    until: Annotated[AwareDatetime | None, Query(description="recorded before")] = None,
    area_id: uuid.UUID | None = None,
) -> JSONResponse:
    """Observation counts per H3 cell with Getis-Ord Gi* z, p and an FDR hotspot class."""
    # A plain `def` route: Gi* and the outlines are CPU work, run in the threadpool.
    query = hotspot_service.HotspotQuery(
        resolution=resolution,
        categories=tuple(category) if category is not None else None,
        since=since,
        until=until,
        area_id=area_id,
    )
    result = hotspot_service.hotspot_map(session, principal.org_id, query)
    return JSONResponse(hotspot_service.feature_collection(result), media_type=GEOJSON)
