"""After capture: the author corrects or withdraws an observation, a coordinator moderates it.

One PATCH carries either kind of change. Moderation (``moderation``, ``duplicate_of``,
``reason``) is for coordinators; ``note``, ``category``, ``severity`` and ``perceived_safety``
are for the author while the walk is open. The action item follows every change (recount,
leave it, regroup into the right item when the category changes), and a withdrawn observation
loses its photos, files included.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlmodel import col

from api.action_items import DEFAULT_RULES, GroupingRules
from api.assets import service as assets
from api.auth import policy
from api.auth.principal import Principal
from api.core import spatial
from api.core.errors import Conflict, Forbidden, InvalidInput
from api.core.media import MediaStore, PhotoSize, extension
from api.observations.changed import observation_changed
from api.observations.plausibility import unknown_category
from api.observations.service import _categories, moderate
from models import JOINABLE, Moderation, ModerationReason, Observation, Photo, Walk
from models.observations import (
    AUTHOR_FIELDS,
    MODERATION_FIELDS,
    ObservationModerate,
    ObservationPatch,
)


def is_author(principal: Principal, obs: Observation) -> bool:
    if principal.participant is not None:
        return obs.participant_id == principal.participant.id
    return principal.user is not None and obs.created_by_id == principal.user.id


def _check_author_may_change(session: Session, principal: Principal, obs: Observation) -> None:
    if not is_author(principal, obs):
        raise Forbidden(key="error.not_author")
    walk = session.get(Walk, obs.walk_id)
    if walk is None or walk.status not in JOINABLE:
        raise Conflict(key="error.walk_ended")


def patch(
    session: Session,
    principal: Principal,
    obs: Observation,
    body: ObservationPatch,
    rules: GroupingRules = DEFAULT_RULES,
) -> Observation:
    fields = body.model_fields_set
    if not fields:
        raise InvalidInput.at(["body"], "error.nothing_to_change")
    moderating = fields & MODERATION_FIELDS
    editing = fields & AUTHOR_FIELDS
    if moderating:
        if principal.role not in policy.COORDINATOR_PLUS:
            raise Forbidden(key="error.coordinators_moderate")
        if body.moderation is None:
            raise InvalidInput.at(["body", "moderation"], "error.moderation_required")
    if editing:
        _check_author_may_change(session, principal, obs)
        _apply_edits(session, principal, obs, body)
    if moderating:
        assert body.moderation is not None
        return moderate(
            session,
            principal,
            obs,
            ObservationModerate(
                moderation=body.moderation, duplicate_of=body.duplicate_of, reason=body.reason
            ),
            rules,
        )
    session.flush()
    # The item follows: recount, or regroup after a category change.
    observation_changed(session, obs, rules)
    session.flush()
    return obs


def _apply_edits(
    session: Session, principal: Principal, obs: Observation, body: ObservationPatch
) -> None:
    fields = body.model_fields_set
    if "note" in fields:
        note = body.note.strip() if body.note else None
        if note is not None and "\x00" in note:
            raise InvalidInput.at(["body", "note"], "error.nul_character")
        obs.note = note or None
    if "category" in fields:
        if body.category is None:
            raise InvalidInput.at(["body", "category"], "error.not_null")
        cats = _categories(session, principal.org_id)
        cat = cats.get(body.category)
        if cat is None:
            raise unknown_category(body.category, cats, ["body", "category"])
        if cat.id != obs.category_id:
            # The lamp the old category named is not the new one's: snap again, or none.
            obs.asset_id = obs.asset_distance_m = None
            point = spatial.from_db(obs.location) if obs.location is not None else None
            assets.link_observation(session, obs, cat, None, point, ["body"])
        obs.category_id = cat.id
    if "severity" in fields:
        if body.severity is None:
            raise InvalidInput.at(["body", "severity"], "error.not_null")
        obs.severity = body.severity
    if "perceived_safety" in fields:
        obs.perceived_safety = body.perceived_safety


def withdraw(
    session: Session,
    principal: Principal,
    obs: Observation,
    rules: GroupingRules = DEFAULT_RULES,
) -> list[str]:
    """Hide the observation, take it out of its item and delete its photos.

    Returns the media keys no photo names any more; the caller deletes those files once the
    transaction is committed (identical pictures share files, so a file another photo still
    names stays).
    """
    if principal.role in policy.COORDINATOR_PLUS:
        # Coordinators withdraw at any time, their own observations too.
        reason = (
            ModerationReason.withdrawn_by_author
            if is_author(principal, obs)
            else ModerationReason.withdrawn_by_coordinator
        )
    else:
        _check_author_may_change(session, principal, obs)
        reason = ModerationReason.withdrawn_by_author
    photos = list(session.scalars(select(Photo).where(col(Photo.observation_id) == obs.id)))
    for photo in photos:
        session.delete(photo)
    obs.set_moderation(Moderation.hidden, reason)
    obs.duplicate_of_id = None
    session.flush()
    observation_changed(session, obs, rules)
    session.flush()
    orphaned: list[str] = []
    for photo in photos:
        still_named = session.scalar(
            select(func.count()).select_from(Photo).where(col(Photo.sha256) == photo.sha256)
        )
        if not still_named:
            ext = extension(photo.media_type)
            orphaned += [MediaStore.key_for(photo.sha256, f"{size}.{ext}") for size in PhotoSize]
    return sorted(set(orphaned))


def delete_files(store: MediaStore, keys: list[str]) -> None:
    for key in keys:
        store.delete(key)
