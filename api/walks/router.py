"""Walks: plan, list, update status, rotate the join code; participants join with the code."""

from __future__ import annotations

import uuid

from fastapi import Request

from api.auth.deps_router import PrincipalDep
from api.core.paging import Page
from api.http.deps import PageDep, SessionDep
from api.http.paging import page_of
from api.http.routing import api_router
from api.walks import service as walk_service
from api.walks.deps_router import ValidWalk
from models import WalkStatus
from models.walks import JoinRequest, JoinResponse, WalkCreate, WalkRead, WalkUpdate

router = api_router("walks")


@router.get("/walks", response_model=Page[WalkRead])
def list_walks(
    request: Request,
    principal: PrincipalDep,
    session: SessionDep,
    page: PageDep,
    status: WalkStatus | None = None,
    area_id: uuid.UUID | None = None,
) -> Page[WalkRead]:
    rows, nxt = walk_service.list_walks(
        session, principal.org_id, n=page.n, cursor=page.cursor, status=status, area_id=area_id
    )
    return page_of(request, [walk_service.to_read(session, w) for w in rows], nxt)


@router.post("/walks", response_model=WalkRead, status_code=201)
def create_walk(body: WalkCreate, principal: PrincipalDep, session: SessionDep) -> WalkRead:
    return walk_service.to_read(session, walk_service.create_walk(session, principal, body))


@router.post("/walks/join", response_model=JoinResponse, status_code=201)
def join_walk(
    body: JoinRequest, request: Request, principal: PrincipalDep, session: SessionDep
) -> JoinResponse:
    return walk_service.join(
        session,
        request.app.state.limits,
        body,
        client=request.client.host if request.client else "unknown",
        secret=request.app.state.secret,
        settings=request.app.state.settings,
    )


@router.get("/walks/{id}", response_model=WalkRead)
def get_walk(walk: ValidWalk, session: SessionDep) -> WalkRead:
    return walk_service.to_read(session, walk)


@router.patch("/walks/{id}", response_model=WalkRead)
def update_walk(walk: ValidWalk, body: WalkUpdate, session: SessionDep) -> WalkRead:
    return walk_service.to_read(session, walk_service.update_walk(session, walk, body))


@router.post("/walks/{id}/rotate-code", response_model=WalkRead)
def rotate_code(walk: ValidWalk, session: SessionDep) -> WalkRead:
    return walk_service.to_read(session, walk_service.rotate_code(session, walk))
