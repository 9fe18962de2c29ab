"""Keeping the follow-up rollup exact as items change, and reading today's figures from it.

Every path that changes an item's status, department, category, area, due date, resolution or
organization, or creates or deletes items, calls `sync` with those items in its own
transaction, after the change. `sync` compares what each item adds now with what its
`FollowUpMember` row says it added, and applies the difference with one atomic upsert
(`dialect.upsert_add`). Calling it twice changes nothing; calling it for a deleted item takes
its contribution out. Concurrency: on PostgreSQL `sync` reads the items and their member rows
`FOR UPDATE` (the writer that changed an item already holds its row), so two transactions never
both apply the same difference; the counters are added to in the database, never
read-modify-written. SQLite writers run one at a time.

Each item adds, for each grouping (area, department, category) and its group there, to rows
of these kinds (`day` is a UTC day; `EPOCH` where the kind has none):

- ``s``: per status, all items: the stock by status (open, resolved, verified, hidden).
- ``c`` / ``m``: per class (open, kept, hidden) and day / month of creation: items created in
  a period, and the ages of the open ones.
- ``D`` / ``d``: open items with a due date, in all / per due day: overdue = all − due today
  or later, a handful of rows whatever the size.
- ``T`` / ``R`` / ``r``: resolved or verified items with a resolution time, in all / per month /
  per day of it, per deadline flag (0 no due date, 1 resolved by it, 2 after it).

A period's edges fall inside days: `read` sums whole months and days from the rollup and counts
the items of the partial day at each edge from `action_item` itself (indexes
`ix_action_item_org_created` and `ix_action_item_org_resolved`), so every figure is exact.
"""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Table, and_, case, delete, func, select
from sqlalchemy.orm import Session, sessionmaker
from sqlmodel import col

from api.core import dialect
from models import ActionItem, ActionStatus, Area, FollowUpCount, FollowUpMember
from models.action_items import DONE, HIDDEN, OPEN, SHOWN_STATUSES

DIMS = ("area", "department", "category")
KEY = ("organization_id", "dim", "kind", "day", "status", "flag", "key")
EPOCH = date(1970, 1, 1)
AGES = (30, 90, 180)
BATCH = 500

_COUNT: Table = FollowUpCount.__table__  # type: ignore[attr-defined]
_MEMBER: Table = FollowUpMember.__table__  # type: ignore[attr-defined]
_ITEM: Table = ActionItem.__table__  # type: ignore[attr-defined]
_OPEN, _DONE, _HIDDEN = frozenset(OPEN), frozenset(DONE), frozenset(HIDDEN)


@dataclass(frozen=True)
class State:
    """What the rollup counts of one item."""

    organization_id: uuid.UUID
    area: str
    department: str
    category: str
    status: str
    created_at: datetime
    due_date: date | None
    resolved_at: datetime | None


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _day(t: datetime) -> date:
    return t.astimezone(UTC).date()


def _month(d: date) -> date:
    return d.replace(day=1)


def _class(status: str) -> str:
    return "open" if status in _OPEN else "hidden" if status in _HIDDEN else "kept"


def deadline_flag(resolved_at: datetime, due: date | None) -> int:
    if due is None:
        return 0
    return 1 if _day(resolved_at) <= due else 2


def contributions(s: State) -> Iterator[tuple[Any, ...]]:
    """The rollup keys this item adds 1 to."""
    cls = _class(s.status)
    created = _day(s.created_at)
    for dim, key in enumerate((s.area, s.department, s.category)):
        head = (s.organization_id, dim)
        yield (*head, "s", EPOCH, s.status, 0, key)
        yield (*head, "c", created, cls, 0, key)
        yield (*head, "m", _month(created), cls, 0, key)
        if cls == "open" and s.due_date is not None:
            yield (*head, "D", EPOCH, cls, 0, key)
            yield (*head, "d", s.due_date, cls, 0, key)
        if s.status in _DONE and s.resolved_at is not None:
            flag = deadline_flag(s.resolved_at, s.due_date)
            resolved = _day(s.resolved_at)
            yield (*head, "T", EPOCH, "done", flag, key)
            yield (*head, "R", _month(resolved), "done", flag, key)
            yield (*head, "r", resolved, "done", flag, key)


