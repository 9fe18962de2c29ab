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
from typing import Any, TypedDict, Unpack

import numpy as np
import shapely
from sqlalchemy import Table, func, or_, select
from sqlalchemy.orm import Session
from sqlmodel import col

from api.action_items import features, follow_up_rollup
from api.assets import service as assets
from api.auth.principal import Principal
from api.core import dialect, spatial, tenancy
from api.core.errors import Conflict, InvalidInput, NotFound
from api.core.i18n import plural
from api.deadlines import rules as response_times
from api.hotspots import rollup as hotspot_rollup
from api.notices import outbox as notices
from geo.grouping import (
    Candidate,
    GroupPoint,
    centroid,
    footprint,
    group_points,
    group_shapes,
    nearest_within,
)
from geo.units import bbox_around
from models.action_items import (
    RESOLVED_STATUSES,
    ActionEvent,
    ActionItem,
    ActionStatus,
    OwnerType,
    RegroupResult,
)
from models.areas import Area
from models.base import utcnow
from models.categories import Category
from models.exchange import Open311Dispatch
from models.notices import NoticeKind
from models.observations import Moderation, Observation
from models.organizations import Language, Organization
from models.walks import Participant

# The tables themselves, for the regroup's set-based reads and writes.
ACTION_ITEM: Table = ActionItem.__table__  # type: ignore[attr-defined]
ACTION_EVENT: Table = ActionEvent.__table__  # type: ignore[attr-defined]
OBSERVATION: Table = Observation.__table__  # type: ignore[attr-defined]
PARTICIPANT: Table = Participant.__table__  # type: ignore[attr-defined]

DEFAULT_GRACE_DAYS = 90


# --- priority ------------------------------------------------------------------------------


