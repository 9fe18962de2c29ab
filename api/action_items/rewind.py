"""Follow-up figures at a past moment T: the rollup rewound to T.

History is append-only, and the figures group an item and read its due date as they are now
(see `figures`). So an item's contribution to the figures at T differs from what the rollup
counts for it now only if it was created at or after T or made a status move at or after T:
call those items M (for a past quarter, 7 % of the benchmark's items). The figures at T are

    the rollup read at T  −  M's items as they are now  +  M's items as they were at T,

each of the three read by the same rules (`follow_up_rollup.read` with ``now`` = T, whose
partial-day edges come from the items' rows). An item not in M is at T what it is now, so
the rollup read at T counts it right; for M, the same rules applied to its rows now take out
exactly what the rollup and the edges counted for it, and applied to its states at T put in
what the figures' definitions count (its status at T: the ``from_status`` of its first move at
or after T; its standing resolution: its last move to resolved before T; nothing for an item
created at or after T). The work is proportional to M, in one statement beside the rollup read,
instead of a replay of every item's history. A deleted item is gone from the rollup and, with
its events, from M.

Per-day snapshots per group would be the other way; they cannot stay exact under the "as it
is now" rule without being rewritten on every regroup or due-date change (see
docs/benchmarks.md).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    Float,
    Integer,
    Select,
    String,
    Table,
    and_,
    case,
    cast,
    func,
    literal,
    null,
    or_,
    select,
    type_coerce,
    union_all,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement
from sqlalchemy.sql.selectable import CTE, Subquery

from api.action_items import features, follow_up_rollup
from api.core import dialect
from models import ActionEvent, ActionItem, ActionStatus
from models.base import UTCDateTime

RESOLVED = str(ActionStatus.resolved)
DONE = sorted(str(s) for s in features.DONE)

_ITEM: Table = ActionItem.__table__  # type: ignore[attr-defined]
_EVENT: Table = ActionEvent.__table__  # type: ignore[attr-defined]


def last_resolved_before(org_id: uuid.UUID, at: datetime, items: Any) -> Subquery:
    """Per item of ``items`` (a select of item ids): the time of its last move to resolved
    before ``at``, its standing resolution at ``at`` when it was done then."""
    return (
        select(_EVENT.c.action_item_id, func.max(_EVENT.c.created_at).label("at"))
        .where(
            _EVENT.c.organization_id == org_id,
            _EVENT.c.to_status == RESOLVED,
            _EVENT.c.created_at < at,
            _EVENT.c.action_item_id.in_(items),
        )
        .group_by(_EVENT.c.action_item_id)
        .subquery("resolved_before")
    )


def first_moves_after(org_id: uuid.UUID, at: datetime, *skip: Any) -> Select[Any]:
    """Each item's first status move at or after ``at``: its ``from_status`` is the status the
    item had at ``at`` (items that never moved since keep their current status). ``skip``:
    conditions on the events to leave out."""
    moves = (
        select(
            _EVENT.c.action_item_id,
            _EVENT.c.from_status,
            func.row_number()
            .over(
                partition_by=_EVENT.c.action_item_id,
                order_by=(_EVENT.c.created_at, _EVENT.c.id),
            )
            .label("rn"),
        )
        .where(
            _EVENT.c.organization_id == org_id,
            _EVENT.c.created_at >= at,
            _EVENT.c.to_status.is_not(None),
            *skip,
        )
        .subquery("moves")
    )
    return select(moves.c.action_item_id, moves.c.from_status, literal(1).label("moved")).where(
        moves.c.rn == 1
    )


def in_period(column: Any, since: datetime | None, at: datetime) -> ColumnElement[bool]:
    """``column`` within ``[since, at)``; from the beginning when ``since`` is None."""
    cond = column < at
    return and_(column >= since, cond) if since is not None else cond


def reopened_in(org_id: uuid.UUID, since: datetime | None, at: datetime) -> ColumnElement[bool]:
    """The events that reopened an item in ``[since, at)``: few, found by (organization,
    to_status, created_at)."""
    return and_(
        _EVENT.c.organization_id == org_id,
        _EVENT.c.to_status == str(ActionStatus.reopened),
        in_period(_EVENT.c.created_at, since, at),
    )


def _moved(org_id: uuid.UUID, key: Any, since: datetime | None, at: datetime) -> CTE:
    """M at ``at``, one row per item, read once: its group, status, creation, due date and
    resolution now; its ``status_then`` and ``resolution_then`` at ``at`` (``status_then``
    null: it did not exist yet); ``reopened``: reopened in ``[since, at)``. Found from the
    events at or after ``at`` (index ``ix_action_event_org_time``) and the items created
    since (``ix_action_item_org_created``)."""
    item = _ITEM.c
    born = and_(item.organization_id == org_id, item.created_at >= at)
    # Most of M was born since T and had no state then: only the others' moves are sorted,
    # and M is read from the items by the creation index and by id, never by a scan of all.
    later = first_moves_after(
        org_id, at, _EVENT.c.action_item_id.notin_(select(item.id).where(born))
    ).cte("later")
    # Only the items done at T need their last move to resolved before T: few.
    resolved_before = last_resolved_before(
        org_id, at, select(later.c.action_item_id).where(later.c.from_status.in_(DONE))
    )
    reopens = (
        select(_EVENT.c.action_item_id)
        .where(reopened_in(org_id, since, at))
        .distinct()
        .cte("reopens")
    )
    reopened = case((reopens.c.action_item_id.is_not(None), 1), else_=0).label("reopened")
    now = (item.id, key.label("key"), item.status, item.created_at, item.due_date,
           item.resolved_at)  # fmt: skip
    # A first move without a from_status would be the item's creation: no state at T.
    resolution = case((later.c.from_status.in_(DONE), resolved_before.c.at), else_=null())
    older = select(
        *now,
        later.c.from_status.label("status_then"),
        type_coerce(resolution, UTCDateTime()).label("resolution_then"),
        reopened,
    ).select_from(
        later.join(_ITEM, item.id == later.c.action_item_id)
        .outerjoin(resolved_before, resolved_before.c.action_item_id == item.id)
        .outerjoin(reopens, reopens.c.action_item_id == item.id)
    )
    newer = (
        select(
            *now,
            type_coerce(null(), String()).label("status_then"),
            type_coerce(null(), UTCDateTime()).label("resolution_then"),
            reopened,
        )
        .select_from(_ITEM.outerjoin(reopens, reopens.c.action_item_id == item.id))
        .where(born)
    )
    return union_all(older, newer).cte("m")


TALLIES = (
    "open", "resolved", "verified", "shown", "created", "overdue", "reopened",
    "resolved_in_period", "with_deadline", "within_deadline",
    *(f"since_{age}" for age in follow_up_rollup.AGES),
)  # fmt: skip


def _corrections(session: Session, m: CTE, since: datetime | None, at: datetime) -> Select[Any]:
    """Per group: M's tallies at T less its tallies now, in `follow_up_rollup.read`'s terms,
    each counted by `read`'s own rules with ``now`` = T (whole days from the rollup, the
    partial day at each edge from the rows), so that the rows now take out exactly what `read`
    counted for them, an item created after T included. ``reopened`` corrects today's count
    of the items reopened in the period (`figures`) the same way."""
    now = select(
        m.c.key, literal(-1).label("sign"), m.c.status, m.c.created_at, m.c.due_date,
        m.c.resolved_at.label("resolution_at"), m.c.reopened,
    )  # fmt: skip
    then = select(
        m.c.key, literal(1), m.c.status_then, m.c.created_at, m.c.due_date, m.c.resolution_then,
        m.c.reopened,
    ).where(m.c.status_then.is_not(None))  # fmt: skip
    s = union_all(now, then).subquery("signed")
    status, created, res = s.c.status, s.c.created_at, s.c.resolution_at
    is_open = status.in_(features.OPEN)
    shown = status.notin_(features.HIDDEN)

    def since_edge(column: Any) -> Any:
        # `read` counts whole days after the start's day, and the start's own day up to T.
        if since is None:
            return literal(True)
        midnight = follow_up_rollup.midnight_after(since)
        return and_(column >= since, or_(column >= midnight, column < at))

    done = and_(status.in_(DONE), res.is_not(None), since_edge(res))
    with_due = and_(done, s.c.due_date.is_not(None))
    rules = {
        "open": is_open,
        "resolved": status == RESOLVED,
        "verified": status == str(ActionStatus.verified),
        "shown": shown,
        "created": and_(shown, since_edge(created)),
        "overdue": and_(is_open, s.c.due_date < at.date()),
        "reopened": and_(shown, s.c.reopened == 1),
        "resolved_in_period": done,
        "with_deadline": with_due,
        "within_deadline": and_(with_due, dialect.utc_day(session, res) <= s.c.due_date),
        **{
            f"since_{age}": and_(is_open, created >= at - timedelta(days=age))
            for age in follow_up_rollup.AGES
        },
    }
    return select(
        literal(0).label("part"),
        s.c.key,
        *(func.sum(case((rules[name], s.c.sign), else_=0)).label(name) for name in TALLIES),
        cast(null(), Float).label("median"),
    ).group_by(s.c.key)


def middle(ranked: Subquery) -> ColumnElement[bool]:
    """The middle row (odd count) or the two middle rows (even count) of a group ranked by
    ``rn`` out of ``cnt``: their average is the exact median."""
    return or_(ranked.c.rn == (ranked.c.cnt + 1) // 2, ranked.c.rn == (ranked.c.cnt + 2) // 2)


def _medians(
    session: Session,
    org_id: uuid.UUID,
    key: Any,
    m: CTE,
    since: datetime | None,
    at: datetime,
) -> Select[Any]:
    """The exact median per group of the days to resolve of the items resolved in
    ``[since, at)`` standing at ``at``: the items not in M from their own rows
    (``ix_action_item_org_resolved``), M's from their resolution at T."""
    item = _ITEM.c

    def days(resolution: Any, created: Any) -> Any:
        return cast(dialect.days_between(session, resolution, created), Float)

    rest = select(key.label("key"), days(item.resolved_at, item.created_at).label("days")).where(
        item.organization_id == org_id,
        item.status.in_(DONE),
        item.resolved_at.is_not(None),
        in_period(item.resolved_at, since, at),
        item.id.notin_(select(m.c.id)),
    )
    then = select(m.c.key, days(m.c.resolution_then, m.c.created_at)).where(
        m.c.status_then.in_(DONE),
        m.c.resolution_then.is_not(None),
        in_period(m.c.resolution_then, since, at),
    )
    both = union_all(rest, then).subquery("resolved_then")
    ranked = select(
        both.c.key,
        both.c.days,
        func.row_number().over(partition_by=both.c.key, order_by=both.c.days).label("rn"),
        func.count().over(partition_by=both.c.key).label("cnt"),
    ).subquery("ranked")
    return (
        select(
            literal(1).label("part"),
            ranked.c.key,
            *(cast(null(), Integer).label(name) for name in TALLIES),
            func.avg(ranked.c.days).label("median"),
        )
        .where(middle(ranked))
        .group_by(ranked.c.key)
    )


def rewound(
    session: Session, org_id: uuid.UUID, key: Any, since: datetime | None, at: datetime
) -> tuple[list[tuple[Any, dict[str, int]]], dict[Any, Any]]:
    """M's corrections per group (its key as the item row holds it, tallies) and the exact
    medians per group at ``at``, in one statement: M is found and read once."""
    m = _moved(org_id, key, since, at)
    stmt = union_all(
        _corrections(session, m, since, at), _medians(session, org_id, key, m, since, at)
    )
    fixes, medians = [], {}
    for row in session.execute(stmt).mappings():
        if row["part"] == 0:
            fixes.append((row["key"], {name: int(row[name] or 0) for name in TALLIES}))
        else:
            medians[row["key"]] = row["median"]
    return fixes, medians
