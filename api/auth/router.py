"""Staff sign-in (OAuth2 password form) and "who am I"."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Request

from api.auth import service as auth_service
from api.auth.deps_router import PrincipalDep
from api.http.deps import SessionDep
from api.http.routing import api_router
from models.organizations import MeRead, TokenResponse

router = api_router("auth")


@router.post("/auth/token", response_model=TokenResponse)
def token(
    request: Request,
    session: SessionDep,
    username: Annotated[str, Form(description="the staff account's email")],
    password: Annotated[str, Form()],
    grant_type: Annotated[str | None, Form(pattern="^password$")] = None,
) -> TokenResponse:
    client = request.client.host if request.client else "unknown"
    return auth_service.login(
        session,
        request.app.state.limits,
        secret=request.app.state.secret,
        settings=request.app.state.settings,
        email=username,
        password=password,
        client=client,
    )


@router.get("/me", response_model=MeRead)
def me(principal: PrincipalDep, session: SessionDep) -> MeRead:
    return auth_service.describe(session, principal)
