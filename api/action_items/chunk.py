"""Grouping a chunk of new observations at once, with the result of grouping them one by one.

Capture hands over a chunk of observations that are placed but not yet inserted, with their
groups' locks held. The open and recently resolved items near them are read in one statement
(per observation the same candidates ``grouping.assign`` reads), each observation is assigned
in chunk order in Python, exactly as ``assign`` would after its predecessors (an earlier
observation of the chunk is a candidate for a later one, a reopened item is open for the rest
of the chunk), and every touched item is then refreshed once from all its members and written
back: new items in one INSERT, changed ones in one versioned UPDATE, events in one INSERT.

An observation that names a lamp follows the lamp's rule (``grouping.assign`` does the same):
its lamp's open item of the category whatever the distance, a recently resolved one reopened,
else a new item of the lamp, referred to the lamp's owner. A lamp's item is never a distance
candidate, and an observation of a lamp is never one for others.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
from geoalchemy2 import Geometry
from sqlalchemy import Table, and_, false, func, or_, select
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.exc import StaleDataError

from api.action_items import features, follow_up_rollup
from api.action_items.grouping import (
    ACTION_EVENT,
    ACTION_ITEM,
    DEFAULT_RULES,
    OBSERVATION,
    PARTICIPANT,
    GroupingRules,
    group_key,
    lamp_key,
    priority_score,
    refer_to_owner,
    title_for,
)
from api.core import dialect, spatial
from api.deadlines import rules as response_times
from api.notices import outbox as notices
from geo.grouping import Candidate, GroupShapes, group_shapes, nearest_within
from geo.units import bbox_around
from models import (
    ActionItem,
    ActionStatus,
    Asset,
    AssetOwner,
    Category,
    Moderation,
    Observation,
    Webhook,
    utcnow,
)
from models.organizations import Language

ASSET: Table = Asset.__table__  # type: ignore[attr-defined]

_OPEN = frozenset(features.OPEN)
_RESOLVED = frozenset(str(s) for s in features.DONE)


@dataclass(slots=True)
class _Member:
    lon: float
    lat: float
    recorded_at: datetime
    severity: int | None
    perceived_safety: int | None
    is_dark: bool | None
    group: str | None


@dataclass(slots=True)
class _Item:
    """An item as the chunk sees it: read from the database, or started by the chunk."""

    id: uuid.UUID
    category_id: uuid.UUID
    area_id: uuid.UUID | None
    status: str
    resolved_at: datetime | None
    created_at: datetime
    version: int
    title: str
    title_edited: bool
    due_date: date | None
    due_date_manual: bool
    priority_override: float | None
    department: str | None
    asset_id: uuid.UUID | None = None
    new: bool = False
    recurrence_of: uuid.UUID | None = None
    reopened_from: str | None = None
    touched: bool = False
    joined: list[_Member] = field(default_factory=list)


@dataclass
class Grouped:
    """What the chunk's grouping did, for the notices told once the chunk is written."""

    created: list[ActionItem]
    reopened: list[tuple[uuid.UUID, str]]
    # A new lamp item's first observation, for the referral to the lamp's owner.
    lamp_seeds: dict[uuid.UUID, Observation] = field(default_factory=dict)


@dataclass(slots=True)
class _Lamp:
    """One lamp's items of one category: the latest open and the latest resolved."""

    open: uuid.UUID | None = None
    resolved: uuid.UUID | None = None
    referred: bool = False


def groupable(obs: Observation, cat: Category | None) -> bool:
    """Whether ``assign`` would put the observation into an item."""
    return (
        obs.moderation == Moderation.accepted
        and obs.location is not None
        and obs.action_item_id is None
        and cat is not None
        and cat.actionable
    )


