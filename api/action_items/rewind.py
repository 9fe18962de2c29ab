"""Follow-up figures at a past moment T: the rollup rewound to T.

History is append-only, and the figures group an item and read its due date as they are now
(see `figures`). So an item's contribution to the figures at T differs from what the rollup
counts for it now only if it was created at or after T or made a status move at or after T:
call those items M (for a past quarter, the items of the last months: one in seven of the
benchmark's). The figures at T are

    the rollup read at T  −  M's items as they are now  +  M's items as they were at T,

each of the three read by the same rules (`follow_up_rollup.read` with ``now`` = T, whose
partial-day edges come from the items' rows). An item not in M is at T what it is now, so
the rollup read at T counts it right; for M, the same rules applied to its rows now take out
exactly what the rollup and the edges counted for it, and applied to its states at T put in
what the figures' definitions count (its status at T: the ``from_status`` of its first move at
or after T; its standing resolution: its last move to resolved before T; nothing for an item
created at or after T). The work is proportional to M, in a few grouped statements, instead of
a replay of every item's history.

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
    Select,
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
    union,
    union_all,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.selectable import CTE, Subquery

from api.action_items import features, follow_up_rollup
from api.core import dialect
from models import ActionEvent, ActionItem, ActionStatus
from models.base import UTCDateTime

RESOLVED = str(ActionStatus.resolved)
DONE = sorted(str(s) for s in features.DONE)

_ITEM: Table = ActionItem.__table__  # type: ignore[attr-defined]
_EVENT: Table = ActionEvent.__table__  # type: ignore[attr-defined]


def first_moves_after(org_id: uuid.UUID, at: datetime) -> Select[Any]:
    """Each item's first status move at or after ``at``: its ``from_status`` is the status the
    item had at ``at`` (items that never moved since keep their current status)."""
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
        )
        .subquery("moves")
    )
    return select(moves.c.action_item_id, moves.c.from_status, literal(1).label("moved")).where(
        moves.c.rn == 1
    )


def moved(org_id: uuid.UUID, at: datetime) -> CTE:
    """M at ``at``, one row per item: ``id``, and ``status`` and ``resolution_at`` at ``at``
    (``status`` null: the item did not exist yet). Found from the events at or after ``at``
    (index ``ix_action_event_org_time``) and the items created since
    (``ix_action_item_org_created``)."""
    later = first_moves_after(org_id, at).cte("later")
    born = select(_ITEM.c.id).where(_ITEM.c.organization_id == org_id, _ITEM.c.created_at >= at)
    ids = union(select(later.c.action_item_id.label("id")), born).subquery("m_ids")
    # Only the items done at T need their last move to resolved before T: few.
    resolved_before = (
        select(_EVENT.c.action_item_id, func.max(_EVENT.c.created_at).label("at"))
        .where(
            _EVENT.c.organization_id == org_id,
            _EVENT.c.to_status == RESOLVED,
            _EVENT.c.created_at < at,
            _EVENT.c.action_item_id.in_(
                select(later.c.action_item_id).where(later.c.from_status.in_(DONE))
            ),
        )
        .group_by(_EVENT.c.action_item_id)
        .subquery("resolved_before")
    )
    # A first move without a from_status is the item's creation: it did not exist at T.
    status = case((_ITEM.c.created_at < at, later.c.from_status), else_=null())
    resolution = case((status.in_(DONE), resolved_before.c.at), else_=null())
    return (
        select(
            ids.c.id,
            status.label("status"),
            type_coerce(resolution, UTCDateTime()).label("resolution_at"),
        )
        .select_from(
            ids.join(_ITEM, _ITEM.c.id == ids.c.id)
            .outerjoin(later, later.c.action_item_id == ids.c.id)
            .outerjoin(resolved_before, resolved_before.c.action_item_id == ids.c.id)
        )
        .cte("m")
    )


def _signed(key: Any, m: CTE) -> Subquery:
    """M's rows now (sign −1) and at T (sign +1, items that existed then), with what the
    rules read: the group (now), status, creation, due date (now) and resolution."""
    item = _ITEM.c
    joined = m.join(_ITEM, item.id == m.c.id)
    now = select(
        key.label("key"),
        literal(-1).label("sign"),
        item.status.label("status"),
        item.created_at,
        item.due_date,
        item.resolved_at.label("resolution_at"),
    ).select_from(joined)
    then = (
        select(
            key.label("key"),
            literal(1).label("sign"),
            m.c.status,
            item.created_at,
            item.due_date,
            m.c.resolution_at,
        )
        .select_from(joined)
        .where(m.c.status.is_not(None))
    )
    return union_all(now, then).subquery("signed")


def corrections(
    session: Session,
    org_id: uuid.UUID,
    key: Any,
    since: datetime | None,
    at: datetime,
    m: CTE,
) -> list[tuple[Any, dict[str, int]]]:
    """Per group (its key as stored): M's contribution at T less its contribution now, in
    `follow_up_rollup.read`'s tallies, counted by `read`'s own rules with ``now`` = T: whole
    days from the rollup plus the partial day at each edge, so that the rows now take out
    exactly what `read` counted for them (an item created after T included)."""
    s = _signed(key, m)
    status, created, res = s.c.status, s.c.created_at, s.c.resolution_at
    is_open = status.in_(features.OPEN)
    shown = status.notin_(features.HIDDEN)

    def since_edge(column: Any) -> Any:
        # `read` counts whole days after the start's day, and the start's own day up to now.
        if since is None:
            return literal(True)
        midnight = follow_up_rollup.midnight_after(since)
        return and_(column >= since, or_(column >= midnight, column < at))

    done = and_(status.in_(DONE), res.is_not(None), since_edge(res))
    with_due = and_(done, s.c.due_date.is_not(None))
    tallies = {
        "open": is_open,
        "resolved": status == RESOLVED,
        "verified": status == str(ActionStatus.verified),
        "shown": shown,
        "created": and_(shown, since_edge(created)),
        "overdue": and_(is_open, s.c.due_date < at.date()),
        "resolved_in_period": done,
        "with_deadline": with_due,
        "within_deadline": and_(with_due, dialect.utc_day(session, res) <= s.c.due_date),
        **{
            f"since_{age}": and_(is_open, created >= at - timedelta(days=age))
            for age in follow_up_rollup.AGES
        },
    }
    stmt = select(
        s.c.key,
        *(func.sum(case((cond, s.c.sign), else_=0)).label(name) for name, cond in tallies.items()),
    ).group_by(s.c.key)
    out = []
    for row in session.execute(stmt).mappings():
        out.append((row["key"], {name: int(row[name] or 0) for name in tallies}))
    return out


def reopened(
    session: Session,
    org_id: uuid.UUID,
    key: Any,
    since: datetime | None,
    at: datetime,
    m: CTE,
) -> dict[Any, int]:
    """Items reopened in ``[since, at)`` and shown at ``at``, per group: few, found by
    (organization_id, to_status, created_at); their status at T from M, else their own."""
    period = _EVENT.c.created_at < at
    if since is not None:
        period = and_(_EVENT.c.created_at >= since, period)
    ids = (
        select(_EVENT.c.action_item_id)
        .where(
            _EVENT.c.organization_id == org_id,
            _EVENT.c.to_status == str(ActionStatus.reopened),
            period,
        )
        .distinct()
        .subquery("reopened")
    )
    status = case((m.c.id.is_not(None), m.c.status), else_=_ITEM.c.status)
    stmt = (
        select(key, func.count())
        .select_from(
            ids.join(_ITEM, _ITEM.c.id == ids.c.action_item_id).outerjoin(
                m, m.c.id == ids.c.action_item_id
            )
        )
        .where(status.is_not(None), status.notin_(features.HIDDEN))
        .group_by(key)
    )
    return {k: int(n) for k, n in session.execute(stmt).all()}


def ranked_days(
    session: Session,
    org_id: uuid.UUID,
    key: Any,
    since: datetime | None,
    at: datetime,
    m: CTE,
) -> Subquery:
    """The days to resolve of the items resolved in ``[since, at)`` standing at ``at``, ranked
    per group: the items not in M from their own rows (``ix_action_item_org_resolved``), and
    M's items from their resolution at T."""
    item = _ITEM.c

    def period(column: Any) -> Any:
        cond = column < at
        return and_(column >= since, cond) if since is not None else cond

    def days(resolution: Any) -> Any:
        return cast(dialect.days_between(session, resolution, item.created_at), Float)

    rest = select(key.label("key"), days(item.resolved_at).label("days")).where(
        item.organization_id == org_id,
        item.status.in_(DONE),
        item.resolved_at.is_not(None),
        period(item.resolved_at),
        item.id.notin_(select(m.c.id)),
    )
    then = (
        select(key.label("key"), days(m.c.resolution_at).label("days"))
        .select_from(m.join(_ITEM, item.id == m.c.id))
        .where(m.c.status.in_(DONE), m.c.resolution_at.is_not(None), period(m.c.resolution_at))
    )
    both = union_all(rest, then).subquery("resolved_then")
    return (
        select(
            both.c.key,
            both.c.days,
            func.row_number().over(partition_by=both.c.key, order_by=both.c.days).label("rn"),
            func.count().over(partition_by=both.c.key).label("cnt"),
        )
    ).subquery("ranked")
