"""FastAPI dependencies shared by every router: settings, the request's session, the photo
signer and the media store."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Query, Request
from sqlalchemy.orm import Session

from api.core import tenancy
from api.core.db import session_scope
from api.core.media import MediaStore
from api.core.paging import clamp_limit
from api.core.signing import IMG_TTL, PhotoSigner
from api.http.routing import API_PREFIX
from api.settings import Settings


def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _session(request: Request) -> Iterator[Session]:
    """One unit of work per request: services flush, this commits or rolls back.

    Reads begin a plain (deferred) transaction, so on SQLite they read their snapshot while a
    writer, even a long regroup, holds the write lock; writes begin IMMEDIATE (api/core/db.py)."""
    yield from session_scope(
        request.app.state.sessionmaker,
        read_only=request.method in READ_METHODS,
    )


def bind_request(request: Request, session: Session, organization_id: uuid.UUID) -> None:
    """The caller is known: the request's session, and the feeds' connection, act for its
    organization from here on (row-level security on PostgreSQL, api/core/tenancy.py)."""
    tenancy.bind(session, organization_id)
    request.state.organization_id = organization_id


def feed_connection(request: Request) -> tenancy.ConnectionProvider:
    """The feeds' connection of their own (the session is gone when the body streams), acting
    for the request's organization."""
    return tenancy.scoped(
        request.app.state.feed_connection, getattr(request.state, "organization_id", None)
    )


# scope="function": commit before the response is sent, so a failed commit is an error response
# and never a 200 for something that was not stored.
SessionDep = Annotated[Session, Depends(_session, scope="function")]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]


def photo_signer(request: Request) -> PhotoSigner:
    """Signed photo links for this request's reads: relative to the API, valid 15 minutes."""
    return PhotoSigner(request.app.state.secret, API_PREFIX, IMG_TTL)


SignerDep = Annotated[PhotoSigner, Depends(photo_signer)]


def media_store(settings: SettingsDep) -> MediaStore:
    return MediaStore(settings.resolved_media_dir)


MediaDep = Annotated[MediaStore, Depends(media_store)]


@dataclass(frozen=True)
class PageQuery:
    """A list's ``limit`` (clamped to ``SAFEWALK_PAGE_SIZE_MAX``) and ``cursor``."""

    n: int
    cursor: str | None


def page_query(
    settings: SettingsDep,
    limit: Annotated[
        int | None, Query(description="page size: default 100, larger ones are clamped")
    ] = None,
    cursor: Annotated[str | None, Query(description="from the previous page's next link")] = None,
) -> PageQuery:
    return PageQuery(clamp_limit(limit, settings.page_size_max), cursor)


PageDep = Annotated[PageQuery, Depends(page_query)]