def group_chunk(
    session: Session,
    observations: Sequence[Observation],
    points: Mapping[uuid.UUID, tuple[float, float]],
    cats: Mapping[uuid.UUID, Category],
    *,
    language: Language,
    area_names: Mapping[uuid.UUID, str],
    participant_groups: Mapping[uuid.UUID, str],
    rules: GroupingRules = DEFAULT_RULES,
) -> Grouped:
    """Assign the groupable ``observations`` (not yet inserted; their group locks held) to
    items, setting each one's ``action_item_id``, and write the items. ``points`` holds each
    observation's (lon, lat)."""
    todo = [o for o in observations if groupable(o, cats.get(o.category_id))]
    if not todo:
        return Grouped([], [])
    lamps, lamp_items = _read_lamps(session, todo)
    items, near, stored = _read_candidates(session, todo, points, cats, also=lamp_items.keys())
    for item_id, lamp_item in lamp_items.items():
        items.setdefault(item_id, lamp_item)
    now = utcnow()
    grace = timedelta(days=rules.reopen_grace_days)
    # Candidates per group: (item id, lon, lat) of members, the chunk's own added as it goes.
    per_group: dict[tuple[Any, ...], list[tuple[uuid.UUID, float, float]]] = defaultdict(list)
    for key, item_id, lon, lat in near:
        per_group[key].append((item_id, lon, lat))
    events: list[dict[str, Any]] = []
    lamp_seeds: dict[uuid.UUID, Observation] = {}
    for obs in todo:
        cat = cats[obs.category_id]
        lon, lat = points[obs.id]
        if obs.asset_id is not None:
            lamp = lamps.setdefault((obs.asset_id, cat.id), _Lamp())
            item = items[lamp.open] if lamp.open is not None else None
            if item is None:
                old = items[lamp.resolved] if lamp.resolved is not None else None
                item = _reopen_or_start(
                    obs, cat, old, now, grace, items, events,
                    "a new observation of the lamp was made after it was resolved",
                )  # fmt: skip
                if item.new:
                    lamp_seeds[item.id] = obs
                if not (item.new and lamp.referred):
                    lamp.open = item.id
        else:
            members = per_group[group_key(obs.organization_id, obs.area_id, cat.id)]
            in_status = [Candidate(str(i), x, y) for i, x, y in members if items[i].status in _OPEN]
            best = nearest_within(lon, lat, in_status, cat.group_distance_m)
            item = items[uuid.UUID(best.key)] if best else None
            if item is None:
                done = [
                    Candidate(str(i), x, y) for i, x, y in members if items[i].status in _RESOLVED
                ]
                resolved = nearest_within(lon, lat, done, cat.group_distance_m)
                item = _reopen_or_start(
                    obs, cat, items[uuid.UUID(resolved.key)] if resolved else None, now, grace,
                    items, events, "a new observation was made here after it was resolved",
                )  # fmt: skip
            members.append((item.id, lon, lat))
        obs.action_item_id = item.id
        item.touched = True
        item.joined.append(
            _Member(
                lon, lat, obs.recorded_at, obs.severity, obs.perceived_safety, obs.is_dark,
                participant_groups.get(obs.participant_id) if obs.participant_id else None,
            )
        )  # fmt: skip
    touched = [i for i in items.values() if i.touched]
    org_id = todo[0].organization_id
    grouped = _write(session, org_id, touched, stored, events, cats, now, language, area_names)
    grouped.lamp_seeds = lamp_seeds
    return grouped


def _reopen_or_start(
    obs: Observation,
    cat: Category,
    old: _Item | None,
    now: datetime,
    grace: timedelta,
    items: dict[uuid.UUID, _Item],
    events: list[dict[str, Any]],
    reopen_comment: str,
) -> _Item:
    """A recently resolved item reopened, else a new item (a recurrence of an older one)."""
    if old is not None and old.resolved_at is not None and now - old.resolved_at <= grace:
        old.reopened_from = old.reopened_from or old.status
        events.append({
            "item": old.id, "kind": "system", "participant_id": obs.participant_id,
            "from_status": old.status, "to_status": str(ActionStatus.reopened),
            "comment": reopen_comment,
        })  # fmt: skip
        old.status = str(ActionStatus.reopened)
        old.resolved_at = None
        return old
    item = _Item(
        id=uuid.uuid4(), category_id=cat.id, area_id=obs.area_id, status=str(ActionStatus.new),
        resolved_at=None, created_at=now, version=1, title="", title_edited=False,
        due_date=None, due_date_manual=False, priority_override=None,
        department=cat.default_department, asset_id=obs.asset_id, new=True,
        recurrence_of=old.id if old is not None else None,
    )  # fmt: skip
    items[item.id] = item
    events.append({
        "item": item.id, "kind": "created", "participant_id": obs.participant_id,
        "to_status": str(ActionStatus.new),
        "comment": "recurrence of a resolved item" if item.recurrence_of else None,
        "changes": {"recurrence_of": str(item.recurrence_of)} if item.recurrence_of else {},
    })  # fmt: skip
    return item


_ITEM_COLUMNS = (
    "id", "category_id", "area_id", "status", "resolved_at", "created_at", "version", "title",
    "title_edited", "due_date", "due_date_manual", "priority_override", "department", "asset_id",
)  # fmt: skip


