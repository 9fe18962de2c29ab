"""Follow-up figures (``GET /stats/follow-up``) for a period, as an SLT or SaLTo coordinator
reports them to the council: what stood open at the end of the period, what was reported and
resolved during it, and how long resolving took. Exact on both databases: today's figures
from the follow-up rollup (`follow_up_rollup`), a past end's from the rollup rewound to it
(`rewind`), both with the partial days at a period's edges read from indexes on ``action_item``.

The period is ``[since, until)``; ``since`` absent means from the beginning, ``until`` absent
(or later than now) means now. Call the end of the period T. Every item is grouped by its area,
department or category as it is now.

Stock figures, as of T (the backlog at the end of the period):
  ``open``, ``resolved`` (awaiting verification) and ``verified`` count items by their status
  at T; ``overdue`` counts those open at T whose due date lies before T's (UTC) date;
  ``open_age_days`` buckets the open ones by their age at T. Items that did not exist at T, or
  that were duplicates or closed empty at T, count nowhere.
Flow figures, within the period:
  ``created``: items created in it. ``reopened``: items reopened at least once in it.
  ``resolved_in_period``: items whose resolution standing at T happened in it (an item
  resolved in the period and reopened before T is not resolved; it is counted as reopened).
  ``median_days_to_resolve``: the exact median, over those same items, of the days from the
  item's creation to that resolution (the mean of the two middle values for an even count),
  rounded to 0.1 day.
  ``resolved_within_deadline``: of those same items, the ones with a due date whose resolution
  fell on or before it (the resolution's UTC date, as ``overdue`` reads dates);
  ``resolved_within_deadline_share`` is that count over those of them that had a due date,
  rounded to 0.001 (null when none had one). An item without a due date had no deadline to
  hold: it counts in neither.

The status of an item at a past T is read from its append-only history: it is the
``from_status`` of the item's first status move at or after T, or its current status when it
has not moved since. Without ``since`` and ``until`` the figures are those of today.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import (
    Float,
    Table,
    and_,
    case,
    cast,
    func,
    null,
    select,
    type_coerce,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.selectable import Subquery

from api.action_items import features, follow_up_rollup, rewind
from api.action_items.rewind import (
    DONE,
    RESOLVED,
    first_moves_after,
    in_period,
    last_resolved_before,
    reopened_in,
)
from api.core import dialect
from api.core.i18n import Language, has, translate
from models import ActionEvent, ActionItem, ActionStatus, Area, Category, utcnow
from models.base import UTCDateTime
from models.categories import pick_label

GroupBy = Literal["area", "department", "category"]


_ITEM: Table = ActionItem.__table__  # type: ignore[attr-defined]
_EVENT: Table = ActionEvent.__table__  # type: ignore[attr-defined]
_AREA: Table = Area.__table__  # type: ignore[attr-defined]
_CATEGORY: Table = Category.__table__  # type: ignore[attr-defined]


def _key(group_by: GroupBy) -> Any:
    return {
        "area": _ITEM.c.area_id,
        "department": _ITEM.c.department,
        "category": _ITEM.c.category_id,
    }[group_by]


def _population(org_id: uuid.UUID, key: Any, as_of: datetime) -> Subquery:
    """One row per item that existed at ``as_of``: its group key, its status and its standing
    resolution time at ``as_of`` read from its history, and the columns the figures need."""
    # The first status move of each item at or after T says what its status was at T.
    later = first_moves_after(org_id, as_of).cte("later")
    # Only for items that moved after T: their last move to resolved before T.
    resolved_before = last_resolved_before(org_id, as_of, select(later.c.action_item_id))
    moved = later.c.moved.is_not(None)
    # A first move with no from_status is the item's creation: it did not exist yet at T.
    status = case((moved, later.c.from_status), else_=_ITEM.c.status)
    resolution = type_coerce(
        case(
            (moved, case((later.c.from_status.in_(DONE), resolved_before.c.at), else_=null())),
            else_=_ITEM.c.resolved_at,
        ),
        UTCDateTime(),
    )
    state = (
        select(
            key.label("key"),
            _ITEM.c.id,
            status.label("status"),
            _ITEM.c.created_at,
            _ITEM.c.due_date,
            resolution.label("resolution_at"),
        )
        .select_from(
            _ITEM.outerjoin(later, later.c.action_item_id == _ITEM.c.id).outerjoin(
                resolved_before, resolved_before.c.action_item_id == _ITEM.c.id
            )
        )
        .where(_ITEM.c.organization_id == org_id, _ITEM.c.created_at < as_of)
        .subquery("state")
    )
    return (
        select(state)
        .where(state.c.status.is_not(None), state.c.status.notin_(features.HIDDEN))
        .subquery("population")
    )


def follow_up_stats(
    session: Session,
    org_id: uuid.UUID,
    group_by: GroupBy,
    lang: Language = Language.en,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    replay: bool = False,
) -> tuple[datetime, list[dict[str, Any]]]:
    """The figures per group for ``[since, until)`` (see the module docstring), and the end of
    the period they were taken at. Today's from the follow-up rollup; a past end's from the
    rollup rewound to it (`rewind`), or with ``replay`` from every item's history (the
    reference the rewind is tested and benchmarked against: slower, the same figures)."""
    dialect.tune_for_report(session)
    now = utcnow()
    live = until is None or until >= now
    as_of = now if until is None or until >= now else until
    key = _key(group_by)
    reopened_by_key: dict[Any, int] | None = None
    if live:
        medians = _live_medians(session, org_id, key, since, as_of)
        rows = [{"key": k, **f} for k, f in follow_up_rollup.read(
            session, org_id, group_by, since, as_of).items()]  # fmt: skip
        reopened_by_key = _live_reopened(session, org_id, key, since, as_of)
    elif replay:
        rows, medians = _replayed(session, org_id, key, since, as_of)
    else:
        fixes, medians = rewind.rewound(session, org_id, key, since, as_of)
        reopened_by_key = _live_reopened(session, org_id, key, since, as_of)
        for k, f in fixes:
            reopened_by_key[k] = reopened_by_key.get(k, 0) + f.pop("reopened")
        rows = [{"key": k, **f} for k, f in follow_up_rollup.read(
            session, org_id, group_by, since, as_of, fixes).items()]  # fmt: skip
    labels = _labels(session, group_by, [r["key"] for r in rows], lang)
    out = []
    for row in rows:
        k = row["key"]
        med = medians.get(k)
        code, label = labels.get(k, (k, None))
        with_due, within = int(row["with_deadline"] or 0), int(row["within_deadline"] or 0)
        out.append(
            {
                "key": str(code) if code is not None else None,
                "label": label,
                "open": int(row["open"] or 0),
                "overdue": int(row["overdue"] or 0),
                "resolved": int(row["resolved"] or 0),
                "verified": int(row["verified"] or 0),
                "reopened": (
                    reopened_by_key.get(k, 0)
                    if reopened_by_key is not None
                    else int(row["reopened"] or 0)
                ),
                "created": int(row["created"] or 0),
                "resolved_in_period": int(row["resolved_in_period"] or 0),
                "open_age_days": {
                    "0-30": int(row["age_0_30"] or 0),
                    "31-90": int(row["age_31_90"] or 0),
                    "91-180": int(row["age_91_180"] or 0),
                    ">180": int(row["age_over_180"] or 0),
                },
                "median_days_to_resolve": round(float(med), 1) if med is not None else None,
                "resolved_within_deadline": within,
                "resolved_within_deadline_share": round(within / with_due, 3) if with_due else None,
            }
        )
    out.sort(key=lambda r: (r["label"] is None, str(r["label"])))
    return as_of, out


def _live_reopened(
    session: Session, org_id: uuid.UUID, key: Any, since: datetime | None, as_of: datetime
) -> dict[Any, int]:
    """Today the population is the items' own rows: count the few reopened items per group
    apart, instead of joining the reopens to every item."""
    return {
        k: int(n)
        for k, n in session.execute(
            select(key, func.count(func.distinct(_EVENT.c.action_item_id)))
            .select_from(_EVENT.join(_ITEM, _ITEM.c.id == _EVENT.c.action_item_id))
            .where(
                reopened_in(org_id, since, as_of),
                _ITEM.c.organization_id == org_id,
                _ITEM.c.status.notin_(features.HIDDEN),
            )
            .group_by(key)
        ).all()
    }


def _replayed(
    session: Session, org_id: uuid.UUID, key: Any, since: datetime | None, as_of: datetime
) -> tuple[list[dict[str, Any]], dict[Any, Any]]:
    """The counts and medians at a past ``as_of``, every item's state replayed from its
    history."""
    pop = _population(org_id, key, as_of)
    status = pop.c.status
    created = pop.c.created_at
    is_open = status.in_(features.OPEN)

    def count_if(cond: Any) -> Any:
        return func.sum(case((cond, 1), else_=0))

    reopened = (
        select(_EVENT.c.action_item_id)
        .where(reopened_in(org_id, since, as_of))
        .distinct()
        .subquery("reopened")
    )
    resolved_here = and_(
        status.in_(DONE),
        pop.c.resolution_at.is_not(None),
        in_period(pop.c.resolution_at, since, as_of),
    )
    with_deadline = and_(resolved_here, pop.c.due_date.is_not(None))
    within_deadline = and_(
        with_deadline, dialect.utc_day(session, pop.c.resolution_at) <= pop.c.due_date
    )
    day = timedelta(days=1)
    counts = (
        select(
            pop.c.key,
            count_if(is_open).label("open"),
            count_if(and_(is_open, pop.c.due_date < as_of.date())).label("overdue"),
            count_if(status == RESOLVED).label("resolved"),
            count_if(status == str(ActionStatus.verified)).label("verified"),
            count_if(reopened.c.action_item_id.is_not(None)).label("reopened"),
            count_if(in_period(created, since, as_of)).label("created"),
            count_if(resolved_here).label("resolved_in_period"),
            count_if(with_deadline).label("with_deadline"),
            count_if(within_deadline).label("within_deadline"),
            count_if(and_(is_open, created >= as_of - 30 * day)).label("age_0_30"),
            count_if(and_(is_open, created < as_of - 30 * day, created >= as_of - 90 * day)).label(
                "age_31_90"
            ),
            count_if(and_(is_open, created < as_of - 90 * day, created >= as_of - 180 * day)).label(
                "age_91_180"
            ),
            count_if(and_(is_open, created < as_of - 180 * day)).label("age_over_180"),
        )
        .select_from(pop.outerjoin(reopened, reopened.c.action_item_id == pop.c.id))
        .group_by(pop.c.key)
    )
    rows = [dict(r) for r in session.execute(counts).mappings()]
    return rows, _past_medians(session, pop, resolved_here)


def _past_medians(session: Session, pop: Subquery, resolved_here: Any) -> dict[Any, Any]:
    """The exact median per group over the history's population: a sort per group."""
    days = cast(dialect.days_between(session, pop.c.resolution_at, pop.c.created_at), Float)
    ranked = (
        select(
            pop.c.key,
            days.label("days"),
            func.row_number().over(partition_by=pop.c.key, order_by=days).label("rn"),
            func.count().over(partition_by=pop.c.key).label("cnt"),
        )
        .where(resolved_here)
        .subquery("ranked")
    )
    return _middle(session, ranked)


