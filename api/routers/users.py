"""Staff accounts (admins only)."""

from __future__ import annotations

from fastapi import Query, Request

from api.auth import PrincipalDep
from api.deps import SessionDep
from api.paging import Page, next_url
from api.routers import api_router
from api.services import users as user_service
from models.organizations import UserCreate, UserRead

router = api_router("users")


@router.get("/users", response_model=Page[UserRead])
def list_users(
    request: Request,
    principal: PrincipalDep,
    session: SessionDep,
    limit: int | None = Query(default=None),
    cursor: str | None = None,
) -> Page[UserRead]:
    rows, nxt = user_service.list_users(
        session, principal.org_id, limit=limit, cursor=cursor,
        maximum=request.app.state.settings.page_size_max,
    )  # fmt: skip
    return Page[UserRead](
        items=[UserRead.model_validate(u, from_attributes=True) for u in rows],
        next=next_url(request, nxt),
    )


@router.post("/users", response_model=UserRead, status_code=201)
def create_user(body: UserCreate, principal: PrincipalDep, session: SessionDep) -> UserRead:
    user = user_service.create_user_in(session, principal.org_id, body)
    return UserRead.model_validate(user, from_attributes=True)