def _state(r: Any) -> State:
    return State(
        r.organization_id, r.area, r.department, r.category, str(r.status), r.created_at,
        r.due_date, r.resolved_at,
    )  # fmt: skip


_ITEM_STATE = (
    _ITEM.c.id, _ITEM.c.organization_id, _ITEM.c.area_id, _ITEM.c.department,
    _ITEM.c.category_id, _ITEM.c.status, _ITEM.c.created_at, _ITEM.c.due_date,
    _ITEM.c.resolved_at,
)  # fmt: skip


def _item_state(r: Any) -> State:
    return State(
        r.organization_id, _text(r.area_id), _text(r.department), _text(r.category_id),
        str(r.status), r.created_at, r.due_date, r.resolved_at,
    )  # fmt: skip


def sync(session: Session, item_ids: Iterable[uuid.UUID | None]) -> None:
    """Bring these items' contributions up to date with their rows as this transaction sees
    them (no row: the item is gone, its contribution goes). Idempotent."""
    ids = sorted({i for i in item_ids if i is not None})
    if not ids:
        return
    session.flush()
    for start in range(0, len(ids), BATCH):
        _sync(session, ids[start : start + BATCH])


def created(session: Session, items: Iterable[ActionItem]) -> None:
    """Count items this transaction has just inserted: nobody else can see them yet and they
    have no member row, so nothing needs reading or locking (two statements for a chunk)."""
    states = {i.id: _state_of(i) for i in items}
    if states:
        _apply(session, {}, states)


def _state_of(item: ActionItem) -> State:
    return State(
        item.organization_id, _text(item.area_id), _text(item.department),
        _text(item.category_id), str(item.status or ActionStatus.new), item.created_at,
        item.due_date, item.resolved_at,
    )  # fmt: skip


def _sync(session: Session, ids: list[uuid.UUID]) -> None:
    # Items first, then members, each in id order: whoever syncs an item holds both rows
    # until commit, and the next one reads (after the lock) what the first wrote.
    now = {
        r.id: _item_state(r)
        for r in session.execute(
            dialect.for_update(
                session, select(*_ITEM_STATE).where(_ITEM.c.id.in_(ids)).order_by(_ITEM.c.id)
            )
        )
    }
    before = {
        r.action_item_id: _state(r)
        for r in session.execute(
            dialect.for_update(
                session,
                select(_MEMBER)
                .where(_MEMBER.c.action_item_id.in_(ids))
                .order_by(_MEMBER.c.action_item_id),
            )
        )
    }
    _apply(session, before, {i: now.get(i) for i in ids})


def _apply(
    session: Session, before: Mapping[uuid.UUID, State], now: Mapping[uuid.UUID, State | None]
) -> None:
    """Take out what ``before`` added and add what ``now`` adds (None: the item is gone)."""
    delta: Counter[tuple[Any, ...]] = Counter()
    gone, written = [], []
    for i in now:
        old, new = before.get(i), now.get(i)
        if old == new:
            continue
        if old is not None:
            delta.subtract(contributions(old))
        if new is not None:
            delta.update(contributions(new))
            written.append({"action_item_id": i, **new.__dict__})
        else:
            gone.append(i)
    rows = [{**dict(zip(KEY, k, strict=True)), "n": n} for k, n in delta.items() if n]
    dialect.upsert_add(session, _COUNT, KEY, ("n",), rows)
    if gone:
        session.execute(delete(_MEMBER).where(_MEMBER.c.action_item_id.in_(gone)))
    values = [c for c in State.__dataclass_fields__]
    dialect.upsert_set(session, _MEMBER, ("action_item_id",), values, written)


