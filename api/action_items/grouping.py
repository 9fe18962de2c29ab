"""The action list: observations grouped into action items per area, kept up to date.

Grouping itself is pure (``geo.grouping``); this module feeds it from the database and writes
the result back: incremental assignment when an observation arrives or is moderated, a full
regroup of an area that keeps the ids of items already being worked on, merge and split.
"""

from __future__ import annotations

import math
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlmodel import col

from api import spatial
from api.errors import Conflict, InvalidInput, NotFound
from api.i18n import plural
from api.principal import Principal
from geo.grouping import Candidate, GroupPoint, centroid, footprint, group_points, nearest_within
from geo.projection import bbox_around
from models import (
    OPEN_STATUSES,
    ActionEvent,
    ActionItem,
    ActionStatus,
    Area,
    Category,
    Moderation,
    Observation,
    Organization,
    Participant,
    utcnow,
)
from models.action_items import RegroupResult
from models.organizations import Language

RESOLVED_STATUSES = frozenset({ActionStatus.resolved, ActionStatus.verified})
DEFAULT_GRACE_DAYS = 90


# --- priority ------------------------------------------------------------------------------


def priority_score(
    count: int,
    severities: Sequence[int],
    safeties: Sequence[int | None],
    dark: Sequence[bool | None],
    last_seen: datetime | None,
    now: datetime,
) -> float:
    """0-100: more reports, worse severity, lower perceived safety, darkness and recency rank higher.

    Weights: reports 25 (saturating at about 8), severity 30, perceived safety 20, dark 15,
    recency 10 (half-life about two months). Documented so coordinators can reason about it.
    """
    reports = 25.0 * min(1.0, math.log2(1 + count) / math.log2(9))
    severity = 30.0 * ((sum(severities) / len(severities)) - 1) / 2 if severities else 0.0
    known = [s for s in safeties if s is not None]
    safety = 20.0 * (3 - sum(known) / len(known)) / 3 if known else 10.0
    flags = [d for d in dark if d is not None]
    darkness = 15.0 * (sum(1 for d in flags if d) / len(flags)) if flags else 0.0
    recency = 0.0
    if last_seen is not None:
        age_days = max(0.0, (now - last_seen).total_seconds() / 86400)
        recency = 10.0 * 0.5 ** (age_days / 60)
    return round(reports + severity + safety + darkness + recency, 2)


def effective_priority(item: ActionItem) -> float:
    return item.priority_override if item.priority_override is not None else item.priority_score


def default_due_date(priority: float, today: date) -> date:
    """High priority within a month, medium within three, the rest within six (Kungsbacka's aim)."""
    if priority >= 60:
        return today + timedelta(days=30)
    if priority >= 40:
        return today + timedelta(days=90)
    return today + timedelta(days=180)


# --- events --------------------------------------------------------------------------------


def record_event(
    session: Session,
    item: ActionItem,
    *,
    kind: str,
    actor: Principal | None = None,
    participant_id: uuid.UUID | None = None,
    from_status: str | None = None,
    to_status: str | None = None,
    changes: dict[str, Any] | None = None,
    comment: str | None = None,
) -> ActionEvent:
    event = ActionEvent(
        organization_id=item.organization_id,
        action_item_id=item.id,
        actor_user_id=actor.user.id if actor and actor.user else None,
        actor_participant_id=(
            actor.participant.id if actor and actor.participant else participant_id
        ),
        kind=kind,
        from_status=from_status,
        to_status=to_status,
        changes=changes or {},
        comment=comment,
    )
    session.add(event)
    return event


def set_status(
    session: Session,
    item: ActionItem,
    target: ActionStatus,
    *,
    kind: str = "status",
    actor: Principal | None = None,
    participant_id: uuid.UUID | None = None,
    comment: str | None = None,
) -> None:
    before = str(item.status)
    item.status = target
    if target == ActionStatus.resolved:
        item.resolved_at = utcnow()
    elif target in (ActionStatus.reopened, ActionStatus.new, ActionStatus.triaged):
        item.resolved_at = None
    item.updated_at = utcnow()
    record_event(
        session, item, kind=kind, actor=actor, participant_id=participant_id,
        from_status=before, to_status=str(target), comment=comment,
    )  # fmt: skip


# --- aggregates ----------------------------------------------------------------------------


