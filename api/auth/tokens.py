"""Personal access tokens: made, listed and revoked by their owner; checked by the readers
(/ogc, /tiles and the /api/v1/map feeds).

The secret is 256 random bits, so a plain sha256 of it is a safe thing to store and lets a
request find its token with one indexed lookup (argon2 would cost ~50 ms on every tile).
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import threading
import uuid
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from sqlmodel import col

from api.core import dialect, tenancy
from api.core.db import is_transient, session_scope
from api.core.errors import NotFound
from api.core.paging import seek
from models import PersonalAccessToken, User, utcnow
from models.tokens import TokenCreate, TokenCreated, TokenRead

PREFIX = "swpat_"  # recognisable in logs and by secret scanners
# last_used_at is for a person deciding which token to revoke: to the minute is plenty.
LAST_USED_RESOLUTION = timedelta(minutes=1)
# The bookkeeping write tries for a lock this long (SQLite's write lock, PostgreSQL's row lock)
# and otherwise leaves the time for the next request to record.
USAGE_LOCK_WAIT_MS = 50

log = logging.getLogger(__name__)


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
        raise NotFound(key="error.no_such_token")
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
    return token, user


class TokenUsage:
    """Records when tokens were last used, outside the requests that use them.

    A reader's request only reads: if it wrote ``last_used_at`` in its own transaction, six
    tiles asked at once would be six writers (on SQLite one wins and the others fail, having
    read a snapshot that another writer changed; on PostgreSQL they queue on the token's row,
    and a read replica could not take the write at all). Instead a request notes the use here
    (memory, per process), and ``record`` writes the noted times after the response, in one
    short transaction of its own that waits at most ``USAGE_LOCK_WAIT_MS`` for a lock. What it
    cannot write now stays noted and is written after a later request.
    """

    def __init__(self, resolution: timedelta = LAST_USED_RESOLUTION) -> None:
        self.resolution = resolution
        self._lock = threading.Lock()  # guards _pending
        self._writing = threading.Lock()  # one writer per process at a time
        self._pending: dict[uuid.UUID, tuple[uuid.UUID, datetime]] = {}

    def note(self, token: PersonalAccessToken, now: datetime | None = None) -> bool:
        """Remember that ``token`` is used now; True when that is news worth a write."""
        now = now or utcnow()
        if token.last_used_at is not None and now - token.last_used_at < self.resolution:
            return False
        with self._lock:
            if token.id not in self._pending:
                self._pending[token.id] = (token.organization_id, now)
            return True

    def record(self, factory: sessionmaker[Session]) -> int:
        """Write the noted times; returns how many tokens were written. Never waits for another
        writer of this process or, beyond ``USAGE_LOCK_WAIT_MS``, for the database."""
        if not self._writing.acquire(blocking=False):
            return 0  # the thread that writes now, or the next request, takes the rest
        try:
            with self._lock:
                batch, self._pending = self._pending, {}
            if not batch:
                return 0
            try:
                _write_last_used(factory, batch)
            except SQLAlchemyError as exc:
                if not is_transient(exc):
                    raise
                log.info("last_used_at of %d token(s) left for later: %s", len(batch), exc)
                with self._lock:
                    for token_id, value in batch.items():
                        self._pending.setdefault(token_id, value)
                return 0
            return len(batch)
        finally:
            self._writing.release()


def _write_last_used(
    factory: sessionmaker[Session], batch: dict[uuid.UUID, tuple[uuid.UUID, datetime]]
) -> None:
    for session in session_scope(factory):
        dialect.lock_wait(session, USAGE_LOCK_WAIT_MS)
        for token_id, (organization_id, used_at) in sorted(batch.items()):
            tenancy.bind(session, organization_id)  # the app role writes under the tenant wall
            table = PersonalAccessToken
            session.execute(
                update(table)
                .where(
                    col(table.id) == token_id,
                    # Only forwards: another process may have written a later time.
                    or_(col(table.last_used_at).is_(None), col(table.last_used_at) < used_at),
                )
                .values(last_used_at=used_at)
            )
