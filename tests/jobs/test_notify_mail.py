"""The sender's mail, delivered to a real SMTP server (aiosmtpd) on a loopback port: MIME parts,
the recipient's language, links, the daily digest in one mail, a retry after a refusal, and
what is given up."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session

from api.jobs.notify import GIVE_UP, period_of, run_once
from models import utcnow
from models.notices import NoticeKind, NoticePreference, OutboxState
from tests.factories.client import SyncClient
from tests.factories.notices import (
    Inbox,
    body_text,
    new_item,
    notices,
    patch_item,
)
from tests.factories.world import World

BASE = "https://safewalk.sandnes.example"
FROM = "Safewalk Sandnes <safewalk@sandnes.example>"


@pytest.fixture
def mail_settings(app: Any, inbox: Inbox) -> Any:
    app.state.settings = app.state.settings.model_copy(
        update={"smtp_url": inbox.url, "mail_from": FROM, "public_url": BASE}
    )
    return app.state.settings


def _pass(app: Any, **kw: Any) -> Any:
    # The app's own sessions: on PostgreSQL the app role, under row-level security.
    return run_once(app.state.sessionmaker, app.state.settings, **kw)


def test_one_mail_per_notice_in_the_recipient_s_language_with_links(
    client: SyncClient,
    world: World,
    session: Session,
    app: Any,
    inbox: Inbox,
    mail_settings: Any,
) -> None:
    coordinator, engineer = world.users["coordinator"], world.users["engineer"]
    session.add(
        NoticePreference(user_id=coordinator.id, organization_id=world.org.id, language="en")
    )
    session.commit()
    first = new_item(client, world)
    second = new_item(client, world, category="vegetation", at=[5.7300, 58.8500])
    assert (
        patch_item(
            client, world, first, "coordinator", {"assignee_id": str(engineer.id)}
        ).status_code
        == 200
    )
    assert (
        patch_item(client, world, second, "admin", {"assignee_id": str(coordinator.id)}).status_code
        == 200
    )

    report = _pass(app)
    assert report.mailed == 2, report
    (to_engineer,) = inbox.to(engineer.email)
    (to_coordinator,) = inbox.to(coordinator.email)

    # Norwegian for the engineer (the organization's language), English as the coordinator chose.
    assert to_engineer["Subject"].startswith("Tildelt deg: ")
    assert to_engineer["Content-Language"] == "nb"
    assert to_coordinator["Subject"].startswith("Assigned to you: ")
    assert to_coordinator["Content-Language"] == "en"
    for message, item_id in ((to_engineer, first), (to_coordinator, second)):
        assert message["From"] == FROM
        assert message["Auto-Submitted"] == "auto-generated"
        assert message["Message-ID"]
        assert message.get_content_type() == "multipart/alternative"
        assert [p.get_content_type() for p in message.get_payload()] == ["text/plain", "text/html"]
        assert all(p.get_content_charset() == "utf-8" for p in message.get_payload())
        text, page = body_text(message), body_text(message, "html")
        for body in (text, page):
            assert f"{BASE}/#/items/{item_id}" in body
            assert f"{BASE}/#/notifications" in body
    assert "Åpne tiltaket" in body_text(to_engineer)
    assert "Open the action item" in body_text(to_coordinator)

    sent = notices(session, world, kind=NoticeKind.assigned)
    assert {n.state for n in sent} == {OutboxState.sent}
    assert _pass(app).mailed == 0  # nothing twice
    assert len(inbox.messages) == 2


def test_the_digest_groups_a_day_of_notices_in_one_mail(
    client: SyncClient,
    world: World,
    session: Session,
    app: Any,
    inbox: Inbox,
    mail_settings: Any,
) -> None:
    engineer = world.users["engineer"]
    client.put(
        "/api/v1/me/notifications", headers=world.headers("engineer"), json={"comment": "digest"}
    )
    first = new_item(client, world)
    new_item(client, world, at=[5.7390, 58.8540])  # far enough for an item of its own
    r = client.post(
        f"/api/v1/action-items/{first}/comments",
        headers=world.headers("coordinator"),
        json={"text": "Kabelfeil, meldt til netteier"},
    )
    assert r.status_code == 201, r.text
    waiting = notices(session, world, user_id=engineer.id)
    assert sorted(n.kind for n in waiting) == ["comment", "item_created", "item_created"]

    now = utcnow()
    assert _pass(app, now=now).digests == 0  # today's digest hour passed before they came
    report = _pass(app, now=now + timedelta(days=1))
    assert report.digests == 1, report
    (digest,) = inbox.to(engineer.email)
    assert digest["Subject"] == "safewalk: 3 varsler"
    text = body_text(digest)
    assert "2 nye tiltak i din avdeling" in text
    assert "1 ny kommentar" in text
    assert "Kabelfeil, meldt til netteier" in text
    assert f"/#/items/{first}" in text
    assert {n.state for n in notices(session, world, user_id=engineer.id)} == {OutboxState.sent}
    session.expire_all()
    pref = session.get(NoticePreference, engineer.id)
    assert pref is not None
    assert pref.digest_sent_at is not None
    # One a day: a later pass the same day has nothing more to send.
    assert _pass(app, now=now + timedelta(days=1, hours=1)).digests == 0
    assert len(inbox.messages) == 1


def test_a_refused_mail_is_tried_again_within_two_periods(
    client: SyncClient,
    world: World,
    session: Session,
    app: Any,
    inbox: Inbox,
    mail_settings: Any,
) -> None:
    engineer = world.users["engineer"]
    item_id = new_item(client, world)
    patch_item(client, world, item_id, "coordinator", {"assignee_id": str(engineer.id)})
    inbox.refuse = 1  # "451 try again later", once
    now = utcnow()
    report = _pass(app, now=now)
    assert (report.mailed, report.mail_failed) == (0, 1)
    (notice,) = notices(session, world, kind=NoticeKind.assigned)
    assert notice.state == OutboxState.pending
    assert notice.attempts == 1
    assert "451" in (notice.last_error or "")
    period = period_of(app.state.settings)
    assert now < notice.next_attempt_at <= now + 2 * period

    assert _pass(app, now=now + period / 2).mailed == 0  # not yet
    assert _pass(app, now=now + period).mailed == 1
    (notice,) = notices(session, world, kind=NoticeKind.assigned)
    assert (notice.state, notice.attempts, notice.last_error) == (OutboxState.sent, 2, None)
    assert inbox.refused == 1
    assert [m.message["To"] for m in inbox.messages] == [engineer.email]


def test_a_mailbox_refused_for_good_is_given_up_at_once(
    client: SyncClient,
    world: World,
    session: Session,
    app: Any,
    inbox: Inbox,
    mail_settings: Any,
) -> None:
    engineer = world.users["engineer"]
    inbox.unknown.add(engineer.email)
    item_id = new_item(client, world)
    patch_item(client, world, item_id, "coordinator", {"assignee_id": str(engineer.id)})
    report = _pass(app)
    assert report.given_up == 1
    (notice,) = notices(session, world, kind=NoticeKind.assigned)
    assert notice.state == OutboxState.failed
    assert "550" in (notice.last_error or "")


def test_while_the_server_is_down_nothing_is_lost_and_it_is_not_asked_twice_a_pass(
    client: SyncClient,
    world: World,
    session: Session,
    app: Any,
    inbox: Inbox,
    mail_settings: Any,
) -> None:
    engineer = world.users["engineer"]
    item_id = new_item(client, world)
    patch_item(client, world, item_id, "coordinator", {"assignee_id": str(engineer.id)})
    client.post(
        f"/api/v1/action-items/{item_id}/comments",
        headers=world.headers("coordinator"),
        json={"text": "Please check the cable"},
    )
    waiting = [n for n in notices(session, world, user_id=engineer.id) if n.delivery == "immediate"]
    assert len(waiting) == 2
    up = app.state.settings
    app.state.settings = up.model_copy(update={"smtp_url": "smtp://127.0.0.1:9"})  # nobody there
    now = utcnow()
    first = _pass(app, now=now)
    assert first.mail_failed == 1  # one attempt; the other waits untried
    rows = [n for n in notices(session, world, user_id=engineer.id) if n.delivery == "immediate"]
    assert {n.state for n in rows} == {OutboxState.pending}
    assert sorted(n.attempts for n in rows) == [0, 1]
    assert all(now < n.next_attempt_at <= now + timedelta(minutes=1) for n in rows)
    later = _pass(app, now=now + timedelta(hours=2))
    assert later.mail_failed == 1
    app.state.settings = up  # back up: both go out
    assert _pass(app, now=now + timedelta(hours=4)).mailed == 2
    assert len(inbox.to(engineer.email)) == 2


def test_without_a_mail_server_notices_wait_then_are_given_up(
    client: SyncClient, world: World, session: Session, app: Any
) -> None:
    item_id = new_item(client, world)
    patch_item(
        client, world, item_id, "coordinator", {"assignee_id": str(world.users["engineer"].id)}
    )
    assert app.state.settings.smtp_url == ""
    now = utcnow()
    _pass(app, now=now)
    (notice,) = notices(session, world, kind=NoticeKind.assigned)
    assert (notice.state, notice.attempts) == (OutboxState.pending, 0)
    report = _pass(app, now=now + GIVE_UP + timedelta(minutes=1))
    assert report.given_up >= 1
    assert all(n.state == OutboxState.failed for n in notices(session, world))


def test_an_inactive_account_gets_no_mail(
    client: SyncClient,
    world: World,
    session: Session,
    app: Any,
    inbox: Inbox,
    mail_settings: Any,
) -> None:
    engineer = world.users["engineer"]
    item_id = new_item(client, world)
    patch_item(client, world, item_id, "coordinator", {"assignee_id": str(engineer.id)})
    r = client.patch(
        f"/api/v1/users/{engineer.id}", headers=world.headers("admin"), json={"active": False}
    )
    assert r.status_code == 200, r.text
    _pass(app)
    assert inbox.messages == []
    assert [n.state for n in notices(session, world, kind=NoticeKind.assigned)] == ["failed"]
