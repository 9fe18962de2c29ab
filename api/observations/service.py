"""Observations: listing, reads and moderation; capture itself is ``capture.py``."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, select, update
from sqlalchemy.orm import Session
from sqlmodel import col

from api.action_items import DEFAULT_RULES, GroupingRules
from api.assets import service as assets
from api.auth.principal import Principal
from api.categories import service as category_service
from api.core import spatial
from api.core.errors import InvalidInput, NotFound
from api.core.paging import after_keyset, keyset_page
from api.core.photo_links import photo_links
from api.core.signing import PhotoSigner

# Capture lives in its own module; these names stay importable from here.
from api.observations.capture import Capture, capture, capture_batch, categories_of, place
from api.observations.changed import observation_changed
from api.privacy import sensitive
from models import (
    Category,
    Moderation,
    Observation,
    Participant,
)
from models.base import columns_for
from models.observations import (
    MODERATION_REASON_TEXT,
    ObservationModerate,
    ObservationRead,
)


def _categories(session: Session, org_id: uuid.UUID) -> dict[str, Category]:
    return categories_of(session, org_id)


def get_visible(session: Session, principal: Principal, obs_id: uuid.UUID) -> Observation:
    """404 for unknown ids, other organizations, other walks (participants) and hidden ones."""
    obs = session.get(Observation, obs_id)
    if obs is None or obs.organization_id != principal.org_id:
        raise NotFound(key="error.no_such_observation")
    if principal.participant is not None:
        if obs.walk_id != principal.participant.walk_id or obs.moderation == Moderation.hidden:
            raise NotFound(key="error.no_such_observation")
    return obs


def to_reads(
    session: Session,
    rows: Sequence[Observation],
    signer: PhotoSigner | None = None,
    *,
    principal: Principal,
) -> list[ObservationRead]:
    """Reads for a page of observations as ``principal`` may see them (sensitive places:
    ``api.privacy.sensitive``), with three queries whatever the page size."""
    if not rows:
        return []
    cats = category_service.codes(session, [o.category_id for o in rows])
    pids = {o.participant_id for o in rows if o.participant_id}
    groups = (
        dict(
            session.execute(
                select(col(Participant.id), col(Participant.group)).where(
                    col(Participant.id).in_(pids)
                )
            ).all()
        )
        if pids
        else {}
    )
    hidden = {
        o.id
        for o in rows
        if sensitive.observation_hidden_from(
            principal,
            sensitive=cats.get(o.category_id, ("?", True))[1],
            participant_id=o.participant_id,
        )
    }
    photos = photo_links(session, [o.id for o in rows if o.id not in hidden], signer)
    _, lux = assets.lux_estimates(session, obs_ids=[o.id for o in rows])
    me = principal.participant.id if principal.participant is not None else None
    reads = []
    for o in rows:
        # From the row itself; only what is not a column is added. The participant's id never
        # leaves: the read schema has no field for it, only the group, and a participant does
        # not even see the group of the others of the walk.
        group = str(groups[o.participant_id]) if o.participant_id in groups else None
        if principal.participant is not None and o.participant_id != me:
            group = None
        values = {
            **columns_for(o, ObservationRead),
            "category": cats.get(o.category_id, ("?", True))[0],
            "participant_group": group,
            "photo_ids": [p.id for p in photos.get(o.id, [])],
            "photos": photos.get(o.id, []),
            "estimated_lux": lux.get(o.id),
        }
        if o.id in hidden:
            point = spatial.from_db(o.location)
            values.update(
                location=sensitive.general_point_geojson(point) if point is not None else None,
                note=None,
                accuracy_m=None,
                moderation_reason=None,
                moderation_reason_code=None,
            )
        reads.append(ObservationRead.model_validate(values))
    return reads


@dataclass
class ObservationFilter:
    walk_id: uuid.UUID | None = None
    area_id: uuid.UUID | None = None
    category: str | None = None
    bbox: tuple[float, float, float, float] | None = None
    since: datetime | None = None
    until: datetime | None = None
    moderation: Moderation | None = None
    action_item_id: uuid.UUID | None = None


def filtered(session: Session, principal: Principal, f: ObservationFilter) -> Select[Observation]:
    stmt = select(Observation).where(col(Observation.organization_id) == principal.org_id)
    if principal.participant is not None:
        stmt = stmt.where(
            col(Observation.walk_id) == principal.participant.walk_id,
            col(Observation.moderation) != Moderation.hidden,
        )
    if f.walk_id is not None:
        stmt = stmt.where(col(Observation.walk_id) == f.walk_id)
    if f.area_id is not None:
        stmt = stmt.where(col(Observation.area_id) == f.area_id)
    if f.category is not None:
        stmt = stmt.join(Category, col(Category.id) == col(Observation.category_id)).where(
            col(Category.code) == f.category
        )
    if f.since is not None:
        stmt = stmt.where(col(Observation.recorded_at) >= f.since)
    if f.until is not None:
        stmt = stmt.where(col(Observation.recorded_at) < f.until)
    if f.moderation is not None:
        stmt = stmt.where(col(Observation.moderation) == f.moderation)
    if f.action_item_id is not None:
        stmt = stmt.where(col(Observation.action_item_id) == f.action_item_id)
    if f.bbox is not None:
        mask = sensitive.masked(principal)
        if mask is not None and f.category is None:
            stmt = stmt.join(Category, col(Category.id) == col(Observation.category_id))
        # Those who see a sensitive observation generalised find it by its generalised point.
        stmt = stmt.where(sensitive.bbox_condition(session, mask, f.bbox))
    return stmt


def list_page(
    session: Session,
    principal: Principal,
    f: ObservationFilter,
    *,
    n: int,
    cursor: str | None,
) -> tuple[list[Observation], str | None]:
    """Keyset pages on (received_at, id): new arrivals land after the cursor, so a walk through
    the pages sees every observation exactly once."""
    stmt = filtered(session, principal, f)
    after = after_keyset(cursor, col(Observation.received_at), col(Observation.id))
    if after is not None:
        stmt = stmt.where(after)
    return keyset_page(session, stmt, col(Observation.received_at), col(Observation.id), n)


def moderate(
    session: Session,
    principal: Principal,
    obs: Observation,
    body: ObservationModerate,
    rules: GroupingRules = DEFAULT_RULES,
) -> Observation:
    if body.moderation == Moderation.duplicate:
        if body.duplicate_of is None:
            raise InvalidInput.at(["body", "duplicate_of"], "error.duplicate_observation_required")
        if body.duplicate_of == obs.id:
            raise InvalidInput.at(["body", "duplicate_of"], "error.observation_duplicates_itself")
        try:
            original = get_visible(session, principal, body.duplicate_of)
        except NotFound as exc:
            raise InvalidInput.at(["body", "duplicate_of"], "error.no_such_observation") from exc
        obs.duplicate_of_id = original.id
    elif body.duplicate_of is not None:
        raise InvalidInput.at(["body", "duplicate_of"], "error.only_with_duplicate")
    else:
        obs.duplicate_of_id = None
    obs.moderation = body.moderation
    obs.moderation_reason = body.reason.strip() or None if body.reason else None
    obs.moderation_reason_code = None  # a coordinator's decision, in their own words or none
    session.flush()
    observation_changed(session, obs, rules)
    session.flush()
    return obs


def fill_reason_codes(session: Session) -> int:
    """Give the rows the service moderated before reasons had codes their code, from the words
    it wrote then (the same words for each code since). A coordinator's own words keep none."""
    filled = 0
    for code, text in MODERATION_REASON_TEXT.items():
        result = session.execute(
            update(Observation)
            .where(col(Observation.moderation_reason) == text)
            .where(col(Observation.moderation_reason_code).is_(None))
            .values(moderation_reason_code=code.value)
        )
        filled += result.rowcount or 0  # type: ignore[attr-defined]
    return filled


__all__ = [
    "Capture",
    "ObservationFilter",
    "capture",
    "capture_batch",
    "fill_reason_codes",
    "get_visible",
    "list_page",
    "moderate",
    "place",
    "to_reads",
]