def _live_medians(
    session: Session, org_id: uuid.UUID, key: Any, since: datetime | None, as_of: datetime
) -> dict[Any, Any]:
    """The exact median per group of today's resolved items, walked in the order of an index
    on (organization, group, days to resolve) of the resolved items: no sort (see the
    follow-up rollup migration)."""
    order = dialect.days_to_resolve_order(session, _ITEM.c.resolved_at, _ITEM.c.created_at)
    days = cast(dialect.days_between(session, _ITEM.c.resolved_at, _ITEM.c.created_at), Float)
    window = {"partition_by": key, "order_by": order}
    ranked = (
        select(
            key.label("key"),
            days.label("days"),
            func.row_number().over(**window).label("rn"),
            func.count().over(**window, rows=(None, None)).label("cnt"),
        )
        .where(
            _ITEM.c.organization_id == org_id,
            _ITEM.c.status.in_(DONE),
            _ITEM.c.resolved_at.is_not(None),
            in_period(_ITEM.c.resolved_at, since, as_of),
        )
        .subquery("ranked")
    )
    return _middle(session, ranked)


def _middle(session: Session, ranked: Subquery) -> dict[Any, Any]:
    return dict(
        session.execute(
            select(ranked.c.key, func.avg(ranked.c.days))
            .where(rewind.middle(ranked))
            .group_by(ranked.c.key)
        ).all()
    )


def _labels(
    session: Session, group_by: GroupBy, keys: list[Any], lang: Language
) -> dict[Any, tuple[Any, str | None]]:
    """Per group key: the key to show (a category's code) and its label in ``lang``."""
    if group_by == "department":
        return {k: (k, _department(k, lang)) for k in keys}
    ids = [k for k in keys if k is not None]
    if group_by == "area":
        names = session.execute(select(_AREA.c.id, _AREA.c.name).where(_AREA.c.id.in_(ids))).all()
        return {k: (k, name) for k, name in names}
    cats = _CATEGORY.c
    found = session.execute(
        select(cats.id, cats.code, cats.label_en, cats.label_nb, cats.labels).where(
            cats.id.in_(ids)
        )
    ).all()
    return {k: (code, pick_label(lang, en, nb, other)) for k, code, en, nb, other in found}


def _department(value: str | None, lang: Language) -> str | None:
    if value is None:
        return None
    key = f"department.{value}"
    return translate(key, lang) if has(key) else value
