"""Assets (street lights): import, list, one asset with its history, where other owners'
items go, and the dark gaps along walks' routes."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import JSONResponse, Response

from api.areas.deps_router import ValidArea
from api.assets import service as asset_service
from api.assets.importer import ImportOptions
from api.auth.deps_router import PrincipalDep
from api.core.errors import PayloadTooLarge
from api.core.paging import Page, page_sorted
from api.http.bbox import parse_bbox
from api.http.deps import PageDep, PageQuery, SessionDep
from api.http.paging import next_url
from api.http.routing import api_router
from api.walks.deps_router import ValidWalk
from models import Asset, AssetOwner, AssetStatus
from models.assets import (
    ASSET_KIND_PATTERN,
    AssetImportReport,
    AssetOwnerRouteIn,
    AssetOwnerRouteRead,
    AssetRead,
)

router = api_router("assets")

GEOJSON = "application/geo+json"
# An import of a municipality's lamps: 50 000 points of GeoJSON are about 15 MB.
MAX_IMPORT_BYTES = 64 * 1024 * 1024
MaxGap = Annotated[float, Query(gt=0, le=500, description="metres from the nearest lamp")]


def valid_asset(id: uuid.UUID, principal: PrincipalDep, session: SessionDep) -> Asset:
    return asset_service.get_asset(session, principal.org_id, id)


ValidAsset = Annotated[Asset, Depends(valid_asset)]


@router.post(
    "/assets/import",
    response_model=AssetImportReport,
    responses={422: {"description": "refused features: nothing was written"}},
)
def import_assets(
    principal: PrincipalDep,
    session: SessionDep,
    file: Annotated[UploadFile, File(description="GeoJSON, GeoPackage or CSV")],
    kind: Annotated[str, Form(pattern=ASSET_KIND_PATTERN)],
    id_property: Annotated[str | None, Form(min_length=1, max_length=100)] = None,
    owner_property: Annotated[str | None, Form(min_length=1, max_length=100)] = None,
    crs: Annotated[str | None, Form(min_length=1, max_length=100)] = None,
    x_column: Annotated[str | None, Form(min_length=1, max_length=100)] = None,
    y_column: Annotated[str | None, Form(min_length=1, max_length=100)] = None,
    full: Annotated[bool, Form()] = False,
    skip_invalid: Annotated[bool, Form()] = False,
) -> AssetImportReport:
    """All or nothing unless ``skip_invalid``; re-imports update by ``external_id``."""
    data = file.file.read(MAX_IMPORT_BYTES + 1)
    if len(data) > MAX_IMPORT_BYTES:
        raise PayloadTooLarge(key="error.file_too_large", params={"limit": MAX_IMPORT_BYTES})
    options = ImportOptions(id_property, owner_property, crs, x_column, y_column)
    return asset_service.import_assets(
        session, principal.org_id, data, file.filename,
        kind=kind, options=options, full=full, skip_invalid=skip_invalid,
    )  # fmt: skip


@router.get("/assets", response_model=Page[AssetRead])
def list_assets(
    request: Request,
    principal: PrincipalDep,
    session: SessionDep,
    kind: str | None = None,
    bbox: str | None = Query(default=None, description="minLon,minLat,maxLon,maxLat"),
    status: Annotated[list[AssetStatus] | None, Query()] = None,
    owner: Annotated[list[AssetOwner] | None, Query()] = None,
    limit: int | None = None,
    cursor: str | None = None,
) -> Page[AssetRead]:
    rows, nxt = asset_service.list_assets(
        session, principal.org_id, kind=kind, bbox=parse_bbox(bbox), status=status or [],
        owner=owner or [], limit=limit, cursor=cursor,
        maximum=request.app.state.settings.page_size_max,
    )  # fmt: skip
    return Page[AssetRead](items=asset_service.to_reads(session, rows), next=next_url(request, nxt))


@router.get("/assets/{id}", response_model=AssetRead)
def get_asset(asset: ValidAsset, session: SessionDep) -> AssetRead:
    return asset_service.to_read(session, asset)


@router.get("/asset-owners", response_model=Page[AssetOwnerRouteRead])
def list_owner_routes(
    request: Request,
    principal: PrincipalDep,
    session: SessionDep,
    page: PageDep,
) -> Page[AssetOwnerRouteRead]:
    """Where items on other owners' assets are sent (one Open311 endpoint per owner)."""
    routes = asset_service.list_routes(session, principal.org_id)
    shown, nxt = page_sorted(routes, lambda r: [str(r.owner)], page.n, page.cursor)
    return Page[AssetOwnerRouteRead](
        items=[asset_service.route_read(r) for r in shown], next=next_url(request, nxt)
    )


@router.put("/asset-owners/{owner}", response_model=AssetOwnerRouteRead)
def put_owner_route(
    request: Request,
    owner: AssetOwner,
    body: AssetOwnerRouteIn,
    principal: PrincipalDep,
    session: SessionDep,
) -> AssetOwnerRouteRead:
    route = asset_service.put_route(
        session, principal.org_id, owner, body,
        allow_private=request.app.state.settings.webhook_allow_private,
    )  # fmt: skip
    return asset_service.route_read(route)


@router.delete("/asset-owners/{owner}", status_code=204, response_class=Response)
def delete_owner_route(owner: AssetOwner, principal: PrincipalDep, session: SessionDep) -> None:
    asset_service.delete_route(session, principal.org_id, owner)


def _collection(
    request: Request, features: list[dict[str, Any]], paging: PageQuery, key: Any
) -> JSONResponse:
    page, nxt = page_sorted(features, key, paging.n, paging.cursor)
    links = [{"href": str(request.url), "rel": "self", "type": GEOJSON}]
    url = next_url(request, nxt)
    if url:
        links.append({"href": url, "rel": "next", "type": GEOJSON})
    body = {"type": "FeatureCollection", "features": page, "links": links}
    return JSONResponse(body, media_type=GEOJSON)


@router.get("/walks/{id}/dark-gaps", response_class=Response)
def walk_dark_gaps(
    request: Request,
    walk: ValidWalk,
    session: SessionDep,
    page: PageDep,
    max_gap_m: MaxGap = 25.0,
) -> Response:
    """Stretches of the walk's route farther than ``max_gap_m`` from every street light in
    service, in route order, each with its ``length_m``."""
    features = asset_service.gap_features(walk, asset_service.walk_gaps(session, walk, max_gap_m))
    return _collection(request, features, page, lambda f: [int(f["id"].split(":")[1])])


@router.get("/areas/{id}/dark-gaps", response_class=Response)
def area_dark_gaps(
    request: Request,
    area: ValidArea,
    session: SessionDep,
    page: PageDep,
    max_gap_m: MaxGap = 25.0,
) -> Response:
    """The dark gaps of every walk in the area that has a route, walk by walk."""
    features: list[dict[str, Any]] = []
    for w, walk in enumerate(asset_service.area_walks(session, area)):
        for f in asset_service.gap_features(
            walk, asset_service.walk_gaps(session, walk, max_gap_m)
        ):
            f["properties"]["walk_index"] = w
            features.append(f)
    return _collection(
        request, features, page,
        lambda f: [f["properties"]["walk_index"], int(f["id"].split(":")[1])],
    )  # fmt: skip