def _members(session: Session, item_id: uuid.UUID) -> list[Observation]:
    return list(
        session.scalars(
            select(Observation).where(
                col(Observation.action_item_id) == item_id,
                col(Observation.moderation) == Moderation.accepted,
            )
        )
    )


def refresh(session: Session, item: ActionItem, *, close_if_empty: bool = True) -> None:
    """Recompute location, footprint, counts, groups and priority from the members."""
    members = [m for m in _members(session, item.id) if m.location is not None]
    if not members:
        item.observation_count = 0
        if close_if_empty and item.status in OPEN_STATUSES:
            set_status(
                session,
                item,
                ActionStatus.closed_empty,
                kind="system",
                comment="no observations left",
            )
        return
    pts = []
    for m in members:
        p = spatial.from_db(m.location)
        assert p is not None
        pts.append((p.x, p.y))
    lon, lat = centroid(pts)
    item.location = spatial.to_db(spatial.point(lon, lat))
    item.footprint = spatial.to_db(footprint(pts))
    item.observation_count = len(members)
    item.first_seen_at = min(m.recorded_at for m in members)
    item.last_seen_at = max(m.recorded_at for m in members)
    pids = {m.participant_id for m in members if m.participant_id}
    groups = (
        sorted(
            {
                str(g)
                for g in session.scalars(
                    select(col(Participant.group)).where(col(Participant.id).in_(pids))
                )
            }
        )
        if pids
        else []
    )
    item.participant_groups = groups
    item.priority_score = priority_score(
        len(members),
        [m.severity for m in members],
        [m.perceived_safety for m in members],
        [m.is_dark for m in members],
        item.last_seen_at,
        utcnow(),
    )
    if not item.title_edited:
        # The number of reports is part of the title; a coordinator's own title stays.
        item.title = describe(session, item)
    item.updated_at = utcnow()


def describe(session: Session, item: ActionItem, cat: Category | None = None) -> str:
    """A title people recognise, in the organization's language: what, where, how many reports
    ("Dårlig belysning – Sentrum (3 meldinger)")."""
    org = session.get(Organization, item.organization_id)
    lang = org.language if org is not None else Language.nb
    cat = cat or session.get(Category, item.category_id)
    label = "?" if cat is None else (cat.label_nb if lang == Language.nb else cat.label_en)
    area = session.get(Area, item.area_id) if item.area_id is not None else None
    count = max(item.observation_count, 1)
    if area is None:
        return plural("item.title_no_area", lang, count, category=label)[:200]
    return plural("item.title", lang, count, category=label, area=area.name)[:200]


def new_item(
    session: Session,
    cat: Category,
    area_id: uuid.UUID | None,
    seed: Observation,
    *,
    recurrence_of: uuid.UUID | None = None,
) -> ActionItem:
    item = ActionItem(
        organization_id=seed.organization_id,
        area_id=area_id,
        category_id=cat.id,
        title="",
        location=seed.location,
        department=cat.default_department,
        recurrence_of_id=recurrence_of,
    )
    item.title = describe(session, item, cat)
    session.add(item)
    session.flush()
    record_event(
        session, item, kind="created", participant_id=seed.participant_id, to_status=str(ActionStatus.new),
        comment="recurrence of a resolved item" if recurrence_of else None,
        changes={"recurrence_of": str(recurrence_of)} if recurrence_of else {},
    )  # fmt: skip
    return item


def _set_due_date_if_missing(item: ActionItem) -> None:
    if item.due_date is None:
        item.due_date = default_due_date(effective_priority(item), utcnow().date())


# --- incremental ---------------------------------------------------------------------------


def group_key(
    org_id: uuid.UUID, area_id: uuid.UUID | None, category_id: uuid.UUID
) -> spatial.GroupKey:
    """The unit of grouping, and of its lock: one category's items in one area."""
    return (org_id, area_id, category_id)


def lock_item_groups(session: Session, items: Iterable[ActionItem]) -> None:
    spatial.lock_groups(
        session, [group_key(i.organization_id, i.area_id, i.category_id) for i in items]
    )


def _fresh(session: Session, item_id: uuid.UUID) -> ActionItem | None:
    """The item as committed now (after taking its group's lock), not as this session first
    saw it: a stale copy would carry a stale version and fail its UPDATE."""
    return session.get(ActionItem, item_id, populate_existing=True)


