"""The deadline scan: ``due_soon`` and ``overdue`` notices, once per item, kind and due date.

Run by the sender (api/jobs/notify.py) for one organization at a time. A ``deadline_notice``
row records that an item's deadline was told about; its unique key (item, kind, due date) makes
a second scan, or a second sender, add nothing. A due date moved later is a new deadline, told
about again when it comes near.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import and_, exists, select
from sqlalchemy.orm import Session
from sqlmodel import col

from api.notices.outbox import coordinators, item_people, item_summary, notify
from models import ActionItem, Organization
from models import action_items as item_status
from models.notices import DeadlineNotice, NoticeKind

DUE_SOON_DAYS = 3
BATCH = 500


def local_today(org: Organization, now: datetime) -> date:
    try:
        zone = ZoneInfo(org.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("Europe/Oslo")
    return now.astimezone(zone).date()


def _unmarked(
    session: Session, org_id: object, kind: NoticeKind, *conditions: object
) -> list[ActionItem]:
    marked = exists().where(
        col(DeadlineNotice.action_item_id) == col(ActionItem.id),
        col(DeadlineNotice.kind) == str(kind),
        col(DeadlineNotice.due_date) == col(ActionItem.due_date),
    )
    return list(
        session.scalars(
            select(ActionItem)
            .where(
                col(ActionItem.organization_id) == org_id,
                item_status.is_open(),
                col(ActionItem.due_date).is_not(None),
                and_(*conditions),  # type: ignore[arg-type]
                ~marked,
            )
            .order_by(col(ActionItem.due_date), col(ActionItem.id))
            .limit(BATCH)
        )
    )


def scan(session: Session, org: Organization, now: datetime) -> int:
    """Add the notices of deadlines that came near or passed; the number of items told about."""
    today = local_today(org, now)
    overdue = _unmarked(session, org.id, NoticeKind.overdue, col(ActionItem.due_date) < today)
    soon = _unmarked(
        session,
        org.id,
        NoticeKind.due_soon,
        col(ActionItem.due_date) >= today,
        col(ActionItem.due_date) <= today + timedelta(days=DUE_SOON_DAYS),
    )
    coords = coordinators(session, org.id) if overdue else []
    for kind, items in ((NoticeKind.overdue, overdue), (NoticeKind.due_soon, soon)):
        for item in items:
            assert item.due_date is not None
            session.add(
                DeadlineNotice(
                    organization_id=org.id,
                    action_item_id=item.id,
                    kind=kind,
                    due_date=item.due_date,
                    created_at=now,
                )
            )
            people = item_people(session, item)
            if kind == NoticeKind.overdue:
                people = people + coords
            notify(session, org.id, kind, people, item_summary(item), item=item, now=now)
    session.flush()
    return len(overdue) + len(soon)
