"""The response-time list of an organization: read it a page at a time, replace it whole, and
apply it to the open items whose due dates were not set by hand."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, delete, func, select
from sqlalchemy.orm import Session
from sqlmodel import col

from api.auth.principal import Principal
from api.core import dialect
from api.core.errors import Conflict, InvalidInput
from api.core.paging import decode_cursor, encode_cursor
from api.deadlines import rules
from models import ActionEvent, ActionItem, Category, ResponseTimeRule, utcnow
from models import action_items as item_status
from models.deadlines import MAX_RULES, ResponseTimeIn, ResponseTimeRead

ACTION_ITEM: Table = ActionItem.__table__  # type: ignore[attr-defined]
ACTION_EVENT: Table = ActionEvent.__table__  # type: ignore[attr-defined]


def _reads(session: Session, rows: Sequence[ResponseTimeRule]) -> list[ResponseTimeRead]:
    codes = dict(
        session.execute(
            select(col(Category.id), col(Category.code)).where(
                col(Category.id).in_({r.category_id for r in rows if r.category_id})
            )
        ).all()
    )
    return [
        ResponseTimeRead(
            category=codes.get(r.category_id) if r.category_id else None,
            department=r.department,
            priority_min=r.priority_min,
            days=r.days,
            working_days=r.working_days,
        )
        for r in rows
    ]


def list_page(
    session: Session,
    org_id: uuid.UUID,
    *,
    n: int,
    cursor: str | None,
) -> tuple[list[ResponseTimeRead], str | None]:
    """The rules in the order they were written, and the cursor of the next page."""
    stmt = select(ResponseTimeRule).where(col(ResponseTimeRule.organization_id) == org_id)
    after = decode_cursor(cursor, 1)
    if after is not None:
        if not isinstance(after[0], int) or isinstance(after[0], bool):
            raise InvalidInput.at(["query", "cursor"], "error.bad_cursor")
        stmt = stmt.where(col(ResponseTimeRule.position) > after[0])
    rows = list(session.scalars(stmt.order_by(col(ResponseTimeRule.position)).limit(n + 1)))
    more = len(rows) > n
    rows = rows[:n]
    nxt = encode_cursor([rows[-1].position]) if more and rows else None
    return _reads(session, rows), nxt


def replace(
    session: Session, org_id: uuid.UUID, body: Sequence[ResponseTimeIn]
) -> list[ResponseTimeRead]:
    """The new list, checked whole (every refused entry named at once), then stored in place
    of the old one. Open items keep their due dates until the list is applied."""
    if len(body) > MAX_RULES:
        raise InvalidInput.at(["body"], "error.too_many_rules", max_rules=MAX_RULES)
    cats = {
        c.code: c
        for c in session.scalars(select(Category).where(col(Category.organization_id) == org_id))
    }
    errors: list[dict[str, Any]] = []
    seen: dict[tuple[uuid.UUID | None, str | None, float | None], int] = {}
    rows: list[ResponseTimeRule] = []
    for i, entry in enumerate(body):
        category_id = None
        if entry.category is not None:
            cat = cats.get(entry.category)
            if cat is None:
                errors.append(
                    {"loc": ["body", i, "category"], "key": "error.no_such_category_plain"}
                )
                continue
            if not cat.actionable:
                errors.append(
                    {"loc": ["body", i, "category"], "key": "error.category_not_actionable"}
                )
                continue
            category_id = cat.id
        key = (category_id, entry.department, entry.priority_min)
        if key in seen:
            errors.append(
                {
                    "loc": ["body", i],
                    "key": "error.rule_repeats",
                    "params": {"entry": seen[key]},
                }
            )
            continue
        seen[key] = i
        rows.append(
            ResponseTimeRule(
                organization_id=org_id,
                category_id=category_id,
                department=entry.department,
                priority_min=entry.priority_min,
                days=entry.days,
                working_days=entry.working_days,
                position=i,
            )
        )
    if errors:
        first = errors[0]
        raise InvalidInput(
            key=first["key"], params=first.get("params"), loc=first["loc"], errors=errors
        )
    session.execute(delete(ResponseTimeRule).where(col(ResponseTimeRule.organization_id) == org_id))
    session.add_all(rows)
    session.flush()
    return _reads(session, rows)


def apply(session: Session, principal: Principal) -> int:
    """Recompute the due date of every open item whose due date was not set by hand, from the
    rules as they are now and the day each item was created. Each changed item gets a new
    version (its ETag) and an event in its history; returns how many changed.

    Set-based, as the regroup: one read, one versioned bulk update and one bulk insert of the
    events. An item someone changes meanwhile fails the whole application (409, nothing
    written), instead of being overwritten."""
    org_id = principal.org_id
    times = rules.load(session, org_id)
    i = ACTION_ITEM.c
    rows = session.execute(
        select(
            i.id, i.category_id, i.department,
            # The item's priority: the manual override, else the score (as every read shows it).
            func.coalesce(i.priority_override, i.priority_score),
            i.created_at, i.due_date, i.version,
        ).where(
            i.organization_id == org_id,
            i.status.in_(item_status.OPEN),
            i.due_date_manual.is_(False),
        )
    ).all()  # fmt: skip
    now = utcnow()
    actor = principal.user.id if principal.user is not None else None
    writes: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    for item_id, category_id, department, priority, created_at, old, version in rows:
        due = times.due_date(category_id, department, float(priority), created_at)
        if due == old:
            continue
        writes.append({"id": item_id, "due_date": due, "updated_at": now, "version": version})
        events.append(
            {
                "id": uuid.uuid4(), "organization_id": org_id, "action_item_id": item_id,
                "actor_user_id": actor, "actor_participant_id": None, "kind": "update",
                "from_status": None, "to_status": None,
                "changes": {"due_date": [_iso(old), due.isoformat()]},
                "comment": "response times applied", "created_at": now,
            }
        )  # fmt: skip
    written = dialect.bulk_update(session, ACTION_ITEM, writes, version="version")
    if written != len(writes):
        raise Conflict(key="error.deadlines_raced")
    dialect.bulk_insert(session, ACTION_EVENT, events)
    # Items this session loaded before are stale now: the bulk write went past the ORM.
    for obj in list(session.identity_map.values()):
        if isinstance(obj, ActionItem):
            session.expire(obj)
    return len(writes)


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None
