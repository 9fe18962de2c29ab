"""Follow-up figures at a past end, read from the rollup rewound to it (`rewind`), equal a brute
force over the raw rows and the replay of the whole history: seeded random items with random
histories (creations, moves, reopen, resolve, verify, merge into a duplicate, closed empty,
edits that move no status), then regrouped, given other due dates and some deleted, read at
past moments on day boundaries, mid-day and exactly at event times, with several starts,
for every grouping. Both databases."""

from __future__ import annotations

import random
import statistics
import uuid
from collections import defaultdict
from datetime import UTC, datetime, time, timedelta
from typing import Any

from shapely.geometry import Polygon
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from api.action_items import figures, follow_up_rollup
from api.core import spatial
from models import ActionEvent, ActionItem, ActionStatus, Area, Category, Organization, utcnow
from models.action_items import DONE, HIDDEN, OPEN
from tests.factories import make_area, make_category
from tests.factories.world import World

GROUPS = ("area", "department", "category")
CODES = ("lighting", "graffiti", "vegetation")
DEPARTMENTS = ("lighting", "parks", None)
BUSY = 50
SQUARE = Polygon([(5.70, 58.84), (5.72, 58.84), (5.72, 58.86), (5.70, 58.86)])
# The workflow's moves, merges (to duplicate) and emptying (closed_empty) included.
NEXT: dict[str, tuple[str, ...]] = {
    "new": ("triaged", "in_progress", "resolved", "duplicate", "wont_fix", "closed_empty"),
    "triaged": ("planned", "in_progress", "resolved", "referred", "duplicate"),
    "planned": ("in_progress", "resolved", "closed_empty"),
    "in_progress": ("resolved", "wont_fix", "duplicate"),
    "resolved": ("verified", "reopened", "reopened"),
    "reopened": ("triaged", "resolved", "resolved"),
    "verified": ("reopened",),
}


def _midnight(t: datetime) -> datetime:
    return datetime.combine(t.astimezone(UTC).date(), time(), tzinfo=UTC)


def _seed(session: Session, org: Organization, now: datetime, rng: random.Random, n: int) -> None:
    """``n`` items over the last 240 days with up to six status moves each and some edits that
    move no status, written to the tables and counted as the backfill counts them. One in five
    is born on a busy day (`BUSY` days ago) and moves within hours, so that a moment of that
    day has items created, resolved and reopened later the same day."""
    busy = _midnight(now - timedelta(days=BUSY))
    areas = [make_area(session, org, name, SQUARE) for name in ("Austrått", "Sentrum")]
    cats = [make_category(session, org, code) for code in CODES]
    ids = []
    for i in range(n):
        created = now - timedelta(days=rng.uniform(0.2, 240))
        if i % 9 == 0:
            created = _midnight(created)  # an item born on a day boundary
        hours = i % 5 == 1
        if hours:
            created = busy + timedelta(hours=rng.uniform(0, 20))
        status, at, resolved_at = "new", created, None
        moves: list[tuple[str | None, str, datetime]] = [(None, "new", created)]
        for _ in range(rng.randrange(7)):
            if status not in NEXT:
                break
            step = at + timedelta(days=rng.uniform(0.01, 0.1) if hours else rng.uniform(0.02, 45))
            if step >= now:
                break
            dst = rng.choice(NEXT[status])
            moves.append((status, dst, step))
            if dst == "resolved":
                resolved_at = step
            elif dst == "reopened":
                resolved_at = None
            status, at = dst, step
        area = rng.choice([*areas, None])
        item = ActionItem(
            organization_id=org.id,
            area_id=area.id if area else None,
            category_id=rng.choice(cats).id,
            title=f"item {i}",
            location=spatial.to_db(spatial.point(5.71, 58.85)),
            department=rng.choice(DEPARTMENTS),
            due_date=(created + timedelta(days=rng.randrange(3, 90))).date() if i % 4 else None,
            status=ActionStatus(status),
            resolved_at=resolved_at,
            created_at=created,
            updated_at=at,
        )
        session.add(item)
        session.flush()
        ids.append(item.id)
        for src, dst, when in moves:
            kind = "created" if src is None else "status"
            session.add(
                ActionEvent(organization_id=org.id, action_item_id=item.id, kind=kind,
                            from_status=src, to_status=dst, created_at=when)
            )  # fmt: skip
        for _ in range(rng.randrange(3)):
            # A comment or an edit: an event that moves no status.
            when = created + (now - created) * rng.random()
            session.add(
                ActionEvent(organization_id=org.id, action_item_id=item.id, kind="edit",
                            changes={"title": "x"}, created_at=when)
            )  # fmt: skip
    follow_up_rollup.sync(session, ids)
    session.commit()