def _nearby_members(
    session: Session,
    obs: Observation,
    cat: Category,
    statuses: Iterable[ActionStatus],
    lon: float,
    lat: float,
) -> list[tuple[uuid.UUID, float, float]]:
    """(item id, lon, lat) of accepted members of items in ``statuses`` near the point,
    same organization, category and area; the bounding box goes through the spatial index."""
    dialect = session.get_bind().dialect.name
    box = bbox_around(lon, lat, cat.group_distance_m * 1.01)
    area_match = (
        col(ActionItem.area_id) == obs.area_id
        if obs.area_id is not None
        else col(ActionItem.area_id).is_(None)
    )
    stmt = (
        select(
            col(Observation.action_item_id),
            func.ST_X(Observation.location),
            func.ST_Y(Observation.location),
        )
        .join(ActionItem, col(ActionItem.id) == col(Observation.action_item_id))
        .where(
            col(Observation.organization_id) == obs.organization_id,
            col(Observation.category_id) == cat.id,
            col(Observation.moderation) == Moderation.accepted,
            col(Observation.id) != obs.id,
            col(ActionItem.status).in_([str(s) for s in statuses]),
            area_match,
            spatial.bbox_filter(
                dialect, "observation", Observation.location, spatial.rowid("observation"), box
            ),
        )
    )
    return [
        (r[0], float(r[1]), float(r[2])) for r in session.execute(stmt).all() if r[0] is not None
    ]


@dataclass(frozen=True)
class GroupingRules:
    """What grouping takes from the settings; every caller passes it explicitly."""

    reopen_grace_days: int = DEFAULT_GRACE_DAYS


DEFAULT_RULES = GroupingRules()


def assign(
    session: Session, obs: Observation, rules: GroupingRules = DEFAULT_RULES
) -> ActionItem | None:
    """Put an accepted observation into the nearest open item within its category's distance,
    reopen a recently resolved one, or start a new item (linked as a recurrence if needed)."""
    if obs.action_item_id is not None or obs.location is None:
        return None
    cat = session.get(Category, obs.category_id)
    if cat is None or not cat.actionable:
        return None
    point = spatial.from_db(obs.location)
    assert point is not None
    lon, lat = point.x, point.y
    # Everything below reads the group and then rewrites it: hold the group's lock first.
    spatial.lock_groups(session, [group_key(obs.organization_id, obs.area_id, cat.id)])

    open_near = _nearby_members(session, obs, cat, OPEN_STATUSES, lon, lat)
    best = nearest_within(
        lon, lat, [Candidate(str(i), x, y) for i, x, y in open_near], cat.group_distance_m
    )
    item = _fresh(session, uuid.UUID(best.key)) if best else None
    if item is None:
        done_near = _nearby_members(session, obs, cat, RESOLVED_STATUSES, lon, lat)
        done = nearest_within(
            lon, lat, [Candidate(str(i), x, y) for i, x, y in done_near], cat.group_distance_m
        )
        resolved = _fresh(session, uuid.UUID(done.key)) if done else None
        if resolved is not None:
            grace = timedelta(days=rules.reopen_grace_days)
            if resolved.resolved_at is not None and utcnow() - resolved.resolved_at <= grace:
                set_status(
                    session, resolved, ActionStatus.reopened, kind="system", participant_id=obs.participant_id,
                    comment="a new observation was made here after it was resolved",
                )  # fmt: skip
                item = resolved
            else:
                item = new_item(session, cat, obs.area_id, obs, recurrence_of=resolved.id)
        else:
            item = new_item(session, cat, obs.area_id, obs)
    obs.action_item_id = item.id
    session.flush()
    refresh(session, item)
    _set_due_date_if_missing(item)
    session.flush()
    return item


def detach(session: Session, obs: Observation, *, actor: Principal | None = None) -> None:
    """Take a no-longer-accepted observation out of its item; an emptied item is closed."""
    if obs.action_item_id is None:
        return
    spatial.lock_groups(session, [group_key(obs.organization_id, obs.area_id, obs.category_id)])
    item = _fresh(session, obs.action_item_id)
    obs.action_item_id = None
    session.flush()
    if item is not None:
        record_event(
            session, item, kind="observation_removed", actor=actor,
            changes={"observation": str(obs.id), "moderation": str(obs.moderation)},
            comment=obs.moderation_reason,
        )  # fmt: skip
        refresh(session, item)
        session.flush()