def _item_of(r: Any) -> _Item:
    return _Item(
        id=r.id, category_id=r.category_id, area_id=r.area_id, status=str(r.status),
        resolved_at=r.resolved_at, created_at=r.created_at, version=r.version, title=r.title,
        title_edited=bool(r.title_edited), due_date=r.due_date,
        due_date_manual=bool(r.due_date_manual), priority_override=r.priority_override,
        department=r.department, asset_id=r.asset_id,
    )  # fmt: skip


def _read_lamps(
    session: Session, todo: Sequence[Observation]
) -> tuple[dict[tuple[uuid.UUID, uuid.UUID], _Lamp], dict[uuid.UUID, _Item]]:
    """The named lamps' locks (after the groups', as ``assign`` takes them), then in one read
    their owners and their open and resolved items of the chunk's categories: per lamp and
    category the latest of each, as ``grouping._item_of_lamp`` picks them."""
    named = {(o.asset_id, o.category_id) for o in todo if o.asset_id is not None}
    if not named:
        return {}, {}
    org_id = todo[0].organization_id
    dialect.lock_groups(session, [lamp_key(org_id, a) for a, _ in named])
    a, i = ASSET.c, ACTION_ITEM.c
    rows = session.execute(
        select(a.id.label("lamp"), a.owner, *(i[c] for c in _ITEM_COLUMNS))
        .select_from(
            ASSET.outerjoin(
                ACTION_ITEM,
                and_(
                    i.asset_id == a.id,
                    i.organization_id == org_id,
                    i.category_id.in_({c for _, c in named}),
                    i.status.in_(sorted(_OPEN | _RESOLVED)),
                ),
            )
        )
        .where(a.id.in_({lamp for lamp, _ in named}))
    ).all()
    # Latest first, ties by id: the order of the one-at-a-time query.
    found = sorted((r for r in rows if r.id is not None), key=lambda r: r.id)
    found.sort(key=lambda r: r.created_at, reverse=True)
    # A new item on a lamp the organization does not own is referred at once: no longer open.
    referred = {r.lamp for r in rows if str(r.owner) != str(AssetOwner.municipality)}
    lamps = {(lamp, c): _Lamp(referred=lamp in referred) for lamp, c in named}
    items: dict[uuid.UUID, _Item] = {}
    for r in found:
        lamp = lamps.get((r.asset_id, r.category_id))
        if lamp is None:
            continue
        status = str(r.status)
        if status in _OPEN and lamp.open is None:
            lamp.open = r.id
        elif status in _RESOLVED and lamp.resolved is None:
            lamp.resolved = r.id
        else:
            continue
        items[r.id] = _item_of(r)
    return lamps, items


