"""What every export reads: an area's action list, or a walk with its observations, gathered in
a handful of queries whatever the number of rows, with labels in the organization's language.

No participant identity is read here at all, except each participant's group for the counts
on a walk report's cover.
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from shapely.geometry.base import BaseGeometry
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session
from sqlmodel import col

from api.action_items import features as item_features
from api.action_items.grouping import effective_priority
from api.areas import service as area_service
from api.assets import service as assets
from api.core import spatial
from api.core.i18n import as_language, has, translate
from api.core.media import MediaStore, extension
from api.observations import features as observation_features
from api.privacy import sensitive
from geo.lights import DarkGap
from models import (
    ActionEvent,
    ActionItem,
    Area,
    Asset,
    Category,
    Moderation,
    Observation,
    Organization,
    Participant,
    Photo,
    Walk,
    utcnow,
)
from models.assets import STREET_LIGHT


@dataclass
class ItemRow:
    nr: int
    id: uuid.UUID
    title: str
    category: str
    category_label: str
    area_name: str | None
    lon: float
    lat: float
    observation_count: int
    notes: list[str]
    photo_id: uuid.UUID | None
    department: str | None
    department_label: str
    priority: float
    due_date: date | None
    status: str
    status_label: str
    comment: str | None
    created_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    area_id: uuid.UUID | None = None
    overdue: bool = False
    last_seen_at: datetime | None = None


@dataclass
class ObservationRow:
    nr: int
    id: uuid.UUID
    category: str
    category_label: str
    lon: float | None
    lat: float | None
    severity: int | None
    perceived_safety: int | None
    note: str | None
    recorded_at: datetime
    is_dark: bool | None
    moderation: str
    action_item_id: uuid.UUID | None
    area_id: uuid.UUID | None = None
    walk_id: uuid.UUID | None = None
    item_nr: int | None = None
    thumb_key: str | None = None  # the media store key of its first photo's thumbnail

    @property
    def status(self) -> str:
        return self.moderation  # the feature property's other name


@dataclass
class Listing:
    org: Organization
    lang: str
    area: Area | None
    area_geometry: BaseGeometry | None
    items: list[ItemRow]
    observations: list[ObservationRow]
    walk: Walk | None = None
    route: BaseGeometry | None = None
    groups: dict[str, int] = field(default_factory=dict)
    # Stretches of the route farther than DARK_GAP_M from every working street light; None
    # where the organization has no lamp register (then every metre would be "dark").
    dark_gaps: list[DarkGap] | None = None

    def t(self, key: str, **params: Any) -> str:
        return translate(key, self.lang, **params)


def _lang(org: Organization, lang: str | None) -> str:
    """The reader's language (Accept-Language, their own), else the organization's."""
    return str(as_language(lang or getattr(org, "language", None) or "nb"))


def department_label(dept: str | None, lang: str) -> str:
    if not dept:
        return ""
    return translate(f"department.{dept}", lang) if has(f"department.{dept}") else dept


def _categories(session: Session, org_id: uuid.UUID) -> dict[uuid.UUID, Category]:
    return {
        c.id: c
        for c in session.scalars(select(Category).where(col(Category.organization_id) == org_id))
    }


def _label(cat: Category | None, lang: str) -> str:
    if cat is None:
        return "?"
    return cat.label(lang)


def item_rows(
    session: Session, org: Organization, items: list[ActionItem], lang: str, *, full: bool = True
) -> list[ItemRow]:
    """Rows in the given order, numbered from 1, with notes, first photo and last comment.
    Without ``full`` detail (sensitive places): items of sensitive categories at their
    generalised point, and no note or photo of an observation of a sensitive category."""
    ids = [i.id for i in items]
    cats = _categories(session, org.id)
    # Observations whose notes and photos this reader does not see (sensitive places).
    hidden = [] if full else [c.id for c in cats.values() if c.sensitive]
    areas = area_service.names(session, [i.area_id for i in items])
    notes: dict[uuid.UUID, list[str]] = {}
    photos: dict[uuid.UUID, uuid.UUID] = {}
    comments: dict[uuid.UUID, str] = {}
    # Chunks keep the IN lists within every database's limits.
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        for item_id, note in session.execute(
            select(col(Observation.action_item_id), col(Observation.note))
            .where(
                col(Observation.action_item_id).in_(chunk),
                col(Observation.moderation) == Moderation.accepted,
                col(Observation.note).is_not(None),
                col(Observation.category_id).notin_(hidden),
            )
            .order_by(col(Observation.recorded_at), col(Observation.id))
        ).all():
            if item_id is not None and note:
                notes.setdefault(item_id, []).append(note)
        for item_id, photo_id in session.execute(
            select(col(Observation.action_item_id), col(Photo.id))
            .join(Photo, col(Photo.observation_id) == col(Observation.id))
            .where(
                col(Observation.action_item_id).in_(chunk),
                col(Observation.moderation) == Moderation.accepted,
                col(Observation.category_id).notin_(hidden),
            )
            .order_by(col(Photo.created_at), col(Photo.id))
        ).all():
            if item_id is not None:
                photos.setdefault(item_id, photo_id)
        for item_id, comment in session.execute(
            select(col(ActionEvent.action_item_id), col(ActionEvent.comment))
            .where(
                col(ActionEvent.action_item_id).in_(chunk),
                col(ActionEvent.comment).is_not(None),
                col(ActionEvent.kind).notin_(["created", "system", "open311_queued"]),
            )
            .order_by(col(ActionEvent.created_at), col(ActionEvent.id))
        ).all():
            if comment:
                comments[item_id] = comment  # the latest wins
    rows = []
    today = utcnow().date()
    for nr, i in enumerate(items, start=1):
        p = spatial.from_db(i.location)
        assert p is not None
        cat = cats.get(i.category_id)
        if not full and (cat is None or cat.sensitive):
            p = sensitive.general_point(p)
        rows.append(
            ItemRow(
                nr=nr,
                id=i.id,
                title=i.title,
                category=cat.code if cat else "?",
                category_label=_label(cat, lang),
                area_name=areas.get(i.area_id) if i.area_id else None,
                lon=round(p.x, 6),
                lat=round(p.y, 6),
                observation_count=i.observation_count,
                notes=notes.get(i.id, []),
                photo_id=photos.get(i.id),
                department=i.department,
                department_label=department_label(i.department, lang),
                priority=round(effective_priority(i), 1),
                due_date=i.due_date,
                status=str(i.status),
                status_label=translate(f"status.{i.status}", lang),
                comment=i.resolution_note or comments.get(i.id),
                created_at=i.created_at,
                updated_at=i.updated_at,
                resolved_at=i.resolved_at,
                area_id=i.area_id,
                overdue=item_features.is_overdue(i, today),
                last_seen_at=i.last_seen_at,
            )  # fmt: skip
        )
    return rows


def _ordered(items: list[ActionItem]) -> list[ActionItem]:
    return sorted(items, key=lambda i: (-effective_priority(i), i.due_date or date.max, str(i.id)))


def observation_rows(
    session: Session,
    org: Organization,
    observations: list[Observation],
    lang: str,
    *,
    full: bool = True,
) -> list[ObservationRow]:
    cats = _categories(session, org.id)
    general = set() if full else {c.id for c in cats.values() if c.sensitive}
    ids = [o.id for o in observations if o.category_id not in general]
    thumbs: dict[uuid.UUID, str] = {}
    for start in range(0, len(ids), 500):
        for oid, sha, media_type in session.execute(
            select(col(Photo.observation_id), col(Photo.sha256), col(Photo.media_type))
            .where(col(Photo.observation_id).in_(ids[start : start + 500]))
            .order_by(col(Photo.created_at), col(Photo.id))
        ).all():
            if oid is not None and oid not in thumbs:
                thumbs[oid] = MediaStore.key_for(sha, f"thumb.{extension(media_type)}")
    rows = []
    for nr, o in enumerate(observations, start=1):
        p = spatial.from_db(o.location)
        cat = cats.get(o.category_id)
        hide = o.category_id in general
        if hide and p is not None:
            p = sensitive.general_point(p)
        rows.append(
            ObservationRow(
                nr=nr,
                id=o.id,
                category=cat.code if cat else "?",
                category_label=_label(cat, lang),
                lon=round(p.x, 6) if p is not None else None,
                lat=round(p.y, 6) if p is not None else None,
                severity=o.severity,
                perceived_safety=o.perceived_safety,
                note=None if hide else o.note,
                recorded_at=o.recorded_at,
                is_dark=o.is_dark,
                moderation=str(o.moderation),
                action_item_id=o.action_item_id,
                area_id=o.area_id,
                walk_id=o.walk_id,
                thumb_key=thumbs.get(o.id),
            )  # fmt: skip
        )
    return rows


def _shown_observations(session: Session, where: ColumnElement[bool]) -> list[Observation]:
    stmt = select(Observation).where(where, observation_features.shown())
    return list(session.scalars(stmt.order_by(col(Observation.recorded_at), col(Observation.id))))


def area_listing(
    session: Session,
    org: Organization,
    area: Area,
    *,
    include_closed: bool,
    full: bool = True,
    lang: str | None = None,
) -> Listing:
    """The area's action list and observations; ``full``: as coordinators see sensitive ones."""
    lang = _lang(org, lang)
    stmt = select(ActionItem).where(col(ActionItem.area_id) == area.id)
    if not include_closed:
        stmt = stmt.where(item_features.shown())
    items = _ordered(list(session.scalars(stmt)))
    observations = _shown_observations(session, col(Observation.area_id) == area.id)
    rows = item_rows(session, org, items, lang, full=full)
    obs_rows = observation_rows(session, org, observations, lang, full=full)
    _link(rows, obs_rows)
    return Listing(org, lang, area, spatial.from_db(area.geometry), rows, obs_rows)


