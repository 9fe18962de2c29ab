"""Erasure on request: one participant of a walk, or every participant of a walk.

Coordinators and admins. The notes and photos of the participants' observations go (every
rendition file too, once the erasure is committed), and their display names; the observations'
places and categories stay, so the action list stays true. Answers with counts only.
"""

from __future__ import annotations

import uuid

from fastapi import BackgroundTasks

from api.auth.deps_router import PrincipalDep
from api.http.deps import MediaDep, SessionDep
from api.http.routing import api_router
from api.privacy import retention
from api.walks.deps_router import ValidWalk
from models.retention import ErasureRead

router = api_router("erasure")


def _answer(
    walk_id: uuid.UUID, removal: retention.Removal, store: MediaDep, background: BackgroundTasks
) -> ErasureRead:
    # Files go after the commit (background tasks run after it): a failed commit keeps them.
    background.add_task(retention.delete_files, store, removal.keys)
    return ErasureRead(
        walk_id=walk_id,
        participants=removal.participants,
        notes=removal.notes,
        photos=removal.photos,
        files=sum(1 for key in removal.keys if store.exists(key)),
    )


@router.post("/walks/{id}/participants/{participant_id}/erase", response_model=ErasureRead)
def erase_participant(
    walk: ValidWalk,
    participant_id: uuid.UUID,
    principal: PrincipalDep,
    session: SessionDep,
    store: MediaDep,
    background: BackgroundTasks,
) -> ErasureRead:
    """Erase one participant: the notes and photos of their observations (files included),
    their display name and their follow-up comments. Their group and the observations' places
    and categories stay. Repeating it is harmless (zeros)."""
    actor = principal.user.id if principal.user else None
    removal = retention.erase_participant(session, walk, participant_id, actor_user_id=actor)
    return _answer(walk.id, removal, store, background)


@router.post("/walks/{id}/erase-participants", response_model=ErasureRead)
def erase_participants(
    walk: ValidWalk,
    principal: PrincipalDep,
    session: SessionDep,
    store: MediaDep,
    background: BackgroundTasks,
) -> ErasureRead:
    """Erase every participant of the walk, as for one participant."""
    actor = principal.user.id if principal.user else None
    removal = retention.erase_walk(session, walk, actor_user_id=actor)
    return _answer(walk.id, removal, store, background)
