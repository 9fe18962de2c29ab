"""Personal access tokens: made, listed and revoked by their owner; checked on /ogc and /tiles.

The secret is 256 random bits, so a plain sha256 of it is a safe thing to store and lets a
request find its token with one indexed lookup (argon2 would cost ~50 ms on every tile).
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from api.core import tenancy
from api.core.errors import NotFound
from api.core.paging import seek
from models import PersonalAccessToken, User, utcnow
from models.tokens import TokenCreate, TokenCreated, TokenRead

PREFIX = "swpat_"  # recognisable in logs and by secret scanners
# Writing last_used_at on every tile request would turn reads into writes; once a minute will do.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def looks_like_token(value: str) -> bool:
    return value.startswith(PREFIX)


def create_token(session: Session, user: User, body: TokenCreate) -> TokenCreated:
    secret = PREFIX + secrets.token_urlsafe(32)
    token = PersonalAccessToken(
        organization_id=user.organization_id,
        user_id=user.id,
        name=body.name.strip() or body.name,
        scope=body.scope,
        token_hash=hash_secret(secret),
        prefix=secret[: len(PREFIX) + 4],
    )
    session.add(token)
    session.flush()
    read = TokenRead.model_validate(token, from_attributes=True)
    return TokenCreated(**read.model_dump(), secret=secret)


def list_tokens(
    session: Session, user: User, n: int | None = None, cursor: str | None = None
) -> tuple[list[PersonalAccessToken], str | None]:
    """The user's tokens, oldest first: ``n`` after ``cursor`` (None: all), and the next
    page's cursor."""
    return seek(
        session,
        select(PersonalAccessToken).where(col(PersonalAccessToken.user_id) == user.id),
        [col(PersonalAccessToken.created_at), col(PersonalAccessToken.id)],
        n,
        cursor,
    )


def revoke_token(session: Session, user: User, token_id: uuid.UUID) -> None:
    token = session.get(PersonalAccessToken, token_id)
    if token is None or token.user_id != user.id:
        raise NotFound("no such token")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        session.flush()


def account_usable(user: User | None) -> bool:
    """Whether a token's owner may still act. The one place to extend (locks, expiry...)."""
    return user is not None and bool(user.is_active)


def authenticate(session: Session, secret: str) -> tuple[PersonalAccessToken, User] | None:
    """The live token and its owner for ``secret``; None for unknown, revoked or disabled."""
    with tenancy.lookup(session, "personal_access_token"):
        token = session.scalar(
            select(PersonalAccessToken).where(
                col(PersonalAccessToken.token_hash) == hash_secret(secret)
            )
        )
    if token is None or token.revoked_at is not None:
        return None
    tenancy.bind(session, token.organization_id)
    user = session.get(User, token.user_id)
    if user is None or not account_usable(user) or user.organization_id != token.organization_id:
        return None
    now = utcnow()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        token.last_used_at = now
        session.flush()
    return token, user
