"""Staff accounts: admins create, list and edit them; everyone on the staff changes their password."""

from __future__ import annotations

import uuid

from fastapi import Request

from api.auth import accounts
from api.auth import users as user_service
from api.auth.deps_router import PrincipalDep
from api.core.paging import Page
from api.http.deps import PageDep, SessionDep
from api.http.paging import page_of
from api.http.routing import api_router
from models.organizations import PasswordChange, TokenResponse, UserCreate, UserRead, UserUpdate

router = api_router("users")


@router.get("/users", response_model=Page[UserRead])
def list_users(
    request: Request, principal: PrincipalDep, session: SessionDep, page: PageDep
) -> Page[UserRead]:
    rows, nxt = user_service.list_users(session, principal.org_id, n=page.n, cursor=page.cursor)
    return page_of(request, [UserRead.model_validate(u, from_attributes=True) for u in rows], nxt)


@router.post("/users", response_model=UserRead, status_code=201)
def create_user(body: UserCreate, principal: PrincipalDep, session: SessionDep) -> UserRead:
    user = user_service.create_user_in(session, principal.org_id, body)
    return UserRead.model_validate(user, from_attributes=True)


@router.patch("/users/{id}", response_model=UserRead)
def update_user(
    id: uuid.UUID, body: UserUpdate, principal: PrincipalDep, session: SessionDep
) -> UserRead:
    """Role, department, display name, ``active``. A deactivated account's tokens stop working at
    once; the last active admin cannot be deactivated or demoted (409)."""
    user = accounts.get_user(session, principal.org_id, id)
    return UserRead.model_validate(accounts.update_user(session, user, body), from_attributes=True)


@router.post("/me/password", response_model=TokenResponse)
def change_password(
    body: PasswordChange, principal: PrincipalDep, session: SessionDep, request: Request
) -> TokenResponse:
    """Every token issued before (on every device) stops working; the answer is a fresh one."""
    assert principal.user is not None  # the policy admits staff only
    return accounts.change_password(
        session,
        request.app.state.limits,
        principal.user,
        current_password=body.current_password,
        new_password=body.new_password,
        secret=request.app.state.secret,
        settings=request.app.state.settings,
    )