def walk_listing(
    session: Session, org: Organization, walk: Walk, *, lang: str | None = None
) -> Listing:
    """The walk report's data, for coordinators and admins: sensitive places in full."""
    lang = _lang(org, lang)
    observations = _shown_observations(session, col(Observation.walk_id) == walk.id)
    item_ids = {o.action_item_id for o in observations if o.action_item_id}
    items: list[ActionItem] = []
    ids = list(item_ids)
    for start in range(0, len(ids), 500):
        items += session.scalars(
            select(ActionItem).where(col(ActionItem.id).in_(ids[start : start + 500]))
        )
    rows = item_rows(session, org, _ordered(items), lang)
    obs_rows = observation_rows(session, org, observations, lang)
    _link(rows, obs_rows)
    area = session.get(Area, walk.area_id) if walk.area_id else None
    # Groups are counted, never named.
    groups = Counter(
        str(g)
        for g in session.scalars(
            select(col(Participant.group)).where(col(Participant.walk_id) == walk.id)
        )
    )
    registered = session.scalar(
        select(func.count())
        .select_from(Asset)
        .where(col(Asset.organization_id) == org.id, col(Asset.kind) == STREET_LIGHT)
    )
    return Listing(
        org, lang, area, spatial.from_db(area.geometry) if area else None, rows, obs_rows,
        walk=walk, route=spatial.from_db(walk.route), groups=dict(sorted(groups.items())),
        dark_gaps=assets.walk_gaps(session, walk, DARK_GAP_M) if registered else None,
    )  # fmt: skip


DARK_GAP_M = 25.0


def _link(items: list[ItemRow], observations: list[ObservationRow]) -> None:
    nrs = {r.id: r.nr for r in items}
    for o in observations:
        o.item_nr = nrs.get(o.action_item_id) if o.action_item_id else None
