"""Staff accounts (admins only)."""

from __future__ import annotations

from fastapi import Query, Request

from api.auth import PrincipalDep
from api.deps import SessionDep
from api.paging import Page
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
    return user_service.list_users(session, request, principal.org_id, limit=limit, cursor=cursor)


@router.post("/users", response_model=UserRead, status_code=201)
def create_user(body: UserCreate, principal: PrincipalDep, session: SessionDep) -> UserRead:
    user = user_service.create_user_in(session, principal.org_id, body)
    return UserRead.model_validate(user, from_attributes=True)
