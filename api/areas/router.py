"""Areas: list, create, read, update, delete, and import a GeoJSON FeatureCollection."""

from __future__ import annotations

import uuid

from fastapi import Query, Request, Response

from api.areas import service as area_service
from api.areas.deps_router import ValidArea
from api.auth.deps_router import PrincipalDep
from api.core.paging import Page
from api.hotspots import rollup as hotspot_rollup
from api.http.deps import PageDep, SessionDep
from api.http.paging import page_of
from api.http.routing import api_router
from models import AreaKind
from models.areas import AreaCreate, AreaImport, AreaImportResult, AreaRead, AreaUpdate

router = api_router("areas")


@router.get("/areas", response_model=Page[AreaRead])
def list_areas(
    request: Request,
    principal: PrincipalDep,
    session: SessionDep,
    page: PageDep,
    kind: AreaKind | None = None,
    parent_id: uuid.UUID | None = None,
) -> Page[AreaRead]:
    rows, nxt = area_service.list_areas(
        session, principal.org_id, n=page.n, cursor=page.cursor, kind=kind, parent_id=parent_id
    )
    return page_of(request, [area_service.to_read(a) for a in rows], nxt)


@router.post("/areas", response_model=AreaRead, status_code=201)
def create_area(body: AreaCreate, principal: PrincipalDep, session: SessionDep) -> AreaRead:
    return area_service.to_read(area_service.create_area_in(session, principal.org_id, body))


@router.post("/areas/import", response_model=AreaImportResult)
def import_areas(
    body: AreaImport,
    principal: PrincipalDep,
    session: SessionDep,
    name_property: str | None = Query(default=None, min_length=1, max_length=100),
    kind: AreaKind = AreaKind.neighbourhood,
    skip_invalid: bool = False,
) -> AreaImportResult:
    """All or nothing unless ``skip_invalid``: re-importing updates areas by code, else name."""
    return area_service.import_collection(
        session, principal.org_id, body,
        name_property=name_property, kind=kind, skip_invalid=skip_invalid,
    )  # fmt: skip


@router.get("/areas/{id}", response_model=AreaRead)
def get_area(area: ValidArea) -> AreaRead:
    return area_service.to_read(area)


@router.patch("/areas/{id}", response_model=AreaRead)
def update_area(area: ValidArea, body: AreaUpdate, session: SessionDep) -> AreaRead:
    return area_service.to_read(area_service.update_area(session, area, body))


@router.delete("/areas/{id}", status_code=204, response_class=Response)
def delete_area(area: ValidArea, session: SessionDep) -> None:
    area_id = area.id
    area_service.delete_area(session, area)
    # Its observations now lie in no area: their hotspot counts move with them.
    hotspot_rollup.area_deleted(session, area_id)
