"""FastAPI dependencies of walks: the walk a path names, or 404, reused by every router.

A foreign organization's id, or another walk's id for a participant, answers 404 exactly like
an unknown id, so ids cannot be probed across the walls.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends

from api.auth.deps_router import Principal, PrincipalDep
from api.auth.readers_router import ReaderDep
from api.core.errors import NotFound
from api.http.deps import SessionDep
from models import Walk


def get_walk_for(session: SessionDep, principal: Principal, walk_id: uuid.UUID) -> Walk:
    walk = session.get(Walk, walk_id)
    if walk is None or walk.organization_id != principal.organization_id:
        raise NotFound(key="error.no_such_walk")
    if principal.participant is not None and principal.participant.walk_id != walk.id:
        raise NotFound(key="error.no_such_walk")
    return walk


def valid_walk(id: uuid.UUID, principal: PrincipalDep, session: SessionDep) -> Walk:
    return get_walk_for(session, principal, id)


ValidWalk = Annotated[Walk, Depends(valid_walk)]


def reader_walk(id: uuid.UUID, principal: ReaderDep, session: SessionDep) -> Walk:
    """``valid_walk`` for the readers' routes (a personal access token may be the caller)."""
    return get_walk_for(session, principal, id)


ReaderWalk = Annotated[Walk, Depends(reader_walk)]
