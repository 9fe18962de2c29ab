"""Map layers for planners: hotspots (a readers' route, as the other map feeds)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import AwareDatetime

from api.auth import policy
from api.auth.readers import ReaderDep, caller_key
from api.hotspots import service as hotspot_service
from api.http import byte_ranges
from api.http.deps import SessionDep
from api.http.routing import api_router

router = api_router("maps")

GEOJSON = "application/geo+json"


@router.get(
    "/map/hotspots",
    response_class=JSONResponse,
    responses={
        200: {"content": {GEOJSON: {}}, "description": "RFC 7946 FeatureCollection"},
        **byte_ranges.RESPONSES,
    },
)
def map_hotspots(
    request: Request,
    principal: ReaderDep,
    session: SessionDep,
    resolution: Annotated[
        int,
        Query(
            description=(
                f"H3 resolution, {hotspot_service.MIN_RESOLUTION} to "
                f"{hotspot_service.MAX_RESOLUTION} (stored for every observation)"
            )
        ),
    ] = hotspot_service.DEFAULT_RESOLUTION,
    category: Annotated[
        list[str] | None,
        Query(description="category codes (repeatable); default: all but positive_place"),
    ] = None,
    since: Annotated[AwareDatetime | None, Query(description="recorded at or after")] = None,
    until: Annotated[AwareDatetime | None, Query(description="recorded before")] = None,
    area_id: uuid.UUID | None = None,
) -> Response:
    """Observation counts per H3 cell with Getis-Ord Gi* z, p and an FDR hotspot class.

    Sensitive categories are binned at their generalised place except for coordinators and
    admins."""
    # A plain `def` route: Gi* and the outlines are CPU work, run in the threadpool.
    query = hotspot_service.HotspotQuery(
        resolution=resolution,
        categories=tuple(category) if category is not None else None,
        since=since,
        until=until,
        area_id=area_id,
        exact_places=principal.role in policy.COORDINATOR_PLUS,
    )

    def document() -> list[bytes]:
        result = hotspot_service.hotspot_map(session, principal.org_id, query)
        # JSON text written directly: no dict per cell (see feature_collection_json).
        return [hotspot_service.feature_collection_json(result)]

    # Whole, or by byte range for GDAL's /vsicurl/ as the other map feeds (byte_ranges.py).
    return byte_ranges.serve(
        request,
        request.app.state.documents,
        (*caller_key(principal), str(request.url)),
        document,
        media_type=GEOJSON,
    )