def _read_candidates(
    session: Session,
    todo: Sequence[Observation],
    points: Mapping[uuid.UUID, tuple[float, float]],
    cats: Mapping[uuid.UUID, Category],
    *,
    also: Iterable[uuid.UUID] = (),
) -> tuple[
    dict[uuid.UUID, _Item],
    list[tuple[tuple[Any, ...], uuid.UUID, float, float]],
    dict[uuid.UUID, list[_Member]],
]:
    """One statement: the open and resolved items of the chunk's groups with an accepted member
    within reach of one of its observations (through the spatial index, a box per observation
    as ``assign`` uses), and every accepted, located member of those items (all of them count
    when an item is refreshed; the farther ones are never within reach, so as candidates they
    change nothing). The members of the items in ``also`` (the named lamps') are read with
    them; a lamp's item is never a distance candidate."""
    o, i = OBSERVATION.c, ACTION_ITEM.c
    reach = []
    for obs in todo:
        if obs.asset_id is not None:
            continue
        lon, lat = points[obs.id]
        cat = cats[obs.category_id]
        box = bbox_around(lon, lat, cat.group_distance_m * 1.01)
        area = i.area_id == obs.area_id if obs.area_id is not None else i.area_id.is_(None)
        reach.append(
            and_(
                o.category_id == cat.id,
                area,
                dialect.bbox_filter(session, "observation", Observation.location, box),
            )
        )
    near_items = (
        select(o.action_item_id)
        .select_from(OBSERVATION.join(ACTION_ITEM, i.id == o.action_item_id))
        .where(
            o.organization_id == todo[0].organization_id,
            o.moderation == str(Moderation.accepted),
            i.status.in_(sorted(_OPEN | _RESOLVED)),
            # A lamp's item holds the observations that name the lamp, and only those.
            i.asset_id.is_(None),
            or_(false(), *reach),
        )
    )
    m, it, p = OBSERVATION.alias("m"), ACTION_ITEM.alias("it"), PARTICIPANT.alias("p")
    sources = [m.c.action_item_id.in_(near_items)] if reach else []
    lamp_ids = list(also)
    if lamp_ids:
        sources.append(m.c.action_item_id.in_(lamp_ids))
    if not sources:
        return {}, [], {}
    stmt = (
        select(
            m.c.action_item_id, func.ST_X(m.c.location), func.ST_Y(m.c.location),
            m.c.category_id, m.c.recorded_at, m.c.severity, m.c.perceived_safety, m.c.is_dark,
            p.c.group, it.c.area_id, it.c.status, it.c.resolved_at, it.c.created_at,
            it.c.version, it.c.title, it.c.title_edited, it.c.due_date, it.c.due_date_manual,
            it.c.priority_override, it.c.department, it.c.category_id, it.c.organization_id,
            it.c.asset_id,
        )
        .select_from(
            m.join(it, it.c.id == m.c.action_item_id).outerjoin(p, p.c.id == m.c.participant_id)
        )
        .where(
            or_(*sources),
            m.c.moderation == str(Moderation.accepted),
            m.c.location.is_not(None),
        )
    )  # fmt: skip
    items: dict[uuid.UUID, _Item] = {}
    near = []
    stored: dict[uuid.UUID, list[_Member]] = defaultdict(list)
    for r in session.execute(stmt).all():
        item_id = r[0]
        if item_id not in items:
            items[item_id] = _Item(
                id=item_id, category_id=r[20], area_id=r[9], status=str(r[10]),
                resolved_at=r[11], created_at=r[12], version=r[13], title=r[14],
                title_edited=bool(r[15]), due_date=r[16], due_date_manual=bool(r[17]),
                priority_override=r[18], department=r[19], asset_id=r[22],
            )  # fmt: skip
        lon, lat = float(r[1]), float(r[2])
        if r[22] is None:
            near.append((group_key(r[21], r[9], r[3]), item_id, lon, lat))
        stored[item_id].append(
            _Member(lon, lat, r[4], r[5], r[6], r[7], None if r[8] is None else str(r[8]))
        )
    return items, near, stored


def _write(
    session: Session,
    org_id: uuid.UUID,
    touched: list[_Item],
    stored: Mapping[uuid.UUID, list[_Member]],
    events: list[dict[str, Any]],
    cats: Mapping[uuid.UUID, Category],
    now: datetime,
    language: Language,
    area_names: Mapping[uuid.UUID, str],
) -> Grouped:
    times = None
    new_objs: list[ActionItem] = []
    updates: list[dict[str, Any]] = []
    reopens: list[dict[str, Any]] = []
    counted: list[uuid.UUID] = []
    all_members = [stored.get(item.id, []) + item.joined for item in touched]
    shapes = _shapes(all_members)
    for k, item in enumerate(touched):
        members = all_members[k]
        figures = _figures(members, shapes.centroids[k], shapes.footprints[k], now)
        if item.title_edited:
            title = item.title
        else:
            area = area_names.get(item.area_id) if item.area_id is not None else None
            title = title_for(language, cats.get(item.category_id), area, len(members))
        due = item.due_date
        if due is None and not item.due_date_manual:
            if times is None:
                times = response_times.load(session, org_id)
            # Set at the item's first new member, as one-by-one grouping does: from the
            # priority it had then.
            priority = (
                item.priority_override
                if item.priority_override is not None
                else _priority(stored.get(item.id, []) + item.joined[:1], now)
            )
            due = times.due_date(item.category_id, item.department, priority, item.created_at)
        if item.new:
            new_objs.append(
                ActionItem(
                    id=item.id, organization_id=org_id,
                    area_id=item.area_id, category_id=item.category_id, title=title,
                    location=spatial.to_db(figures["location"]),
                    footprint=spatial.to_db(figures["footprint"]),
                    observation_count=figures["observation_count"],
                    first_seen_at=figures["first_seen_at"], last_seen_at=figures["last_seen_at"],
                    participant_groups=figures["participant_groups"],
                    priority_score=figures["priority_score"], department=item.department,
                    due_date=due, recurrence_of_id=item.recurrence_of, asset_id=item.asset_id,
                    created_at=item.created_at, updated_at=now,
                )
            )  # fmt: skip
            continue
        if due != item.due_date or item.reopened_from is not None:
            counted.append(item.id)
        row = {"id": item.id, "version": item.version, **figures, "title": title,
               "due_date": due, "updated_at": now}  # fmt: skip
        if item.reopened_from is not None:
            reopens.append({**row, "status": item.status, "resolved_at": None})
        else:
            updates.append(row)
    # Core inserts over arrays (one statement each on PostgreSQL); the objects stay outside
    # the session, for the notices to read.
    dialect.bulk_insert(session, ACTION_ITEM, [rows_of(ACTION_ITEM, o) for o in new_objs])
    for rows in (updates, reopens):
        if dialect.bulk_update(session, ACTION_ITEM, rows, version="version") != len(rows):
            # Someone moved one of the items meanwhile (a status change takes no group lock):
            # the caller's retry reads them again, as the ORM's versioned UPDATE did.
            raise StaleDataError("an action item changed during capture")
    dialect.bulk_insert(
        session,
        ACTION_EVENT,
        [
            {
                "id": uuid.uuid4(), "organization_id": org_id, "action_item_id": e["item"],
                "actor_user_id": None, "actor_participant_id": e["participant_id"],
                "kind": e["kind"], "from_status": e.get("from_status"),
                "to_status": e["to_status"], "changes": e.get("changes", {}),
                "comment": e.get("comment"), "created_at": now,
            }
            for e in events
        ],
    )  # fmt: skip
    # New and reopened items, and those given a due date, count differently in the follow-up
    # figures now.
    follow_up_rollup.sync(session, counted)
    follow_up_rollup.created(session, new_objs)
    written = {r["id"] for r in updates + reopens}
    for obj in list(session.identity_map.values()):
        if isinstance(obj, ActionItem) and obj.id in written:
            session.expire(obj)
    return Grouped(new_objs, [(i.id, i.reopened_from) for i in touched if i.reopened_from])


