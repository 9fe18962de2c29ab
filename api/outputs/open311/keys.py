"""Integration keys: what a case system or reporting app presents as ``api_key``.

Admins create and revoke them. The secret is shown once; only its sha256 is stored (the secret
is 256 random bits, so a slow password hash would add nothing but latency to every POST).
"""

from __future__ import annotations

import hashlib
import secrets
import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from api.core.errors import NotFound
from api.core.paging import seek
from models import IntegrationKey, Organization, User, utcnow
from models.exchange import IntegrationKeyCreated, IntegrationKeyRead

KEY_PREFIX = "sw311_"


def hash_key(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def create_key(
    session: Session, org_id: uuid.UUID, name: str, created_by: User | None
) -> IntegrationKeyCreated:
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    key = IntegrationKey(
        organization_id=org_id,
        name=name.strip(),
        prefix=secret[: len(KEY_PREFIX) + 6],
        key_hash=hash_key(secret),
        created_by_id=created_by.id if created_by else None,
    )
    session.add(key)
    session.flush()
    return IntegrationKeyCreated(
        **IntegrationKeyRead.model_validate(key, from_attributes=True).model_dump(), api_key=secret
    )


def list_keys(
    session: Session, org_id: uuid.UUID, n: int | None = None, cursor: str | None = None
) -> tuple[list[IntegrationKeyRead], str | None]:
    """Oldest first: ``n`` after ``cursor`` (None: all), and the next page's cursor."""
    rows, nxt = seek(
        session,
        select(IntegrationKey).where(col(IntegrationKey.organization_id) == org_id),
        [col(IntegrationKey.created_at), col(IntegrationKey.id)],
        n,
        cursor,
    )
    return [IntegrationKeyRead.model_validate(k, from_attributes=True) for k in rows], nxt


def revoke_key(session: Session, org_id: uuid.UUID, key_id: uuid.UUID) -> None:
    key = session.get(IntegrationKey, key_id)
    if key is None or key.organization_id != org_id:
        raise NotFound(key="error.no_such_integration_key")
    if key.revoked_at is None:
        key.revoked_at = utcnow()
    session.flush()


def key_for_any(session: Session, secret: str) -> IntegrationKey | None:
    """The live key with this secret, whichever organization it belongs to, or None (the
    caller reads keys across organizations inside ``tenancy.lookup``)."""
    key = session.scalar(
        select(IntegrationKey).where(col(IntegrationKey.key_hash) == hash_key(secret))
    )
    if key is None or key.revoked_at is not None:
        return None
    return key


def key_for(session: Session, org: Organization, secret: str) -> IntegrationKey | None:
    """The organization's live key with this secret, or None (unknown, revoked or foreign)."""
    key = key_for_any(session, secret)
    if key is None or key.organization_id != org.id:
        return None
    return key
