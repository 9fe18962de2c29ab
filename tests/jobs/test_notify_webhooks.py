"""Webhook deliveries to a real HTTP server on a loopback port: signed the Standard Webhooks way
(checked with the ``standardwebhooks`` library), retried, the endpoint switched off after three
days of failures (with a fake clock) and the admins told, the delivery log, and the address
checked again at delivery time."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session
from standardwebhooks import Webhook as Verifier

from api.core import outbound
from api.jobs.notify import DISABLE_AFTER, period_of, run_once
from models import utcnow
from models.notices import NoticeKind, OutboxState, Webhook
from tests.factories.client import SyncClient
from tests.factories.notices import Receiver, deliveries, notices, observe
from tests.factories.world import World


@pytest.fixture
def private_ok(app: Any) -> Any:
    """The receiver listens on 127.0.0.1: allowed for this test, as on-premises receivers are."""
    app.state.settings = app.state.settings.model_copy(update={"webhook_allow_private": True})
    return app.state.settings


def _pass(app: Any, **kw: Any) -> Any:
    return run_once(app.state.sessionmaker, app.state.settings, **kw)


def _subscribe(client: SyncClient, world: World, url: str, events: list[str]) -> dict[str, Any]:
    r = client.post(
        "/api/v1/webhooks", headers=world.headers("admin"), json={"url": url, "events": events}
    )
    assert r.status_code == 201, r.text
    data: dict[str, Any] = r.json()
    return data


def test_deliveries_are_signed_and_verify_with_the_secret_shown_once(
    client: SyncClient,
    world: World,
    session: Session,
    app: Any,
    receiver: Receiver,
    private_ok: Any,
) -> None:
    hook = _subscribe(client, world, receiver.url, ["observation.created", "action_item.created"])
    obs = observe(client, world)
    report = _pass(app)
    assert report.delivered == 2, report
    bodies = {}
    verifier = Verifier(hook["secret"])
    for hit in receiver.hits:
        assert hit.path == "/hook"
        assert hit.headers["content-type"] == "application/json"
        assert hit.headers["webhook-id"].startswith("msg_")
        body = verifier.verify(hit.body, hit.headers)  # raises unless the signature holds
        bodies[body["type"]] = body
    assert set(bodies) == {"observation.created", "action_item.created"}
    assert bodies["observation.created"]["data"]["id"] == obs["id"]
    assert bodies["action_item.created"]["data"]["id"] == obs["action_item_id"]
    # A wrong secret does not verify.
    with pytest.raises(Exception, match="signature"):
        Verifier("whsec_" + "A" * 32).verify(receiver.hits[0].body, receiver.hits[0].headers)

    log = client.get(
        f"/api/v1/webhooks/{hook['id']}/deliveries", headers=world.headers("admin")
    ).json()["items"]
    assert {(d["state"], d["last_status"], d["attempts"]) for d in log} == {("sent", 200, 1)}
    assert all(d["last_response"] == '{"ok": true}' for d in log)
    assert _pass(app).delivered == 0  # each once


def test_a_failed_delivery_is_retried_with_the_same_id_and_the_log_keeps_the_answer(
    client: SyncClient,
    world: World,
    session: Session,
    app: Any,
    receiver: Receiver,
    private_ok: Any,
) -> None:
    hook = _subscribe(client, world, receiver.url, ["walk.completed"])
    client.patch(
        f"/api/v1/walks/{world.walk.id}", headers=world.headers("coordinator"),
        json={"status": "completed"},
    )  # fmt: skip
    receiver.statuses = [503]
    now = utcnow()
    assert _pass(app, now=now).delivery_failed == 1
    (row,) = deliveries(session, world)
    assert (row.state, row.attempts, row.last_status) == (OutboxState.pending, 1, 503)
    assert row.last_response == "receiver is down for maintenance"
    period = period_of(app.state.settings)
    assert now < row.next_attempt_at <= now + 2 * period
    log = client.get(
        f"/api/v1/webhooks/{hook['id']}/deliveries", headers=world.headers("admin")
    ).json()["items"]
    assert (log[0]["last_status"], log[0]["last_error"]) == (503, "HTTP 503")

    assert _pass(app, now=now + period).delivered == 1
    (row,) = deliveries(session, world)
    assert (row.state, row.attempts, row.last_status) == (OutboxState.sent, 2, 200)
    first, second = receiver.hits
    assert first.headers["webhook-id"] == second.headers["webhook-id"]  # receivers drop repeats
    assert first.body == second.body


def test_an_endpoint_failing_for_three_days_is_switched_off_and_the_admins_told(
    client: SyncClient,
    world: World,
    session: Session,
    app: Any,
    receiver: Receiver,
    private_ok: Any,
) -> None:
    hook = _subscribe(client, world, receiver.url, ["*"])
    receiver.statuses = [500] * 20
    observe(client, world)
    start = utcnow()
    assert _pass(app, now=start).delivery_failed >= 1
    session.expire_all()
    row = session.get(Webhook, uuid.UUID(hook["id"]))
    assert row is not None
    assert row.failing_since == start
    assert row.active
    # A day later: still failing, still on (a receiver may be down over a weekend).
    _pass(app, now=start + timedelta(days=1))
    session.expire_all()
    assert session.get(Webhook, uuid.UUID(hook["id"])).active  # type: ignore[union-attr]

    report = _pass(app, now=start + DISABLE_AFTER + timedelta(minutes=1))
    assert report.disabled == 1
    one = client.get(f"/api/v1/webhooks/{hook['id']}", headers=world.headers("admin")).json()
    assert one["active"] is False
    assert one["disabled_at"]
    assert "HTTP 500" in one["disabled_reason"]
    assert {d.state for d in deliveries(session, world)} == {OutboxState.failed}
    told = notices(session, world, kind=NoticeKind.webhook_disabled)
    assert [n.user_id for n in told] == [world.users["admin"].id]
    assert told[0].payload["url"] == receiver.url

    # Nothing more goes to a switched-off endpoint; switched on again, it starts afresh.
    hits = len(receiver.hits)
    observe(client, world, at=[5.7390, 58.8540])
    _pass(app, now=start + DISABLE_AFTER + timedelta(hours=1))
    assert len(receiver.hits) == hits
    r = client.patch(
        f"/api/v1/webhooks/{hook['id']}", headers=world.headers("admin"), json={"active": True}
    )
    assert (r.json()["active"], r.json()["failing_since"], r.json()["disabled_at"]) == (
        True,
        None,
        None,
    )


def test_a_success_in_between_resets_the_failing_clock(
    client: SyncClient,
    world: World,
    session: Session,
    app: Any,
    receiver: Receiver,
    private_ok: Any,
) -> None:
    hook = _subscribe(client, world, receiver.url, ["observation.created"])
    receiver.statuses = [500]
    observe(client, world)
    start = utcnow()
    _pass(app, now=start)
    _pass(app, now=start + timedelta(days=2))  # delivered
    observe(client, world, at=[5.7390, 58.8540])
    receiver.statuses = [500]
    report = _pass(app, now=start + DISABLE_AFTER + timedelta(minutes=1))
    assert (report.delivery_failed, report.disabled) == (1, 0)
    session.expire_all()
    row = session.get(Webhook, uuid.UUID(hook["id"]))
    assert row is not None
    assert row.active
    assert row.failing_since == start + DISABLE_AFTER + timedelta(minutes=1)


def test_the_address_is_checked_again_when_delivering(
    client: SyncClient, world: World, session: Session, app: Any, receiver: Receiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    # Saved while the name resolved to a public address...
    monkeypatch.setattr(outbound, "getaddrinfo", lambda host, port: ["93.184.216.34"])
    hook = _subscribe(
        client, world, f"http://hooks.example.test:{receiver.port}/hook", ["observation.created"]
    )
    # ...and by delivery time it points at the service's own machine (DNS rebinding).
    monkeypatch.setattr(outbound, "getaddrinfo", lambda host, port: ["127.0.0.1"])
    observe(client, world)
    report = _pass(app)
    assert report.delivery_failed == 1
    assert receiver.hits == []  # no request left the service
    (row,) = deliveries(session, world)
    assert row.last_status is None
    assert (row.last_error or "").startswith("refused: ")
    assert str(row.webhook_id) == hook["id"]


def test_the_log_keeps_only_the_start_of_a_long_answer(
    client: SyncClient,
    world: World,
    session: Session,
    app: Any,
    receiver: Receiver,
    private_ok: Any,
) -> None:
    _subscribe(client, world, receiver.url, ["observation.created"])
    receiver.answer = b"x" * 2_000_000
    observe(client, world)
    assert _pass(app).delivered == 1
    (row,) = deliveries(session, world)
    assert row.last_response == "x" * 500