def backfill(factory: sessionmaker[Session], batch: int = 20_000) -> int:
    """Count the items that have no member row yet (all of them on the first run), one
    transaction per batch in id order; safe beside live writers, which sync their own."""
    added, after = 0, None
    while True:
        with factory() as session:
            stmt = (
                select(_ITEM.c.id)
                .where(~select(_MEMBER.c.action_item_id).where(
                    _MEMBER.c.action_item_id == _ITEM.c.id).exists())
                .order_by(_ITEM.c.id)
                .limit(batch)
            )  # fmt: skip
            if after is not None:
                stmt = stmt.where(_ITEM.c.id > after)
            ids = list(session.scalars(stmt))
            if not ids:
                return added
            sync(session, ids)
            session.commit()
        added += len(ids)
        after = ids[-1]


# --- reading ---------------------------------------------------------------------------------


def live_key(session: Session, org_id: uuid.UUID, group_by: str) -> Any:
    """The group a stored key stands for now. A deleted area set its items' `area_id` to NULL
    behind every service's back (ON DELETE SET NULL): their rows, still under the old area's
    key until each item's next change, are read as no area, where the items now are."""
    if group_by != "area":
        return lambda key: key
    areas = select(col(Area.id)).where(col(Area.organization_id) == org_id)
    alive = {str(a) for a in session.scalars(areas)}
    return lambda key: key if key in alive else ""


def midnight_after(t: datetime) -> datetime:
    return datetime.combine(_day(t) + timedelta(days=1), time(), tzinfo=UTC)


def _next_month(d: date) -> date:
    return (d.replace(day=28) + timedelta(days=4)).replace(day=1)


def _group(dim: int, key: str) -> Any:
    if key == "":
        return None
    return key if DIMS[dim] == "department" else uuid.UUID(key)


