"""The outbox: notices and webhook deliveries are rows written in the transaction of the change
that caused them (committed with it, gone with its rollback), to the right people, and the
webhook bodies never carry who reported anything."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from api.action_items import workflow
from api.action_items.grouping import get_item
from api.auth.principal import Principal
from api.core.errors import PreconditionFailed
from models import ActionItem, User
from models.action_items import ActionItemUpdate
from models.notices import Delivery, NoticeKind
from tests.factories.client import SyncClient
from tests.factories.notices import (
    deliveries,
    make_webhook,
    new_item,
    notices,
    observe,
    patch_item,
    text_of,
)
from tests.factories.world import World


def test_a_new_item_tells_its_department_and_the_webhooks_without_identity(
    client: SyncClient, world: World, session: Session
) -> None:
    make_webhook(session, world)
    obs = observe(client, world)  # the participant "Ada" (youth) reports it
    item_id = obs["action_item_id"]

    created = notices(session, world, kind=NoticeKind.item_created)
    # The lighting department's engineer, once, by default in the daily digest; nobody else
    # (the planner shares no department, the coordinator and admin have none).
    assert [(n.user_id, n.delivery) for n in created] == [
        (world.users["engineer"].id, Delivery.digest)
    ]
    assert created[0].payload["item_id"] == item_id
    assert str(created[0].action_item_id) == item_id

    sent = {d.event_type: d.payload for d in deliveries(session, world)}
    assert set(sent) == {"observation.created", "action_item.created"}
    for event_type, body in sent.items():
        assert body["type"] == event_type
        assert set(body) == {"type", "timestamp", "data"}
    assert sent["observation.created"]["data"]["id"] == obs["id"]
    assert sent["action_item.created"]["data"]["id"] == item_id
    assert sent["action_item.created"]["data"]["observation_count"] == 1
    whole = text_of(sent)
    participant = world.participant
    for secret in (str(participant.id), "Ada", "youth", "participant"):
        assert secret not in whole


def test_assign_and_comment_tell_the_assignee_not_the_actor(
    client: SyncClient, world: World, session: Session
) -> None:
    item_id = new_item(client, world)
    engineer = world.users["engineer"]
    r = patch_item(client, world, item_id, "coordinator", {"assignee_id": str(engineer.id)})
    assert r.status_code == 200, r.text
    assigned = notices(session, world, kind=NoticeKind.assigned)
    assert [(n.user_id, n.delivery) for n in assigned] == [(engineer.id, Delivery.immediate)]
    assert assigned[0].payload["by"] == (
        world.users["coordinator"].display_name or world.users["coordinator"].email
    )

    r = client.post(
        f"/api/v1/action-items/{item_id}/comments",
        headers=world.headers("coordinator"),
        json={"text": "The lamp needs a new driver"},
    )
    assert r.status_code == 201, r.text
    comments = notices(session, world, kind=NoticeKind.comment)
    assert [n.user_id for n in comments] == [engineer.id]
    assert comments[0].payload["comment"] == "The lamp needs a new driver"

    # The engineer's own comment tells nobody (the item is theirs).
    r = client.post(
        f"/api/v1/action-items/{item_id}/comments",
        headers=world.headers("engineer"),
        json={"text": "On it"},
    )
    assert r.status_code == 201
    assert len(notices(session, world, kind=NoticeKind.comment)) == 1


def test_status_moves_reach_webhooks_and_a_reopen_tells_the_item_s_people(
    client: SyncClient, world: World, session: Session
) -> None:
    item_id = new_item(client, world)
    make_webhook(session, world, events=["action_item.status_changed", "action_item.updated"])
    r = patch_item(
        client, world, item_id, "coordinator",
        {"status": "resolved", "resolution_note": "New lamp", "priority_override": 80},
    )  # fmt: skip
    assert r.status_code == 200, r.text
    moved = deliveries(session, world, event_type="action_item.status_changed")
    assert [(d.payload["data"]["from_status"], d.payload["data"]["to_status"]) for d in moved] == [
        ("new", "resolved")
    ]
    updated = deliveries(session, world, event_type="action_item.updated")
    assert updated[0].payload["data"]["changes"]["priority_override"] == [None, 80]

    r = patch_item(client, world, item_id, "coordinator", {"status": "reopened"})
    assert r.status_code == 200, r.text
    reopened = notices(session, world, kind=NoticeKind.reopened)
    assert [n.user_id for n in reopened] == [world.users["engineer"].id]


def test_a_completed_walk_reaches_the_webhooks_that_want_it(
    client: SyncClient, world: World, session: Session
) -> None:
    make_webhook(session, world, events=["walk.completed"])
    other = make_webhook(session, world, events=["observation.created"])
    r = client.patch(
        f"/api/v1/walks/{world.walk.id}",
        headers=world.headers("coordinator"),
        json={"status": "completed"},
    )
    assert r.status_code == 200, r.text
    done = deliveries(session, world)
    assert [d.event_type for d in done] == ["walk.completed"]
    assert done[0].payload["data"]["id"] == str(world.walk.id)
    assert all(d.webhook_id != other.id for d in done)


def test_what_someone_switched_off_is_not_written(
    client: SyncClient, world: World, session: Session
) -> None:
    r = client.put(
        "/api/v1/me/notifications",
        headers=world.headers("engineer"),
        json={"item_created": "off", "assigned": "digest"},
    )
    assert r.status_code == 200, r.text
    item_id = new_item(client, world)
    assert notices(session, world, kind=NoticeKind.item_created) == []
    patch_item(
        client, world, item_id, "coordinator", {"assignee_id": str(world.users["engineer"].id)}
    )
    assert [n.delivery for n in notices(session, world, kind=NoticeKind.assigned)] == [
        Delivery.digest
    ]


def test_notices_are_written_in_the_change_s_transaction_and_vanish_with_its_rollback(
    client: SyncClient, world: World, session: Session, session_factory: sessionmaker[Session]
) -> None:
    item_id = new_item(client, world)
    make_webhook(session, world)
    before = (len(notices(session, world)), len(deliveries(session, world)))
    coordinator = world.users["coordinator"]
    engineer = world.users["engineer"]
    with session_factory() as s:
        principal = Principal(
            kind="staff", organization_id=world.org.id, user=s.get(User, coordinator.id)
        )
        item = get_item(s, world.org.id, uuid.UUID(item_id))
        workflow.apply(
            s, principal, item, ActionItemUpdate(assignee_id=engineer.id, comment="Yours")
        )
        # Flushed in this very transaction, beside the change itself.
        assert len(notices(s, world)) == before[0] + 2  # assigned + comment
        assert len(deliveries(s, world)) == before[1] + 1  # action_item.updated
        s.rollback()
    assert (len(notices(session, world)), len(deliveries(session, world))) == before
    assert session.get(ActionItem, uuid.UUID(item_id), populate_existing=True).assignee_id is None


def test_a_request_that_fails_after_the_outbox_was_written_leaves_no_notice(
    client: SyncClient, world: World, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    item_id = new_item(client, world)
    make_webhook(session, world)
    before = (len(notices(session, world)), len(deliveries(session, world)))
    real_flush = workflow._flush

    def flush_then_lose_the_race(s: Any) -> None:
        real_flush(s)  # the item's change and the outbox rows reach the database...
        raise PreconditionFailed("the item was changed by someone else at the same time")

    monkeypatch.setattr(workflow, "_flush", flush_then_lose_the_race)
    r = patch_item(
        client, world, item_id, "coordinator",
        {"assignee_id": str(world.users["engineer"].id), "comment": "Yours"},
    )  # fmt: skip
    assert r.status_code == 412
    # ...and leave with the request's rollback: nothing is sent for a change that did not happen.
    assert (len(notices(session, world)), len(deliveries(session, world))) == before