def observation_changed(
    session: Session, obs: Observation, rules: GroupingRules = DEFAULT_RULES
) -> None:
    """The one entry point for the rest of the service: an observation was stored, placed,
    moderated, edited or withdrawn; its action item follows. Called explicitly by capture,
    moderation, photo placement and author edits (no hook registered at import time, so a
    script that stores observations groups them too)."""
    if obs.moderation != Moderation.accepted:
        detach(session, obs)
        return
    item = session.get(ActionItem, obs.action_item_id) if obs.action_item_id else None
    if item is not None:
        # The author edited it. Lock the item's group and, after a category change, the new
        # group too, in one call (one order): detach and assign then only re-enter them.
        keys = {
            group_key(obs.organization_id, obs.area_id, c)
            for c in (item.category_id, obs.category_id)
        }
        spatial.lock_groups(session, keys)
        item = _fresh(session, item.id)
    if item is not None and item.category_id != obs.category_id:
        detach(session, obs)  # the category changed: regroup where it now belongs
    elif item is not None:
        refresh(session, item)  # severity or perceived safety may have changed the priority
        session.flush()
    assign(session, obs, rules)


# --- lookups -------------------------------------------------------------------------------


def get_item(session: Session, org_id: uuid.UUID, item_id: uuid.UUID) -> ActionItem:
    item = session.get(ActionItem, item_id)
    if item is None or item.organization_id != org_id:
        raise NotFound("no such action item")
    return item


# --- regroup -------------------------------------------------------------------------------


@dataclass
class _Row:
    obs: Observation
    code: str
    lon: float
    lat: float


def regroup_area(session: Session, principal: Principal, area: Area) -> RegroupResult:
    """Recompute the area's grouping from scratch, keeping the ids (and status and history) of
    the items it can match: each new group takes the existing open item it shares most
    observations with, preferring items already being worked on. Resolved and closed items and
    their observations are left alone."""
    cats = {
        c.id: c
        for c in session.scalars(
            select(Category).where(col(Category.organization_id) == area.organization_id)
        )
    }
    distances = {c.code: c.group_distance_m for c in cats.values() if c.actionable}
    spatial.lock_groups(
        session,
        [group_key(area.organization_id, area.id, c.id) for c in cats.values() if c.actionable],
    )
    open_items = {
        i.id: i
        for i in session.scalars(
            select(ActionItem)
            .where(
                col(ActionItem.area_id) == area.id,
                col(ActionItem.status).in_([str(s) for s in OPEN_STATUSES]),
            )
            .execution_options(populate_existing=True)
        )
    }
    rows: list[_Row] = []
    stmt = select(
        Observation, func.ST_X(Observation.location), func.ST_Y(Observation.location)
    ).where(
        col(Observation.area_id) == area.id,
        col(Observation.moderation) == Moderation.accepted,
        col(Observation.location).is_not(None),
    )
    for obs, x, y in session.execute(stmt).all():
        cat = cats.get(obs.category_id)
        if cat is None or not cat.actionable:
            continue
        if obs.action_item_id is not None and obs.action_item_id not in open_items:
            continue  # belongs to a resolved or closed item: history stays as it is
        rows.append(_Row(obs, cat.code, float(x), float(y)))
    by_id = {str(r.obs.id): r for r in rows}
    groups = group_points(
        [GroupPoint(str(r.obs.id), r.code, r.lon, r.lat) for r in rows], distances
    )

    pairs: list[tuple[int, int, str, str, int]] = []
    for gi, members in enumerate(groups):
        overlap: dict[uuid.UUID, int] = defaultdict(int)
        for oid in members:
            current = by_id[oid].obs.action_item_id
            if current is not None:
                overlap[current] += 1
        for item_id, n in overlap.items():
            item = open_items[item_id]
            worked_on = 0 if item.status == ActionStatus.new else 1
            pairs.append((-n, -worked_on, item.created_at.isoformat(), str(item_id), gi))
    pairs.sort()
    group_item: dict[int, ActionItem] = {}
    taken: set[uuid.UUID] = set()
    for _n, _w, _c, item_key, gi in pairs:
        item_id = uuid.UUID(item_key)
        if gi in group_item or item_id in taken:
            continue
        group_item[gi] = open_items[item_id]
        taken.add(item_id)

    created = 0
    touched: dict[uuid.UUID, ActionItem] = dict(open_items)
    before_counts = {i.id: i.observation_count for i in open_items.values()}
    for gi, members in enumerate(groups):
        target = group_item.get(gi)
        if target is None:
            seed = by_id[members[0]].obs
            target = new_item(session, cats[seed.category_id], area.id, seed)
            created += 1
            touched[target.id] = target
        for oid in members:
            by_id[oid].obs.action_item_id = target.id
    session.flush()
    closed = 0
    for item in touched.values():
        refresh(session, item, close_if_empty=False)
        if item.observation_count == 0 and item.status in OPEN_STATUSES:
            set_status(session, item, ActionStatus.closed_empty, kind="regroup", actor=principal,
                       comment="emptied by a regroup of the area")  # fmt: skip
            closed += 1
        elif item.id in before_counts and before_counts[item.id] != item.observation_count:
            record_event(session, item, kind="regroup", actor=principal,
                         changes={"observation_count": [before_counts[item.id], item.observation_count]})  # fmt: skip
        _set_due_date_if_missing(item)
    session.flush()
    return RegroupResult(
        observations=len(rows),
        items_kept=len(group_item),
        items_created=created,
        items_closed=closed,
    )


