"""The follow-up trend (``GET /stats/trend``): per calendar month, how many items were opened,
how many were resolved, and how many stood overdue at the month's end, so that a planner can
see whether the backlog grows. Months are the organization's (its time zone), as the council
reads them; the current month ends now.

Per month ``[start, end)``, with T = the earlier of ``end`` and now:
  ``opened``: items created in the month, except those that are now duplicates or closed
  empty (they never were a problem of their own).
  ``resolved``: items moved to ``resolved`` at least once in the month (each item once).
  ``overdue``: items open at T (their status at T read from the history, as the follow-up
  figures read it: the ``from_status`` of their first status move at or after T, else their
  status now) whose due date lies before T's date in the organization's time zone.

Month buckets are CASE expressions over boundaries computed here, so the SQL is the same on
both databases; the overdue stock is one indexed query per month (at most ``MAX_MONTHS``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Table, and_, case, func, literal, select
from sqlalchemy.orm import Session

from api.action_items import features
from api.action_items.rewind import first_moves_after
from api.core import dialect
from models import ActionEvent, ActionItem, ActionStatus, Organization, utcnow

MAX_MONTHS = 60
DEFAULT_MONTHS = 12

_ITEM: Table = ActionItem.__table__  # type: ignore[attr-defined]
_EVENT: Table = ActionEvent.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Month:
    label: str  # "2026-03"
    start: datetime
    end: datetime  # exclusive; now for the current month


def zone_of(session: Session, org_id: uuid.UUID) -> ZoneInfo:
    org = session.get(Organization, org_id)
    try:
        return ZoneInfo(org.timezone if org is not None else "Europe/Oslo")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("Europe/Oslo")


def _month_start(d: date, zone: ZoneInfo) -> datetime:
    return datetime(d.year, d.month, 1, tzinfo=zone).astimezone(UTC)


def _next_month(d: date) -> date:
    return date(d.year + (d.month == 12), d.month % 12 + 1, 1)


def months_between(since: datetime | None, until: datetime | None, zone: ZoneInfo) -> list[Month]:
    """The calendar months (in ``zone``) that ``[since, until)`` touches, the last one cut at
    the end (now at most). Without ``since``: the ``DEFAULT_MONTHS`` months up to the end."""
    now = utcnow()
    end = now if until is None or until > now else until
    last = end.astimezone(zone).date()
    if since is None:
        first = last.replace(day=1)
        for _ in range(DEFAULT_MONTHS - 1):
            first = (first - timedelta(days=1)).replace(day=1)
    else:
        first = since.astimezone(zone).date().replace(day=1)
    out: list[Month] = []
    day = first
    while len(out) <= MAX_MONTHS:  # one more tells the caller the period is too long
        start = _month_start(day, zone)
        if start >= end:
            break
        nxt = _next_month(day)
        out.append(
            Month(f"{day.year:04d}-{day.month:02d}", start, min(_month_start(nxt, zone), end))
        )
        day = nxt
    return out


def _bucket(column: Any, months: list[Month]) -> Any:
    """The index of the month ``column`` falls in, else NULL."""
    return case(
        *((and_(column >= m.start, column < m.end), literal(i)) for i, m in enumerate(months)),
        else_=None,
    )


def monthly_trend(
    session: Session,
    org_id: uuid.UUID,
    months: list[Month],
    zone: ZoneInfo,
    *,
    area_id: uuid.UUID | None = None,
) -> list[dict[str, Any]]:
    """Per month: ``month``, ``start``, ``end``, ``opened``, ``resolved``, ``overdue``."""
    if not months:
        return []
    dialect.tune_for_report(session)
    first, last = months[0].start, months[-1].end
    in_org = [_ITEM.c.organization_id == org_id]
    if area_id is not None:
        in_org.append(_ITEM.c.area_id == area_id)

    opened_bucket = _bucket(_ITEM.c.created_at, months)
    opened: dict[Any, int] = dict(
        session.execute(
            select(opened_bucket, func.count())
            .where(
                *in_org,
                _ITEM.c.status.notin_(features.HIDDEN),
                _ITEM.c.created_at >= first,
                _ITEM.c.created_at < last,
            )
            .group_by(opened_bucket)
        ).all()
    )

    moves = (
        select(_bucket(_EVENT.c.created_at, months).label("bucket"), _EVENT.c.action_item_id)
        .select_from(_EVENT.join(_ITEM, _ITEM.c.id == _EVENT.c.action_item_id))
        .where(
            *in_org,
            _EVENT.c.organization_id == org_id,
            _EVENT.c.to_status == str(ActionStatus.resolved),
            _EVENT.c.created_at >= first,
            _EVENT.c.created_at < last,
        )
        .distinct()
        .subquery("resolutions")
    )
    resolved: dict[Any, int] = dict(
        session.execute(select(moves.c.bucket, func.count()).group_by(moves.c.bucket)).all()
    )

    out = []
    for i, m in enumerate(months):
        out.append(
            {
                "month": m.label,
                "start": m.start,
                "end": m.end,
                "opened": int(opened.get(i, 0)),
                "resolved": int(resolved.get(i, 0)),
                "overdue": _overdue_at(session, org_id, m.end, zone, in_org),
            }
        )
    return out


def _overdue_at(
    session: Session, org_id: uuid.UUID, at: datetime, zone: ZoneInfo, in_org: list[Any]
) -> int:
    """Items open at ``at`` whose due date lies before ``at``'s local date."""
    later = first_moves_after(org_id, at).subquery("later")
    status = case((later.c.moved.is_not(None), later.c.from_status), else_=_ITEM.c.status)
    stmt = (
        select(func.count())
        .select_from(_ITEM.outerjoin(later, later.c.action_item_id == _ITEM.c.id))
        .where(
            *in_org,
            _ITEM.c.created_at < at,
            _ITEM.c.due_date.is_not(None),
            _ITEM.c.due_date < at.astimezone(zone).date(),
            status.in_(features.OPEN),
        )
    )
    return int(session.execute(stmt).scalar_one())