def read(
    session: Session,
    org_id: uuid.UUID,
    group_by: str,
    since: datetime | None,
    now: datetime,
    corrections: Iterable[tuple[Any, Mapping[str, int]]] = (),
) -> dict[Any, dict[str, int]]:
    """Today's figures per group (the keys of `figures.follow_up_stats`, `reopened` apart), for
    the period ``[since, now)``, from the rollup and the partial days at the period's edges.
    ``corrections`` (a group's key, tallies) are added before the figures are formed: the
    rewind to a past ``now`` (`rewind.corrections`)."""
    dim = DIMS.index(group_by)
    c = _COUNT.c
    mine = and_(c.organization_id == org_id, c.dim == dim)
    live = live_key(session, org_id, group_by)
    figures: dict[str, Counter[str]] = defaultdict(Counter)

    def fig(key: str) -> Counter[str]:
        return figures[live(key)]

    def add(name: str, stmt: Any) -> None:
        for key, n in session.execute(stmt):
            fig(_text(key))[name] += int(n or 0)

    def rows(kind: str, *where: Any) -> Any:
        return select(c.key, func.sum(c.n)).where(mine, c.kind == kind, *where).group_by(c.key)

    # The stock: a few rows per group.
    for key, kind, status, flag, n in session.execute(
        select(c.key, c.kind, c.status, c.flag, func.sum(c.n))
        .where(mine, c.kind.in_(("s", "D", "T")))
        .group_by(c.key, c.kind, c.status, c.flag)
    ):
        f, n = fig(key), int(n or 0)
        if kind == "s":
            f["open" if status in _OPEN else status] += n
            f["shown"] += 0 if status in _HIDDEN else n
            f["created"] += 0 if since is not None or status in _HIDDEN else n
        elif kind == "D":
            f["overdue"] += n
        elif since is None:
            f["resolved_in_period"] += n
            f["with_deadline"] += n if flag else 0
            f["within_deadline"] += n if flag == 1 else 0
    add("not_overdue", rows("d", c.day >= now.date()))
    # Ages: open items created at or after each boundary, whole days in one pass.
    edges = {age: now - timedelta(days=age) for age in AGES}
    for key, *ns in session.execute(
        select(
            c.key,
            *(func.sum(case((c.day > _day(e), c.n), else_=0)) for e in edges.values()),
        )
        .where(mine, c.kind == "c", c.day > _day(edges[max(AGES)]), c.status == "open")
        .group_by(c.key)
    ):
        for age, n in zip(AGES, ns, strict=True):
            fig(key)[f"since_{age}"] += int(n or 0)
    for age, edge in edges.items():
        add(f"since_{age}", _edge_created(org_id, group_by, edge, now, OPEN))
    if since is not None:
        shown = c.status.in_(("open", "kept"))
        first, month = _day(since), _month(_day(since))
        add("created", rows("m", shown, c.day > month))
        add("created", rows("c", shown, c.day > first, c.day < _next_month(month)))
        add("created", _edge_created(org_id, group_by, since, now, list(SHOWN_STATUSES)))
        for flag, names in ((0, ()), (1, ("with_deadline", "within_deadline")),
                            (2, ("with_deadline",))):  # fmt: skip
            for name in ("resolved_in_period", *names):
                add(name, rows("R", c.flag == flag, c.day > month))
                add(name, rows("r", c.flag == flag, c.day > first, c.day < _next_month(month)))
        for key, n, with_due, within in session.execute(
            _edge_resolved(session, org_id, group_by, since, now)
        ):
            f = fig(_text(key))
            f["resolved_in_period"] += int(n or 0)
            f["with_deadline"] += int(with_due or 0)
            f["within_deadline"] += int(within or 0)
    for key, counts in corrections:
        fig(_text(key)).update(counts)
    out: dict[Any, dict[str, int]] = {}
    for key, f in figures.items():
        if f["shown"] <= 0:
            continue  # a group of duplicates and emptied items only, or none left
        a30, a90, a180 = f["since_30"], f["since_90"], f["since_180"]
        out[_group(dim, key)] = {
            "open": f["open"],
            "overdue": f["overdue"] - f["not_overdue"],
            "resolved": f["resolved"],
            "verified": f["verified"],
            "created": f["created"],
            "resolved_in_period": f["resolved_in_period"],
            "with_deadline": f["with_deadline"],
            "within_deadline": f["within_deadline"],
            "age_0_30": a30,
            "age_31_90": a90 - a30,
            "age_91_180": a180 - a90,
            "age_over_180": f["open"] - a180,
        }
    return out


def _key_text(group_by: str) -> Any:
    return {"area": _ITEM.c.area_id, "department": _ITEM.c.department,
            "category": _ITEM.c.category_id}[group_by]  # fmt: skip


def _rest_of_day(column: Any, start: datetime, now: datetime) -> tuple[Any, Any]:
    """`column` from `start` to the end of its UTC day, or to now if that comes first."""
    return column >= start, column < min(midnight_after(start), now)


def _edge_created(
    org_id: uuid.UUID, group_by: str, start: datetime, now: datetime, statuses: list[str]
) -> Any:
    """Items of `statuses` created from `start` to the end of its UTC day (or now)."""
    key = _key_text(group_by)
    return (
        select(key, func.count())
        .where(
            _ITEM.c.organization_id == org_id,
            *_rest_of_day(_ITEM.c.created_at, start, now),
            _ITEM.c.status.in_(statuses),
        )
        .group_by(key)
    )


def _edge_resolved(
    session: Session, org_id: uuid.UUID, group_by: str, start: datetime, now: datetime
) -> Any:
    key = _key_text(group_by)
    due = _ITEM.c.due_date
    return (
        select(
            key,
            func.count(),
            func.sum(case((due.is_not(None), 1), else_=0)),
            func.sum(case((dialect.utc_day(session, _ITEM.c.resolved_at) <= due, 1), else_=0)),
        )
        .where(
            _ITEM.c.organization_id == org_id,
            *_rest_of_day(_ITEM.c.resolved_at, start, now),
            _ITEM.c.status.in_(DONE),
        )
        .group_by(key)
    )


__all__ = ["State", "backfill", "live_key", "created", "contributions", "read", "sync"]
