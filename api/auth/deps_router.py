"""Who is calling: the principal behind a bearer token, and the policy check for the route."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.routing import APIRoute

from api.auth import policy
from api.auth.principal import ANONYMOUS as ANONYMOUS
from api.auth.principal import Principal as Principal
from api.auth.security import decode_token
from api.core.errors import Forbidden, Message, Unauthorized
from api.core.i18n import has
from api.http.deps import SessionDep, bind_request
from api.http.docs import oauth2_scheme
from models import Organization, Participant, User, Walk, WalkStatus

TOKEN_PATH = f"{policy.V1}/auth/token"


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized(key="error.malformed_authorization")
    return token.strip()


def _speak(request: Request, org: Organization, user: User | None = None) -> None:
    # Once the caller is known, their own language (else the organization's) is this request's
    # default for messages (api/core/errors.py); Accept-Language still wins.
    request.state.org_language = (user.language if user else None) or org.language


def current_principal(
    request: Request,
    session: SessionDep,
    _documented: Annotated[str | None, Security(oauth2_scheme)] = None,
) -> Principal:
    # _documented only puts the OAuth2 scheme into OpenAPI (the Authorize button in /docs);
    # the header is read and checked here, with our own problem details.
    if request.url.path == TOKEN_PATH:
        # Where tokens are made nobody holds one yet, and OAuth2 clients may authenticate
        # with HTTP Basic (RFC 6749, 2.3.1): Swagger UI's Authorize sends an empty one.
        return ANONYMOUS
    token = _bearer(request)
    if token is None:
        return ANONYMOUS
    claims = decode_token(
        token, secret=request.app.state.secret, settings=request.app.state.settings
    )
    # The signed claims name the organization: from here on every query acts for it alone.
    bind_request(request, session, claims.organization_id)
    org = session.get(Organization, claims.organization_id)
    if org is None:
        raise Unauthorized(key="error.token_unknown_organization")
    if claims.kind == "staff":
        user = session.get(User, claims.subject)
        if user is None or user.organization_id != org.id or not user.is_active:
            raise Unauthorized(key="error.token_unknown_account")
        if claims.version != user.token_version:
            # The password changed or the account was deactivated after this token was issued.
            raise Unauthorized(key="error.token_revoked")
        _speak(request, org, user)
        return Principal(kind="staff", organization_id=org.id, user=user)
    participant = session.get(Participant, claims.subject)
    if (
        participant is None
        or participant.organization_id != org.id
        or participant.walk_id != claims.walk_id
    ):
        raise Unauthorized(key="error.token_unknown_participant")
    if participant.erased_at is not None:
        raise Unauthorized(key="error.participant_erased")
    walk = session.get(Walk, participant.walk_id)
    if walk is None or walk.status == WalkStatus.cancelled:
        raise Unauthorized(key="error.token_walk_cancelled")
    _speak(request, org)
    return Principal(kind="participant", organization_id=org.id, participant=participant)


def enforce_policy(
    request: Request, principal: Annotated[Principal, Depends(current_principal)]
) -> Principal:
    """Applied to every API route: the policy table decides, nothing else."""
    route = request.scope.get("route")
    path = route.path if isinstance(route, APIRoute) else request.url.path
    allowed = policy.allowed(request.method, path)
    if allowed is None:
        # Deny by default; the policy test makes sure this never happens for a real route.
        raise Forbidden(key="error.no_permission_policy")
    if principal.role in allowed:
        return principal
    if principal.kind == "anonymous":
        if policy.SIGNED_LINK in allowed and request.query_params.get("sig"):
            return principal  # the route checks the signed link itself
        raise Unauthorized(key="error.auth_required")
    # The role in the reader's words, never its code ("engineer" in a Swedish sentence).
    role = f"role.{principal.role}"
    raise Forbidden(
        key="error.role_may_not",
        params={"role": Message(role) if has(role) else principal.role},
    )


PrincipalDep = Annotated[Principal, Depends(enforce_policy)]
