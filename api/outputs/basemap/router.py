"""/basemap: the MapLibre style every map starts from, its TileJSON, and the imported file's
tiles, all from the service's own origin. 204 where the file has no tile."""

from __future__ import annotations

import hashlib
import json
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import RedirectResponse

from api.core.errors import NotFound
from api.http.deps import SettingsDep
from api.outputs.basemap import service
from api.outputs.basemap.archive import MEDIA_TYPES, decompressed

router = APIRouter(prefix="/basemap", tags=["basemap"])

OrgQuery = Annotated[
    str | None,
    Query(description="An organization's slug: its own basemap, else the service's."),
]
# A tile URL names the file's version, so a tile may be kept for good; an old version's URL
# (a style fetched before a new import) is answered from the new file, briefly cached.
IMMUTABLE = "public, max-age=31536000, immutable"
BRIEF = "public, max-age=300"
_NOT_MODIFIED = {"description": "Not modified (If-None-Match)"}


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _json(request: Request, body: object) -> Response:
    data = json.dumps(body, separators=(",", ":")).encode()
    etag = '"' + hashlib.sha256(data).hexdigest()[:32] + '"'
    headers = {"ETag": etag, "Cache-Control": "no-cache"}
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    return Response(data, media_type="application/json", headers=headers)


def _json_responses(description: str, redirect: str | None = None) -> dict[int | str, Any]:
    """A JSON document with an ETag (200, or 304 to a matching If-None-Match), or a redirect."""
    out: dict[int | str, Any] = {
        200: {"description": description, "content": {"application/json": {}}},
        304: _NOT_MODIFIED,
    }
    if redirect is not None:
        out[307] = {"description": redirect}
    return out


@router.get(
    "/style.json",
    response_class=Response,
    responses=_json_responses(
        "A MapLibre style (version 8)", "The configured remote style (`SAFEWALK_BASEMAP_URL`)"
    ),
)
def basemap_style(request: Request, settings: SettingsDep, org: OrgQuery = None) -> Response:
    basemap = service.find(settings.data_dir, org)
    if basemap is None and service.is_style_url(settings.basemap_url):
        return RedirectResponse(settings.basemap_url, status_code=307)
    body = service.style(
        _base(request),
        basemap,
        remote_url=settings.basemap_url,
        remote_attribution=settings.basemap_attribution,
    )
    return _json(request, body)


@router.get("/tiles.json", response_class=Response, responses=_json_responses("TileJSON 3.0.0"))
def basemap_tilejson(request: Request, settings: SettingsDep, org: OrgQuery = None) -> Response:
    basemap = service.find(settings.data_dir, org)
    if basemap is None:
        raise NotFound(key="error.no_basemap")
    return _json(request, service.tilejson(_base(request), basemap))


def _tile_number(name: str, value: str) -> int:
    if not value.isdigit() or len(value) > 9:
        raise NotFound(
            key="error.no_such_tile",
            errors=[{"loc": ["path", name], "key": "error.not_a_tile_number"}],
        )
    return int(value)


@router.get(
    "/{z}/{x}/{y}.{ext}",
    response_class=Response,
    responses={
        200: {"description": "The tile", "content": {t: {} for t in MEDIA_TYPES.values()}},
        204: {"description": "The file has no tile here"},
        304: _NOT_MODIFIED,
    },
)
def basemap_tile(
    z: str,
    x: str,
    y: str,
    ext: str,
    request: Request,
    settings: SettingsDep,
    org: OrgQuery = None,
    v: Annotated[str | None, Query(description="The file's version, from the style.")] = None,
) -> Response:
    tz, tx, ty = (_tile_number(n, s) for n, s in (("z", z), ("x", x), ("y", y)))
    basemap = service.find(settings.data_dir, org)
    if basemap is None or ext not in MEDIA_TYPES:
        raise NotFound(key="error.no_tile_no_basemap")
    data = service.tile(basemap, tz, tx, ty, ext)
    headers = {
        "Cache-Control": IMMUTABLE if v == basemap.version else BRIEF,
        "ETag": f'"{basemap.version}-{tz}-{tx}-{ty}"',
        "Vary": "Accept-Encoding",
    }
    if headers["ETag"] in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    if not data:
        return Response(status_code=204, headers=headers)
    if data.startswith(b"\x1f\x8b"):
        # Vector tiles are usually stored gzipped: handed on as they are where the client
        # takes gzip (every browser), unpacked for the rest.
        if "gzip" in request.headers.get("accept-encoding", ""):
            headers["Content-Encoding"] = "gzip"
        else:
            data = decompressed(data)
    return Response(data, media_type=MEDIA_TYPES[ext], headers=headers)
