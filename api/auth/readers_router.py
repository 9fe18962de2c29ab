"""Who is calling the readers (/ogc, /tiles and the /api/v1/map feeds): desktop GIS sends a
personal access token, as a Bearer token or as the password of HTTP Basic auth (QGIS's Basic
authentication, GDAL_HTTP_USERPWD). A sign-in token (staff or participant) is accepted too, so
the web apps use the same routes. The policy table still decides.

A personal access token is read-only by where it is accepted: only these routes, all GET.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import BackgroundTasks, Depends, Request, Security
from fastapi.security.http import HTTPBase

from api.auth import tokens as token_service
from api.auth.deps_router import Principal, current_principal, enforce_policy
from api.core.errors import Unauthorized
from api.http.deps import SessionDep, bind_request
from api.http.docs import oauth2_scheme

# Both schemes, so a client that waits for a challenge (curl --anyauth, QGIS) offers Basic.
CHALLENGE = {"WWW-Authenticate": 'Basic realm="safewalk", charset="UTF-8", Bearer'}
# Declares HTTP Basic in OpenAPI for these routes (the header is parsed below, not by it).
basic_scheme = HTTPBase(
    scheme="basic",
    scheme_name="PersonalAccessToken",
    description="a personal access token as the password (any user name)",
    auto_error=False,
)


def _refuse(key: str, params: Mapping[str, Any] | None = None) -> Unauthorized:
    return Unauthorized(key=key, params=params, headers=CHALLENGE)


def _challenge(exc: Unauthorized) -> Unauthorized:
    """The same refusal, with both schemes in the challenge."""
    return _refuse(exc.key or "error.auth_required", exc.params)


def _from_token(
    request: Request, session: SessionDep, background: BackgroundTasks, secret: str
) -> Principal:
    found = token_service.authenticate(session, secret)
    if found is None:
        raise _refuse("error.access_token_unknown")
    token, user = found
    bind_request(request, session, user.organization_id)
    usage: token_service.TokenUsage = request.app.state.token_usage
    if usage.note(token):
        # After the response, on a transaction of its own: the request itself only reads.
        background.add_task(usage.record, request.app.state.sessionmaker)
    return Principal(kind="staff", organization_id=user.organization_id, user=user)


def reader_principal(
    request: Request,
    session: SessionDep,
    background: BackgroundTasks,
    _bearer: Annotated[object, Security(oauth2_scheme)] = None,
    _basic: Annotated[object, Security(basic_scheme)] = None,
) -> Principal:
    # _bearer and _basic only document both schemes in OpenAPI; the header is read here.
    header = request.headers.get("authorization")
    if header is None:
        return current_principal(request, session)  # anonymous; the policy answers 401
    scheme, _, value = header.partition(" ")
    value = value.strip()
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise _refuse("error.basic_malformed") from exc
        _, sep, password = decoded.partition(":")
        if not sep or not password:
            raise _refuse("error.basic_needs_token")
        # The user name is not checked: the token alone identifies its owner (as GitHub does).
        return _from_token(request, session, background, password)
    if scheme.lower() == "bearer" and token_service.looks_like_token(value):
        return _from_token(request, session, background, value)
    try:
        return current_principal(request, session)
    except Unauthorized as exc:
        raise _challenge(exc) from exc


def enforce_reader_policy(
    request: Request, principal: Annotated[Principal, Depends(reader_principal)]
) -> Principal:
    try:
        return enforce_policy(request, principal)
    except Unauthorized as exc:
        raise _challenge(exc) from exc


ReaderDep = Annotated[Principal, Depends(enforce_reader_policy)]


def caller_key(principal: Principal) -> tuple[str, str]:
    """Who a reader's rendered document was made for (api/http/byte_ranges.py keeps documents
    per caller and URL): nobody else is ever served its bytes."""
    who = principal.user or principal.participant
    return principal.kind, str(who.id) if who is not None else ""
