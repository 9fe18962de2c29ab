"""The follow-up rollup in tests: items written straight to the tables counted as the backfill
counts them, a fresh count to compare the rollup with, and the figures of today computed in
Python from the items' rows."""

from __future__ import annotations

import statistics
import uuid
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.action_items import follow_up_rollup
from models import ActionItem, Category, FollowUpCount, FollowUpMember
from models.action_items import DONE, HIDDEN, OPEN


def count_all(session: Session) -> None:
    """Count items written behind the services' back, as `safewalk migrate`'s backfill does."""
    follow_up_rollup.sync(session, session.scalars(select(ActionItem.id)).all())


def _state(item: ActionItem) -> follow_up_rollup.State:
    def text(v: Any) -> str:
        return "" if v is None else str(v)

    return follow_up_rollup.State(
        item.organization_id, text(item.area_id), text(item.department),
        text(item.category_id), str(item.status), item.created_at, item.due_date,
        item.resolved_at,
    )  # fmt: skip


def drift(session: Session, org_id: uuid.UUID) -> dict[str, Any]:
    """What the rollup and the member rows hold that a fresh count of the items does not, and
    the reverse; empty when exact."""
    session.expire_all()
    live = follow_up_rollup.live_key(session, org_id, "area")
    items = session.scalars(select(ActionItem).where(ActionItem.organization_id == org_id)).all()
    fresh: Counter[tuple[Any, ...]] = Counter()
    for item in items:
        fresh.update(follow_up_rollup.contributions(_state(item)))
    # Rows under a deleted area's key are read as no area (`live_key`).
    kept: Counter[tuple[Any, ...]] = Counter()
    for r in session.scalars(select(FollowUpCount).where(FollowUpCount.organization_id == org_id)):
        key = live(r.key) if r.dim == 0 else r.key
        kept[(r.organization_id, r.dim, r.kind, r.day, r.status, r.flag, key)] += r.n
    kept = +kept
    members = {
        m.action_item_id: follow_up_rollup.State(
            m.organization_id,
            live(m.area),
            m.department,
            m.category,
            m.status,
            m.created_at,
            m.due_date,
            m.resolved_at,
        )  # fmt: skip
        for m in session.scalars(
            select(FollowUpMember).where(FollowUpMember.organization_id == org_id)
        )
    }
    out: dict[str, Any] = {}
    if kept != fresh:
        out["counts"] = {"extra": kept - fresh, "missing": fresh - kept}
    now = {i.id: _state(i) for i in items}
    if members != now:
        out["members"] = [(members.get(k), now.get(k)) for k in set(members) | set(now)
                          if members.get(k) != now.get(k)]  # fmt: skip
    return out


def brute_force(
    session: Session, org_id: uuid.UUID, group_by: str, since: datetime | None, now: datetime
) -> dict[str | None, dict[str, Any]]:
    """Today's figures per group key (as the API writes it) from the items' rows, one by one:
    everything but ``reopened`` (which reads the history) and the labels."""
    session.expire_all()
    items = session.scalars(select(ActionItem).where(ActionItem.organization_id == org_id)).all()
    codes = {c.id: c.code for c in session.scalars(select(Category))}
    out: dict[str | None, Counter[str]] = {}
    days: dict[str | None, list[float]] = defaultdict(list)
    for i in items:
        status = str(i.status)
        if status in HIDDEN:
            continue
        raw = {"area": i.area_id, "department": i.department, "category": codes[i.category_id]}
        key = raw[group_by]
        k = None if key is None else str(key)
        f = out.setdefault(k, Counter())
        is_open = status in OPEN
        f["open"] += is_open
        f["overdue"] += is_open and i.due_date is not None and i.due_date < now.date()
        f["resolved"] += status == "resolved"
        f["verified"] += status == "verified"
        f["created"] += (since is None or i.created_at >= since) and i.created_at < now
        age = now - i.created_at
        if is_open:
            bucket = (
                "0-30" if age <= timedelta(days=30) else "31-90" if age <= timedelta(days=90)
                else "91-180" if age <= timedelta(days=180) else ">180"
            )  # fmt: skip
            f[bucket] += 1
        r = i.resolved_at
        if status in DONE and r is not None and (since is None or r >= since) and r < now:
            f["resolved_in_period"] += 1
            days[k].append((r - i.created_at).total_seconds() / 86400)
            if i.due_date is not None:
                f["with_deadline"] += 1
                f["within_deadline"] += r.astimezone(UTC).date() <= i.due_date
    result = {}
    for k, f in out.items():
        with_due = f["with_deadline"]
        result[k] = {
            "open": f["open"], "overdue": f["overdue"], "resolved": f["resolved"],
            "verified": f["verified"], "created": f["created"],
            "resolved_in_period": f["resolved_in_period"],
            "open_age_days": {b: f[b] for b in ("0-30", "31-90", "91-180", ">180")},
            "median_days_to_resolve": (
                round(statistics.median(days[k]), 1) if days[k] else None
            ),
            "resolved_within_deadline": f["within_deadline"],
            "resolved_within_deadline_share": (
                round(f["within_deadline"] / with_due, 3) if with_due else None
            ),
        }  # fmt: skip
    return result


def served(groups: list[dict[str, Any]]) -> dict[str | None, dict[str, Any]]:
    """The API's groups keyed as `brute_force` keys them."""
    skip = ("key", "label", "reopened")
    return {g["key"]: {k: v for k, v in g.items() if k not in skip} for g in groups}