def _shapes(members: Sequence[Sequence[_Member]]) -> GroupShapes:
    """Every touched item's centroid and footprint in one pass (``geo.grouping.group_shapes``
    gives each exactly what ``centroid`` and ``footprint`` give it alone)."""
    pts = [m for ms in members for m in ms]
    return group_shapes(
        [m.lon for m in pts],
        [m.lat for m in pts],
        np.repeat(np.arange(len(members)), [len(ms) for ms in members]),
        len(members),
    )


def _priority(members: Sequence[_Member], now: datetime) -> float:
    return priority_score(
        len(members), [m.severity for m in members], [m.perceived_safety for m in members],
        [m.is_dark for m in members], max(m.recorded_at for m in members), now,
    )  # fmt: skip


def _figures(
    members: Sequence[_Member], centre: tuple[float, float], shape: Any, now: datetime
) -> dict[str, Any]:
    """An item's figures from its members, as ``grouping.refresh`` computes them."""
    return {
        "location": spatial.point(*centre),
        "footprint": shape,
        "observation_count": len(members),
        "first_seen_at": min(m.recorded_at for m in members),
        "last_seen_at": max(m.recorded_at for m in members),
        "participant_groups": sorted({m.group for m in members if m.group is not None}),
        "priority_score": _priority(members, now),
    }


def rows_of(table: Table, obj: Any) -> dict[str, Any]:
    """An object's row for ``dialect.bulk_insert``: every column, geometries as shapely."""
    return {
        c.key: spatial.from_db(getattr(obj, c.key))
        if isinstance(c.type, Geometry)
        else getattr(obj, c.key)
        for c in table.columns
    }


def tell(session: Session, grouped: Grouped, *, hooks: Sequence[Webhook] | None = None) -> None:
    """Referrals of new lamp items to the lamps' owners, then notices for the chunk's new and
    reopened items, once they are written complete (``hooks``: the organization's active
    webhooks, when the caller read them already)."""
    for obj in grouped.created:
        seed = grouped.lamp_seeds.get(obj.id)
        if seed is not None:
            # Written by a Core INSERT: joins the session as that row, to be referred.
            make_transient_to_detached(obj)
            session.add(obj)
            refer_to_owner(session, obj, seed)
    for item_id, before in grouped.reopened:
        item = session.get(ActionItem, item_id, populate_existing=True)
        if item is not None:
            notices.status_changed(session, item, before, hooks=hooks)
    notices.items_created(session, grouped.created, hooks=hooks)
