"""Who is calling /ogc and /tiles: desktop GIS sends a personal access token, as a Bearer
token or as the password of HTTP Basic auth (QGIS's Basic authentication, GDAL_HTTP_USERPWD).
A staff JWT is accepted too, so the web map can use tiles. The policy table still decides.
"""

from __future__ import annotations

import base64
import binascii
from typing import Annotated

from fastapi import Depends, Request

from api.auth import tokens as token_service
from api.auth.deps import Principal, current_principal, enforce_policy
from api.core.errors import Unauthorized
from api.http.deps import SessionDep, bind_request

# Both schemes, so a client that waits for a challenge (curl --anyauth, QGIS) offers Basic.
CHALLENGE = {"WWW-Authenticate": 'Basic realm="safewalk", charset="UTF-8", Bearer'}


def _refuse(detail: str) -> Unauthorized:
    return Unauthorized(detail, headers=CHALLENGE)


def _from_token(request: Request, session: SessionDep, secret: str) -> Principal:
    found = token_service.authenticate(session, secret)
    if found is None:
        raise _refuse("unknown or revoked access token, or a disabled account")
    _, user = found
    bind_request(request, session, user.organization_id)
    return Principal(kind="staff", organization_id=user.organization_id, user=user)


def reader_principal(request: Request, session: SessionDep) -> Principal:
    header = request.headers.get("authorization")
    if header is None:
        return current_principal(request, session)  # anonymous; the policy answers 401
    scheme, _, value = header.partition(" ")
    value = value.strip()
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise _refuse("malformed Basic credentials") from exc
        _, sep, password = decoded.partition(":")
        if not sep or not password:
            raise _refuse("Basic auth needs a personal access token as the password")
        # The user name is not checked: the token alone identifies its owner (as GitHub does).
        return _from_token(request, session, password)
    if scheme.lower() == "bearer" and token_service.looks_like_token(value):
        return _from_token(request, session, value)
    try:
        return current_principal(request, session)
    except Unauthorized as exc:
        raise _refuse(exc.detail) from exc


def enforce_reader_policy(
    request: Request, principal: Annotated[Principal, Depends(reader_principal)]
) -> Principal:
    try:
        return enforce_policy(request, principal)
    except Unauthorized as exc:
        raise _refuse(exc.detail) from exc


ReaderDep = Annotated[Principal, Depends(enforce_reader_policy)]
