"""Personal access tokens of the signed-in staff member (for QGIS, GDAL and other readers)."""

from __future__ import annotations

import uuid

from fastapi import Request, Response

from api.auth import tokens as token_service
from api.auth.deps_router import Principal, PrincipalDep
from api.core.errors import Forbidden
from api.http.deps import PageDep, SessionDep
from api.http.paging import link_next
from api.http.routing import api_router
from models import User
from models.tokens import TokenCreate, TokenCreated, TokenRead

router = api_router("tokens")


def _staff(principal: Principal) -> User:
    if principal.user is None:  # the policy admits staff only; this keeps mypy and us honest
        raise Forbidden(key="error.tokens_staff_only")
    return principal.user


@router.post("/me/tokens", response_model=TokenCreated, status_code=201)
def create_token(body: TokenCreate, principal: PrincipalDep, session: SessionDep) -> TokenCreated:
    return token_service.create_token(session, _staff(principal), body)


@router.get("/me/tokens", response_model=list[TokenRead])
def list_tokens(
    principal: PrincipalDep,
    session: SessionDep,
    page: PageDep,
    request: Request,
    response: Response,
) -> list[TokenRead]:
    """Oldest first; the next page in the ``Link`` header."""
    rows, nxt = token_service.list_tokens(session, _staff(principal), page.n, page.cursor)
    link_next(request, response, nxt)
    return [TokenRead.model_validate(t, from_attributes=True) for t in rows]


@router.delete("/me/tokens/{id}", status_code=204)
def revoke_token(id: uuid.UUID, principal: PrincipalDep, session: SessionDep) -> Response:
    token_service.revoke_token(session, _staff(principal), id)
    return Response(status_code=204)