# --- merge and split -----------------------------------------------------------------------


def merge(
    session: Session,
    principal: Principal,
    target: ActionItem,
    other_id: uuid.UUID,
    comment: str | None,
) -> ActionItem:
    if other_id == target.id:
        raise InvalidInput.at(["body", "other_id"], "an item cannot be merged into itself")
    try:
        other = get_item(session, principal.org_id, other_id)
    except NotFound as exc:
        raise InvalidInput.at(["body", "other_id"], "no such action item") from exc
    lock_item_groups(session, [target, other])
    session.refresh(target)
    session.refresh(other)
    if target.status not in OPEN_STATUSES or other.status not in OPEN_STATUSES:
        raise Conflict("only open items can be merged")
    moved = _members(session, other.id)
    for m in moved:
        m.action_item_id = target.id
    session.flush()
    before = str(other.status)
    other.status = ActionStatus.duplicate
    other.duplicate_of_id = target.id
    other.observation_count = 0
    other.updated_at = utcnow()
    record_event(session, other, kind="merged", actor=principal, from_status=before,
                 to_status=str(ActionStatus.duplicate), changes={"into": str(target.id)}, comment=comment)  # fmt: skip
    record_event(session, target, kind="merged", actor=principal,
                 changes={"from": str(other.id), "observations": len(moved)}, comment=comment)  # fmt: skip
    refresh(session, target)
    session.flush()
    return target


def split(
    session: Session,
    principal: Principal,
    item: ActionItem,
    observation_ids: Sequence[uuid.UUID],
    comment: str | None,
) -> ActionItem:
    lock_item_groups(session, [item])
    session.refresh(item)
    members = {m.id: m for m in _members(session, item.id)}
    wanted = list(dict.fromkeys(observation_ids))
    for i, oid in enumerate(wanted):
        if oid not in members:
            raise InvalidInput.at(["body", "observation_ids", i], "not an observation of this item")
    if len(wanted) == len(members):
        raise InvalidInput.at(
            ["body", "observation_ids"], "leave at least one observation in the item"
        )
    if item.status not in OPEN_STATUSES:
        raise Conflict("only open items can be split")
    cat = session.get(Category, item.category_id)
    assert cat is not None
    seed = members[wanted[0]]
    fresh = new_item(session, cat, item.area_id, seed)
    for oid in wanted:
        members[oid].action_item_id = fresh.id
    session.flush()
    record_event(session, item, kind="split", actor=principal,
                 changes={"to": str(fresh.id), "observations": [str(o) for o in wanted]}, comment=comment)  # fmt: skip
    record_event(
        session,
        fresh,
        kind="split",
        actor=principal,
        changes={"from": str(item.id)},
        comment=comment,
    )
    refresh(session, item)
    refresh(session, fresh)
    _set_due_date_if_missing(fresh)
    session.flush()
    return fresh