def priority_score(
    count: int,
    severities: Sequence[int | None],
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
    said = [s for s in severities if s is not None]  # a skipped severity says nothing
    severity = 30.0 * ((sum(said) / len(said)) - 1) / 2 if said else 0.0
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


# --- events --------------------------------------------------------------------------------


class EventFields(TypedDict, total=False):
    """What an ActionEvent says besides its kind; the actor is a caller or a participant."""

    actor: Principal | None
    participant_id: uuid.UUID | None
    from_status: str | None
    to_status: str | None
    changes: dict[str, Any] | None
    comment: str | None


def record_event(
    session: Session, item: ActionItem, *, kind: str, **fields: Unpack[EventFields]
) -> ActionEvent:
    event = ActionEvent(**_event(item.organization_id, item.id, utcnow(), kind=kind, **fields))
    session.add(event)
    return event


def _rollups(session: Session, item_ids: list[uuid.UUID]) -> None:
    """Items whose status or members changed, told to every rollup that counts items: the
    hotspot map's open items per cell and the follow-up figures."""
    hotspot_rollup.items_changed(session, item_ids)
    follow_up_rollup.sync(session, item_ids)


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
    notices.status_changed(session, item, before, actor=actor, comment=comment)
    # An item that opens or closes enters or leaves the hotspot map's open items.
    _rollups(session, [item.id])


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
        if close_if_empty and item.status in features.OPEN_STATUSES:
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
    area = session.get(Area, item.area_id) if item.area_id is not None else None
    return title_for(lang, cat, area.name if area else None, item.observation_count)


def title_for(lang: Language, cat: Category | None, area_name: str | None, count: int) -> str:
    label = "?" if cat is None else cat.label(lang)
    count = max(count, 1)
    if area_name is None:
        return plural("item.title_no_area", lang, count, category=label)[:200]
    return plural("item.title", lang, count, category=label, area=area_name)[:200]


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


def _set_due_date_if_missing(session: Session, item: ActionItem) -> None:
    """A new item's due date, from the organization's response-time rules; one set by hand
    (even to none) stays."""
    if item.due_date is None and not item.due_date_manual:
        times = response_times.load(session, item.organization_id)
        item.due_date = times.due_date(
            item.category_id, item.department, effective_priority(item), item.created_at
        )


# --- incremental ---------------------------------------------------------------------------


def group_key(
    org_id: uuid.UUID, area_id: uuid.UUID | None, category_id: uuid.UUID
) -> dialect.GroupKey:
    """The unit of grouping, and of its lock: one category's items in one area."""
    return (org_id, area_id, category_id)


def lock_item_groups(session: Session, items: Iterable[ActionItem]) -> None:
    dialect.lock_groups(
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
            # A lamp's item holds the observations that name the lamp, and only those.
            col(ActionItem.asset_id).is_(None),
            area_match,
            dialect.bbox_filter(session, "observation", Observation.location, box),
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
    dialect.lock_groups(session, [group_key(obs.organization_id, obs.area_id, cat.id)])
    if obs.asset_id is not None:
        item, created = _item_of_lamp(session, obs, cat, rules)
    else:
        item, created = _item_by_distance(session, obs, cat, rules, lon, lat)
    obs.action_item_id = item.id
    session.flush()
    refresh(session, item)
    _set_due_date_if_missing(session, item)
    session.flush()
    follow_up_rollup.sync(session, [item.id])
    if created:  # told once complete: its place, priority, due date and owner are known now
        refer_to_owner(session, item, obs)
        notices.item_created(session, item)
    return item


def lamp_key(org_id: uuid.UUID, asset_id: uuid.UUID) -> dialect.GroupKey:
    """The lock of one lamp's items: its observations may lie in different areas."""
    return (org_id, "asset", asset_id)


def _item_of_lamp(
    session: Session, obs: Observation, cat: Category, rules: GroupingRules
) -> tuple[ActionItem, bool]:
    """One action item per lamp: observations naming the same lamp join its open item, whatever
    the distance rules say; a recently resolved one reopens; else a new item of the lamp."""
    assert obs.asset_id is not None
    dialect.lock_groups(session, [lamp_key(obs.organization_id, obs.asset_id)])
    of_lamp = (
        select(col(ActionItem.id))
        .where(
            col(ActionItem.organization_id) == obs.organization_id,
            col(ActionItem.asset_id) == obs.asset_id,
            col(ActionItem.category_id) == cat.id,
        )
        .order_by(col(ActionItem.created_at).desc(), col(ActionItem.id))
        .limit(1)
    )
    open_id = session.scalar(of_lamp.where(col(ActionItem.status).in_(features.OPEN)))
    if open_id is not None:
        item = _fresh(session, open_id)
        assert item is not None
        return item, False
    done_id = session.scalar(
        of_lamp.where(col(ActionItem.status).in_([str(s) for s in RESOLVED_STATUSES]))
    )
    resolved = _fresh(session, done_id) if done_id is not None else None
    why = "a new observation of the lamp was made after it was resolved"
    if resolved is not None and _reopened_in_grace(session, resolved, obs, rules, why):
        return resolved, False
    item = new_item(session, cat, obs.area_id, obs, recurrence_of=resolved.id if resolved else None)
    item.asset_id = obs.asset_id
    return item, True


def _reopened_in_grace(
    session: Session, resolved: ActionItem, obs: Observation, rules: GroupingRules, comment: str
) -> bool:
    """A new observation reopens an item resolved within the grace period (the fix did not
    hold); after it, the observation starts a new item, a recurrence of the resolved one."""
    grace = timedelta(days=rules.reopen_grace_days)
    if resolved.resolved_at is None or utcnow() - resolved.resolved_at > grace:
        return False
    set_status(
        session, resolved, ActionStatus.reopened, kind="system", participant_id=obs.participant_id,
        comment=comment,
    )  # fmt: skip
    return True


def refer_to_owner(session: Session, item: ActionItem, obs: Observation) -> None:
    """An item on a lamp the organization does not own is the owner's to fix: referred on
    creation, and queued for the owner's case system or mailed to the owner, as configured."""
    referral = assets.referral_for(session, item)
    if referral is None:
        return
    item.referred_to = referral.owner_name[:200]
    set_status(
        session, item, ActionStatus.referred, kind="system", participant_id=obs.participant_id,
        comment=f"the lamp belongs to {referral.owner_name}",
    )  # fmt: skip
    if referral.route_id is not None:
        session.add(
            Open311Dispatch(
                organization_id=item.organization_id,
                action_item_id=item.id,
                route_id=referral.route_id,
                reason="referred",
            )
        )
        record_event(session, item, kind="open311_queued", comment="queued for the owner")
    if referral.email is not None:
        notices.mail_outside(
            session, item.organization_id, NoticeKind.referred, referral.email,
            assets.referral_mail(session, item, obs), item=item,
        )  # fmt: skip
        record_event(session, item, kind="system", comment="queued for mail to the owner")
    session.flush()


def _item_by_distance(
    session: Session,
    obs: Observation,
    cat: Category,
    rules: GroupingRules,
    lon: float,
    lat: float,
) -> tuple[ActionItem, bool]:
    """The nearest open item of the category within its distance, a recently resolved one
    reopened, or a new item (a recurrence of an older resolved one)."""
    open_near = _nearby_members(session, obs, cat, features.OPEN_STATUSES, lon, lat)
    best = nearest_within(
        lon, lat, [Candidate(str(i), x, y) for i, x, y in open_near], cat.group_distance_m
    )
    item = _fresh(session, uuid.UUID(best.key)) if best else None
    created = False
    if item is None:
        done_near = _nearby_members(session, obs, cat, RESOLVED_STATUSES, lon, lat)
        done = nearest_within(
            lon, lat, [Candidate(str(i), x, y) for i, x, y in done_near], cat.group_distance_m
        )
        resolved = _fresh(session, uuid.UUID(done.key)) if done else None
        why = "a new observation was made here after it was resolved"
        if resolved is not None:
            if _reopened_in_grace(session, resolved, obs, rules, why):
                item = resolved
            else:
                item = new_item(session, cat, obs.area_id, obs, recurrence_of=resolved.id)
                created = True
        else:
            item = new_item(session, cat, obs.area_id, obs)
            created = True
    return item, created


def detach(session: Session, obs: Observation, *, actor: Principal | None = None) -> None:
    """Take a no-longer-accepted observation out of its item; an emptied item is closed."""
    if obs.action_item_id is None:
        return
    dialect.lock_groups(session, [group_key(obs.organization_id, obs.area_id, obs.category_id)])
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
        dialect.lock_groups(session, keys)
        item = _fresh(session, item.id)
    if item is not None and item.category_id != obs.category_id:
        detach(session, obs)  # the category changed: regroup where it now belongs
    elif item is not None:
        refresh(session, item)  # severity or perceived safety may have changed the priority
        session.flush()
    assign(session, obs, rules)


# --- lookups -------------------------------------------------------------------------------


def get_item(session: Session, org_id: uuid.UUID, item_id: uuid.UUID) -> ActionItem:
    return tenancy.owned(session, ActionItem, org_id, item_id, "error.no_such_item")


# --- regroup -------------------------------------------------------------------------------


@dataclass(slots=True)
class _Obs:
    """An accepted observation with a location, as the regroup reads it."""

    id: uuid.UUID
    category_id: uuid.UUID
    item_id: uuid.UUID | None
    lon: float
    lat: float
    recorded_at: datetime
    severity: int | None
    perceived_safety: int | None
    is_dark: bool | None
    participant_id: uuid.UUID | None
    participant_group: str | None
    asset_id: uuid.UUID | None = None


# One action item per lamp, in a regroup too: a lamp's observations are a grouping key of their
# own, at a distance that takes them all, whatever their distance rules say.
_WHOLE_LAMP_M = 1e7


def _regroup_key(code: str, obs: _Obs) -> str:
    return code if obs.asset_id is None else f"{code}@{obs.asset_id}"


@dataclass(slots=True)
class _Item:
    """An open item of the area as the regroup reads it (only what it compares or rewrites)."""

    id: uuid.UUID
    category_id: uuid.UUID
    status: str
    created_at: datetime
    title: str
    title_edited: bool
    observation_count: int
    location: Any  # shapely, or None
    footprint: Any
    first_seen_at: datetime | None
    last_seen_at: datetime | None
    participant_groups: list[str]
    priority_score: float
    priority_override: float | None
    due_date: date | None
    version: int
    department: str | None
    due_date_manual: bool


def _read_observations(session: Session, area: Area, *, elsewhere: bool) -> list[_Obs]:
    """The area's accepted observations with a location, or (``elsewhere``) those outside the
    area that belong to one of its open items: members all the same, though never regrouped."""
    o = OBSERVATION.c
    p = PARTICIPANT.c
    stmt = select(
        o.id, o.category_id, o.action_item_id, func.ST_X(o.location), func.ST_Y(o.location),
        o.recorded_at, o.severity, o.perceived_safety, o.is_dark, o.participant_id, p.group,
        o.asset_id,
    ).where(
        o.moderation == str(Moderation.accepted), o.location.is_not(None)
    )  # fmt: skip
    if elsewhere:
        i = ACTION_ITEM.c
        stmt = stmt.select_from(
            OBSERVATION.join(ACTION_ITEM, i.id == o.action_item_id).outerjoin(
                PARTICIPANT, p.id == o.participant_id
            )
        ).where(
            i.area_id == area.id,
            i.status.in_(features.OPEN),
            or_(o.area_id.is_(None), o.area_id != area.id),
        )
    else:
        stmt = stmt.select_from(OBSERVATION.outerjoin(PARTICIPANT, p.id == o.participant_id)).where(
            o.area_id == area.id
        )
    return [
        _Obs(r[0], r[1], r[2], float(r[3]), float(r[4]), r[5], r[6], r[7], r[8], r[9],
             None if r[10] is None else str(r[10]), r[11])
        for r in session.execute(stmt).all()
    ]  # fmt: skip


def _read_open_items(session: Session, area: Area) -> dict[uuid.UUID, _Item]:
    i = ACTION_ITEM.c
    rows = session.execute(
        select(
            i.id, i.category_id, i.status, i.created_at, i.title, i.title_edited,
            i.observation_count, dialect.as_wkb(session, i.location),
            dialect.as_wkb(session, i.footprint), i.first_seen_at, i.last_seen_at,
            i.participant_groups, i.priority_score, i.priority_override, i.due_date, i.version,
            i.department, i.due_date_manual,
        ).where(i.area_id == area.id, i.status.in_(features.OPEN))
    ).all()  # fmt: skip
    locations = shapely.from_wkb([None if r[7] is None else bytes(r[7]) for r in rows])
    footprints = shapely.from_wkb([None if r[8] is None else bytes(r[8]) for r in rows])
    return {
        r[0]: _Item(
            r[0], r[1], str(r[2]), r[3], r[4], bool(r[5]), r[6], locations[k], footprints[k],
            r[9], r[10], list(r[11] or []), r[12], r[13], r[14], r[15], r[16], bool(r[17]),
        )
        for k, r in enumerate(rows)
    }  # fmt: skip


def _event(
    org_id: uuid.UUID, item_id: uuid.UUID, now: datetime, *, kind: str, **f: Unpack[EventFields]
) -> dict[str, Any]:
    """An action_event row: added by ``record_event``, or inserted in bulk."""
    actor = f.get("actor")
    return {
        "id": uuid.uuid4(),
        "organization_id": org_id,
        "action_item_id": item_id,
        "actor_user_id": actor.user.id if actor and actor.user else None,
        "actor_participant_id": (
            actor.participant.id if actor and actor.participant else f.get("participant_id")
        ),
        "kind": kind,
        "from_status": f.get("from_status"),
        "to_status": f.get("to_status"),
        "changes": f.get("changes") or {},
        "comment": f.get("comment"),
        "created_at": now,
    }


def _differs(old: _Item, new: dict[str, Any]) -> bool:
    """Whether an item's recomputed figures differ from what is stored (geometry exactly)."""
    return bool(
        old.observation_count != new["observation_count"]
        or old.first_seen_at != new["first_seen_at"]
        or old.last_seen_at != new["last_seen_at"]
        or old.participant_groups != new["participant_groups"]
        or old.priority_score != new["priority_score"]
        or old.title != new["title"]
        or old.due_date != new["due_date"]
        or old.location is None
        or old.footprint is None
        or not shapely.equals_exact(old.location, new["location"], tolerance=0.0)
        or not shapely.equals_exact(old.footprint, new["footprint"], tolerance=0.0)
    )


def _update_items(session: Session, rows: list[dict[str, Any]]) -> None:
    """One bulk UPDATE, each item only at the version the regroup read: an item someone moved
    meanwhile (a status change takes no group lock) fails the regroup instead of being
    overwritten, as the ORM's versioned UPDATE did."""
    written = dialect.bulk_update(session, ACTION_ITEM, rows, version="version")
    if written != len(rows):
        raise Conflict(key="error.regroup_raced")


def regroup_area(session: Session, principal: Principal, area: Area) -> RegroupResult:
    """Recompute the area's grouping from scratch, keeping the ids (and status and history) of
    the items it can match: each new group takes the existing open item it shares most
    observations with, preferring items already being worked on. Resolved and closed items and
    their observations are left alone.

    Set-based: the area is read once, grouped in ``geo``, and written back with a fixed number
    of statements whatever the number of items (bulk insert of new items and their events, one
    bulk update of the observations that move, one of the items that changed). Items whose
    figures did not change are not written (their version, the ETag, stays).
    """
    cats = {
        c.id: c
        for c in session.scalars(
            select(Category).where(col(Category.organization_id) == area.organization_id)
        )
    }
    distances = {c.code: c.group_distance_m for c in cats.values() if c.actionable}
    dialect.lock_groups(
        session,
        [group_key(area.organization_id, area.id, c.id) for c in cats.values() if c.actionable],
    )
    org = session.get(Organization, area.organization_id)
    lang = org.language if org is not None else Language.nb
    open_items = _read_open_items(session, area)

    # Who takes part: accepted observations of actionable categories that are not members of
    # an item other than this area's open ones. Members of those open items that do not take
    # part (a category no longer actionable, moved out of the area) stay where they are.
    rows: list[_Obs] = []
    staying: dict[uuid.UUID, list[_Obs]] = defaultdict(list)
    for obs in _read_observations(session, area, elsewhere=False):
        if obs.item_id is not None and obs.item_id not in open_items:
            continue  # belongs to a resolved or closed item: history stays as it is
        cat = cats.get(obs.category_id)
        if cat is None or not cat.actionable:
            if obs.item_id is not None:
                staying[obs.item_id].append(obs)
            continue
        rows.append(obs)
    if open_items:
        for obs in _read_observations(session, area, elsewhere=True):
            assert obs.item_id is not None
            staying[obs.item_id].append(obs)

    by_id = {str(r.id): r for r in rows}
    for r in rows:
        if r.asset_id is not None:
            distances[_regroup_key(cats[r.category_id].code, r)] = _WHOLE_LAMP_M
    groups = group_points(
        [
            GroupPoint(key, _regroup_key(cats[r.category_id].code, r), r.lon, r.lat)
            for key, r in by_id.items()
        ],
        distances,
    )

    # Match groups to items: most shared observations first, then items being worked on, then
    # the oldest; each item and each group at most once.
    pairs: list[tuple[int, int, str, str, int]] = []
    for gi, group in enumerate(groups):
        overlap: dict[uuid.UUID, int] = defaultdict(int)
        for oid in group:
            current = by_id[oid].item_id
            if current is not None:
                overlap[current] += 1
        for item_id, n in overlap.items():
            item = open_items[item_id]
            worked_on = 0 if item.status == ActionStatus.new else 1
            pairs.append((-n, -worked_on, item.created_at.isoformat(), str(item_id), gi))
    pairs.sort()
    group_item: dict[int, uuid.UUID] = {}
    taken: set[uuid.UUID] = set()
    for _n, _w, _c, item_key, gi in pairs:
        item_id = uuid.UUID(item_key)
        if gi in group_item or item_id in taken:
            continue
        group_item[gi] = item_id
        taken.add(item_id)

    # Every item's members afterwards: a new group's (in id order) plus those staying put.
    members: dict[uuid.UUID, list[_Obs]] = {i: [] for i in open_items}
    moves: list[dict[str, Any]] = []
    for gi, group in enumerate(groups):
        target = group_item.get(gi)
        if target is None:
            target = uuid.uuid4()
            members[target] = []
        for oid in group:
            obs = by_id[oid]
            members[target].append(obs)
            if obs.item_id != target:
                moves.append({"id": obs.id, "action_item_id": target})
    for item_id, extra in staying.items():
        members[item_id].extend(extra)

    filled = [i for i, m in members.items() if m]
    points = [m for i in filled for m in members[i]]
    shapes = (
        group_shapes(
            [m.lon for m in points],
            [m.lat for m in points],
            np.repeat(np.arange(len(filled)), [len(members[i]) for i in filled]),
            len(filled),
        )
        if filled
        else None
    )
    titles: dict[tuple[uuid.UUID | None, int], str] = {}

    def title(cat: Category | None, count: int) -> str:
        key = (cat.id if cat else None, count)
        if key not in titles:
            titles[key] = title_for(lang, cat, area.name, count)
        return titles[key]

    now = utcnow()
    times = response_times.load(session, area.organization_id)

    def due(old: _Item, priority: float) -> date | None:
        """An open item keeps its due date; one without gets the rules' (not if set by hand)."""
        if old.due_date is not None or old.due_date_manual:
            return old.due_date
        return times.due_date(old.category_id, old.department, priority, old.created_at)

    new_rows: list[dict[str, Any]] = []
    changed: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    closed = 0
    for k, item_id in enumerate(filled):
        assert shapes is not None
        mem = members[item_id]
        lon, lat = shapes.centroids[k]
        last_seen = max(m.recorded_at for m in mem)
        figures: dict[str, Any] = {
            "location": spatial.point(lon, lat),
            "footprint": shapes.footprints[k],
            "observation_count": len(mem),
            "first_seen_at": min(m.recorded_at for m in mem),
            "last_seen_at": last_seen,
            "participant_groups": sorted(
                {m.participant_group for m in mem if m.participant_group is not None}
            ),
            "priority_score": priority_score(
                len(mem), [m.severity for m in mem], [m.perceived_safety for m in mem],
                [m.is_dark for m in mem], last_seen, now,
            ),
        }  # fmt: skip
        old = open_items.get(item_id)
        if old is None:
            cat = cats[mem[0].category_id]
            new_rows.append({
                "id": item_id, "organization_id": area.organization_id, "area_id": area.id,
                "category_id": cat.id, "title": title(cat, len(mem)),
                "title_edited": False, **figures, "priority_override": None,
                "department": cat.default_department, "owner_type": str(OwnerType.municipality),
                "due_date": times.due_date(
                    cat.id, cat.default_department, figures["priority_score"], now
                ),
                "status": str(ActionStatus.new), "version": 1, "created_at": now,
                "updated_at": now, "asset_id": mem[0].asset_id,
            })  # fmt: skip
            # Attributed like an item started on arrival: to whoever reported its first member.
            events.append(_event(area.organization_id, item_id, now, kind="created",
                                 participant_id=mem[0].participant_id,
                                 to_status=str(ActionStatus.new)))  # fmt: skip
            continue
        figures["title"] = (
            old.title
            if old.title_edited  # a coordinator's own title stays
            else title(cats.get(old.category_id), len(mem))
        )
        priority = old.priority_override
        figures["due_date"] = due(old, figures["priority_score"] if priority is None else priority)
        if _differs(old, figures):
            changed.append({"id": item_id, **figures, "updated_at": now, "version": old.version})
        if old.observation_count != len(mem):
            events.append(_event(area.organization_id, item_id, now, kind="regroup",
                                 actor=principal,
                                 changes={"observation_count": [old.observation_count, len(mem)]}))  # fmt: skip
    for item_id, old in open_items.items():
        if members[item_id]:
            continue
        # Emptied: closed, its history kept (never deleted).
        emptied: dict[str, Any] = {
            "id": item_id, "observation_count": 0, "status": str(ActionStatus.closed_empty),
            "updated_at": now, "version": old.version,
        }  # fmt: skip
        priority = (
            old.priority_override if old.priority_override is not None else old.priority_score
        )
        emptied["due_date"] = due(old, priority)
        changed.append(emptied)
        events.append(_event(area.organization_id, item_id, now, kind="regroup", actor=principal,
                             from_status=old.status, to_status=str(ActionStatus.closed_empty),
                             comment="emptied by a regroup of the area"))  # fmt: skip
        closed += 1

    # Items first (observations refer to them), then the moves, then the items' figures.
    dialect.bulk_insert(session, ACTION_ITEM, new_rows)
    dialect.bulk_update(session, OBSERVATION, moves)
    _update_items(session, [r for r in changed if "location" in r])
    _update_items(session, [r for r in changed if "location" not in r])
    dialect.bulk_insert(session, ACTION_EVENT, events)
    # Objects this session loaded before are stale now.
    for obj in list(session.identity_map.values()):
        if isinstance(obj, ActionItem | Observation):
            session.expire(obj)
    if new_rows or moves or changed:  # an unchanged area writes nothing, rollups included
        hotspot_rollup.items_changed(session, [*open_items, *(r["id"] for r in new_rows)])
        follow_up_rollup.sync(
            session, [*open_items, *(r["id"] for r in new_rows), *(r["id"] for r in changed)]
        )
    return RegroupResult(
        observations=len(rows),
        items_kept=len(group_item),
        items_created=len(new_rows),
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
        raise InvalidInput.at(["body", "other_id"], "error.merge_into_itself")
    try:
        other = get_item(session, principal.org_id, other_id)
    except NotFound as exc:
        raise InvalidInput.at(["body", "other_id"], "error.no_such_item") from exc
    lock_item_groups(session, [target, other])
    session.refresh(target)
    session.refresh(other)
    if target.status not in features.OPEN_STATUSES or other.status not in features.OPEN_STATUSES:
        raise Conflict(key="error.merge_only_open")
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
    _rollups(session, [target.id, other.id])
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
            raise InvalidInput.at(
                ["body", "observation_ids", i], "error.not_an_observation_of_item"
            )
    if len(wanted) == len(members):
        raise InvalidInput.at(["body", "observation_ids"], "error.split_leave_one")
    if item.status not in features.OPEN_STATUSES:
        raise Conflict(key="error.split_only_open")
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
    _set_due_date_if_missing(session, fresh)
    session.flush()
    _rollups(session, [item.id, fresh.id])
    notices.item_created(session, fresh, actor=principal)
    return fresh
