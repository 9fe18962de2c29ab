"""Map layers for planners: hotspots (a readers' route, as the other map feeds)."""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Annotated

from fastapi import Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import AwareDatetime

from api.auth import policy
from api.auth.readers_router import ReaderDep, caller_key
from api.core.paging import clamp_limit, page_sorted
from api.hotspots import service as hotspot_service
from api.http import byte_ranges
from api.http.deps import SessionDep
from api.http.paging import next_url
from api.http.routing import api_router

router = api_router("maps")

GEOJSON = "application/geo+json"
# Every cell of a city at the finest resolution fits (about 17,000 in the benchmarks).
HOTSPOT_PAGE_MAX = 50_000


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
    limit: Annotated[
        int | None, Query(description=f"cells a page; default and most {HOTSPOT_PAGE_MAX}")
    ] = None,
    cursor: str | None = None,
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
    n = clamp_limit(HOTSPOT_PAGE_MAX if limit is None else limit, HOTSPOT_PAGE_MAX)

    def document() -> list[bytes]:
        result = hotspot_service.hotspot_map(session, principal.org_id, query)
        # Gi* needs every cell's neighbours, so the map is computed whole and then paged.
        cells, nxt = page_sorted(result.cells, hotspot_service.hottest_first, n, cursor)
        url = next_url(request, nxt)
        links = [{"href": url, "rel": "next", "type": GEOJSON}] if url else []
        # JSON text written directly: no dict per cell (see feature_collection_json).
        return [hotspot_service.feature_collection_json(replace(result, cells=cells), links)]

    # Whole, or by byte range for GDAL's /vsicurl/ as the other map feeds (byte_ranges.py).
    # The next page's link is in the document's links (a Link header would have to be known
    # before the document is rendered).
    return byte_ranges.serve(
        request,
        request.app.state.documents,
        (*caller_key(principal), str(request.url)),
        document,
        media_type=GEOJSON,
    )