def _change_now(session: Session, org: Organization, now: datetime, rng: random.Random) -> None:
    """What services do today without moving a status: regroup (area, department, category),
    other due dates, deletions; each synced as the services sync it."""
    items = list(
        session.scalars(
            select(ActionItem)
            .where(ActionItem.organization_id == org.id)
            .order_by(ActionItem.created_at)
        )
    )
    areas = list(
        session.scalars(select(Area.id).where(Area.organization_id == org.id).order_by(Area.name))
    )
    cats = list(
        session.scalars(
            select(Category.id)
            .where(Category.organization_id == org.id, Category.code.in_(CODES))
            .order_by(Category.code)
        )
    )
    changed = []
    for item in rng.sample(items, len(items) // 3):
        what = rng.randrange(4)
        if what == 0:
            item.area_id = rng.choice([*areas, None])
        elif what == 1:
            item.department = rng.choice(DEPARTMENTS)
        elif what == 2:
            item.category_id = rng.choice(cats)
        else:
            item.due_date = rng.choice([None, (now - timedelta(days=rng.randrange(120))).date()])
        changed.append(item.id)
    session.flush()
    follow_up_rollup.sync(session, changed)
    gone = [i.id for i in rng.sample(items, 4)]
    session.execute(delete(ActionEvent).where(ActionEvent.action_item_id.in_(gone)))
    session.execute(delete(ActionItem).where(ActionItem.id.in_(gone)))
    follow_up_rollup.sync(session, gone)
    session.commit()


def _raw(session: Session, org_id: uuid.UUID) -> tuple[Any, ...]:
    """The organization's items, their status moves in order, and the category codes."""
    session.expire_all()
    items = session.scalars(select(ActionItem).where(ActionItem.organization_id == org_id)).all()
    events = session.scalars(
        select(ActionEvent).where(
            ActionEvent.organization_id == org_id, ActionEvent.to_status.is_not(None)
        )
    ).all()
    codes = {c.id: c.code for c in session.scalars(select(Category))}
    moves: dict[uuid.UUID, list[ActionEvent]] = defaultdict(list)
    for e in sorted(events, key=lambda e: (e.created_at, e.id)):
        moves[e.action_item_id].append(e)
    return items, moves, codes


def _brute_force(
    raw: tuple[Any, ...], group_by: str, since: datetime | None, t: datetime
) -> dict[Any, dict[str, Any]]:
    """The figures at ``t`` by the definitions in `figures`' docstring, item by item from the
    raw rows: the status at ``t`` from the history, the group and due date as they are now."""
    items, moves, codes = raw

    def in_period(x: datetime | None) -> bool:
        return x is not None and x < t and (since is None or x >= since)

    groups: dict[Any, dict[str, Any]] = {}
    days: dict[Any, list[float]] = defaultdict(list)
    for it in items:
        if it.created_at >= t:
            continue
        later = [e for e in moves[it.id] if e.created_at >= t]
        status = later[0].from_status if later else str(it.status)
        if status is None or status in HIDDEN:
            continue
        before = [e for e in moves[it.id] if e.created_at < t]
        resolution = (
            max((e.created_at for e in before if e.to_status == "resolved"), default=None)
            if status in DONE
            else None
        )
        key = {
            "area": str(it.area_id) if it.area_id else None,
            "department": it.department,
            "category": codes[it.category_id],
        }[group_by]
        g = groups.setdefault(
            key,
            {"open": 0, "overdue": 0, "resolved": 0, "verified": 0, "reopened": 0, "created": 0,
             "resolved_in_period": 0, "open_age_days": {"0-30": 0, "31-90": 0, "91-180": 0,
             ">180": 0}, "resolved_within_deadline": 0, "with_deadline": 0},
        )  # fmt: skip
        if status in OPEN:
            g["open"] += 1
            g["overdue"] += it.due_date is not None and it.due_date < t.date()
            age = t - it.created_at
            bucket = (
                "0-30" if age <= timedelta(days=30) else "31-90" if age <= timedelta(days=90)
                else "91-180" if age <= timedelta(days=180) else ">180"
            )  # fmt: skip
            g["open_age_days"][bucket] += 1
        g["resolved"] += status == "resolved"
        g["verified"] += status == "verified"
        g["reopened"] += any(e.to_status == "reopened" and in_period(e.created_at) for e in before)
        g["created"] += in_period(it.created_at)
        if in_period(resolution):
            assert resolution is not None
            g["resolved_in_period"] += 1
            days[key].append((resolution - it.created_at).total_seconds() / 86400)
            if it.due_date is not None:
                g["with_deadline"] += 1
                g["resolved_within_deadline"] += resolution.astimezone(UTC).date() <= it.due_date
    for key, g in groups.items():
        g["median_days_to_resolve"] = round(statistics.median(days[key]), 1) if days[key] else None
        with_deadline = g.pop("with_deadline")
        g["resolved_within_deadline_share"] = (
            round(g["resolved_within_deadline"] / with_deadline, 3) if with_deadline else None
        )
    return groups


def _moments(session: Session, org_id: uuid.UUID, now: datetime, rng: random.Random) -> list[Any]:
    """Past ends and their starts: day boundaries, mid-day, and exactly at an item's creation,
    a resolution, a reopening and a verification; starts before everything, on a day boundary,
    mid-day on the end's own day, and exactly at an event."""
    events = session.scalars(
        select(ActionEvent).where(
            ActionEvent.organization_id == org_id, ActionEvent.created_at < now - timedelta(days=3)
        )
    ).all()

    def at(to: str) -> datetime:
        return rng.choice(sorted(e.created_at for e in events if e.to_status == to))

    busy = [
        e.created_at
        for e in events
        if _midnight(e.created_at) == _midnight(now - timedelta(days=BUSY))
    ]
    ends = [
        _midnight(now - timedelta(days=30)),
        _midnight(now - timedelta(days=BUSY)) + timedelta(hours=9, minutes=41),
        rng.choice(sorted(busy)),
        _midnight(now - timedelta(days=100)),
        now - timedelta(days=47, hours=5, minutes=17),
        at("new"),
        at("resolved"),
        at("reopened"),
        at("verified"),
    ]
    out = []
    for t in ends:
        before = sorted(e.created_at for e in events if e.created_at < t - timedelta(hours=6))
        starts = [
            None,
            _midnight(t - timedelta(days=60)),
            t - timedelta(hours=3),
            _midnight(t) if _midnight(t) < t else _midnight(t - timedelta(days=1)),
            rng.choice(before),
        ]
        out.extend((since, t) for since in starts)
    return out


def _without_labels(groups: list[dict[str, Any]]) -> dict[Any, dict[str, Any]]:
    return {g["key"]: {k: v for k, v in g.items() if k not in ("key", "label")} for g in groups}


def test_the_rewound_rollup_equals_a_brute_force_and_the_replay(
    world: World, session: Session
) -> None:
    rng = random.Random(2024)
    now = utcnow()
    _seed(session, world.org, now, rng, n=90)
    _seed(session, world.other_org, now, rng, n=12)  # another organization's items count nowhere
    _change_now(session, world.org, now, rng)
    raw = _raw(session, world.org.id)
    totals: dict[str, int] = defaultdict(int)
    for since, until in _moments(session, world.org.id, now, rng):
        for group_by in GROUPS:
            as_of, rewound = figures.follow_up_stats(
                session, world.org.id, group_by, since=since, until=until
            )
            assert as_of == until
            _, replayed = figures.follow_up_stats(
                session, world.org.id, group_by, since=since, until=until, replay=True
            )
            assert rewound == replayed, (group_by, since, until)
            want = _brute_force(raw, group_by, since, until)
            assert _without_labels(rewound) == want, (group_by, since, until)
            for g in want.values():
                for name in ("open", "overdue", "resolved", "verified", "reopened", "created",
                             "resolved_in_period", "resolved_within_deadline"):  # fmt: skip
                    totals[name] += g[name]
                totals["median"] += g["median_days_to_resolve"] is not None
                share = g["resolved_within_deadline_share"]
                totals["late"] += share is not None and share < 1
                totals["old"] += g["open_age_days"][">180"] + g["open_age_days"]["91-180"]
    # The histories exercise every figure in the past, not just zeros.
    assert all(totals[k] > 0 for k in (
        "open", "overdue", "resolved", "verified", "reopened", "created", "resolved_in_period",
        "resolved_within_deadline", "median", "late", "old")), totals  # fmt: skip
