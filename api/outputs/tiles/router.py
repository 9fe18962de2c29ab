"""/tiles: one MVT per layer and tile, a TileJSON per layer. 204 for an empty tile; every
tile carries an ETag (a repeat with If-None-Match is a 304) and private cache headers."""

from __future__ import annotations

import hashlib
from typing import Any

from fastapi import APIRouter, Depends, Request, Response

from api.auth.readers_router import ReaderDep, enforce_reader_policy
from api.http.deps import SessionDep
from api.outputs.ogc import service as ogc
from api.outputs.tiles import service as tiles

router = APIRouter(prefix="/tiles", tags=["tiles"], dependencies=[Depends(enforce_reader_policy)])

MVT = "application/vnd.mapbox-vector-tile"
# Tiles hold what this caller may see: caches on the way must not share them.
CACHE = "private, max-age=60, must-revalidate"


@router.get("/{layer}/{z}/{x}/{y}.mvt", response_class=Response)
def tile(
    layer: str, z: str, x: str, y: str, request: Request, principal: ReaderDep, session: SessionDep
) -> Response:
    c = tiles.layer(layer)  # an unknown layer is a 404 first
    t = tiles.parse_tile(z, x, y)
    data = tiles.render(session, principal, c, t)
    etag = '"' + hashlib.sha256(data).hexdigest()[:32] + '"'
    headers = {"ETag": etag, "Cache-Control": CACHE, "Vary": "Authorization"}
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    if not data:
        return Response(status_code=204, headers=headers)
    return Response(data, media_type=MVT, headers=headers)


@router.get("/{layer}.json")
def tilejson(
    layer: str, request: Request, principal: ReaderDep, session: SessionDep
) -> dict[str, Any]:
    c = tiles.layer(layer)
    bbox = ogc.extent(session, principal, c)["spatial"]["bbox"][0]
    base = str(request.base_url).rstrip("/")
    return {
        "tilejson": "3.0.0",
        "name": c.title,
        "description": c.description,
        "scheme": "xyz",
        "tiles": [f"{base}/tiles/{c.id}/{{z}}/{{x}}/{{y}}.mvt"],
        "minzoom": 0,
        "maxzoom": tiles.MAX_ZOOM,
        "bounds": bbox,
        "vector_layers": [{"id": c.id, "description": c.description, "fields": tiles.fields(c)}],
    }
