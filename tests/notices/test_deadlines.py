"""The deadline scan: ``due_soon`` a few days ahead and ``overdue`` after the due date, once per
item, kind and due date; overdue items reach the coordinators too."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from api.jobs.notify import run_once
from api.notices.deadlines import local_today
from models import utcnow
from models.notices import NoticeKind
from tests.factories.client import SyncClient
from tests.factories.notices import new_item, notices, patch_item
from tests.factories.world import World


def _scan(app: Any, **kw: Any) -> int:
    report = run_once(app.state.sessionmaker, app.state.settings, **kw)
    return int(report.deadlines)


def test_due_soon_then_overdue_each_once(
    client: SyncClient, world: World, session: Session, app: Any
) -> None:
    now = utcnow()
    today = local_today(world.org, now)
    item_id = new_item(client, world)
    far = new_item(client, world, at=[5.7390, 58.8540])
    r = patch_item(
        client, world, item_id, "coordinator", {"due_date": str(today + timedelta(days=2))}
    )
    assert r.status_code == 200, r.text
    patch_item(client, world, far, "coordinator", {"due_date": str(today + timedelta(days=30))})

    assert _scan(app, now=now) == 1
    assert _scan(app, now=now + timedelta(hours=1)) == 0  # once
    soon = notices(session, world, kind=NoticeKind.due_soon)
    # Nobody is assigned: the lighting department hears of it.
    assert [n.user_id for n in soon] == [world.users["engineer"].id]
    assert soon[0].payload["item_id"] == item_id

    later = now + timedelta(days=3)
    assert _scan(app, now=later) == 1
    assert _scan(app, now=later + timedelta(hours=1)) == 0
    overdue = notices(session, world, kind=NoticeKind.overdue)
    assert sorted(str(n.user_id) for n in overdue) == sorted(
        str(world.users[who].id) for who in ("engineer", "coordinator")
    )


def test_a_new_due_date_is_a_new_deadline(
    client: SyncClient, world: World, session: Session, app: Any
) -> None:
    now = utcnow()
    today = local_today(world.org, now)
    item_id = new_item(client, world)
    patch_item(client, world, item_id, "coordinator", {"due_date": str(today + timedelta(days=1))})
    assert _scan(app, now=now) == 1
    patch_item(client, world, item_id, "coordinator", {"due_date": str(today + timedelta(days=3))})
    assert _scan(app, now=now) == 1
    assert len(notices(session, world, kind=NoticeKind.due_soon)) == 2


def test_closed_items_and_the_assignee_rule(
    client: SyncClient, world: World, session: Session, app: Any
) -> None:
    now = utcnow()
    today = local_today(world.org, now)
    done = new_item(client, world)
    patch_item(
        client, world, done, "coordinator",
        {"due_date": str(today - timedelta(days=1)), "status": "resolved"},
    )  # fmt: skip
    mine = new_item(client, world, at=[5.7390, 58.8540])
    patch_item(
        client, world, mine, "coordinator",
        {"due_date": str(today + timedelta(days=1)), "assignee_id": str(world.users["admin"].id)},
    )  # fmt: skip
    assert _scan(app, now=now) == 1  # the resolved item is nobody's worry
    soon = notices(session, world, kind=NoticeKind.due_soon)
    # Assigned: the assignee alone, not the whole department.
    assert [n.user_id for n in soon] == [world.users["admin"].id]
