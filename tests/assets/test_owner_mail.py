"""Items referred to a lamp's owner by mail: the owner route names an address, and the notice
sender mails the owner (a real aiosmtpd server on a loopback port) in the organization's
language, with retries, and without who reported the fault."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.jobs.notify import period_of, run_once
from models import AssetOwner, Category, Open311Dispatch, Organization, utcnow
from models.notices import Notice, NoticeKind, OutboxState
from tests.factories.assets import make_lamp
from tests.factories.client import SyncClient
from tests.factories.notices import Inbox, body_text, inbox
from tests.factories.observations import near, obs_body, point
from tests.factories.world import World

__all__ = ["inbox"]

OWNER_MAIL = "lys@vegvesen.example"
FROM = "Safewalk Sandnes <safewalk@sandnes.example>"
BASE = "https://safewalk.sandnes.example"


@pytest.fixture
def mail_settings(app: Any, inbox: Inbox) -> Any:
    app.state.settings = app.state.settings.model_copy(
        update={"smtp_url": inbox.url, "mail_from": FROM, "public_url": BASE}
    )
    return app.state.settings


def _observe(client: SyncClient, world: World, at: list[float], note: str) -> dict[str, Any]:
    res = client.put(
        f"/api/v1/observations/{uuid.uuid4()}",
        headers=world.headers("participant"),
        json=obs_body(world, location=point(at), note=note),
    )
    assert res.status_code == 201, res.text
    return dict(res.json())


def _owner_notices(session: Session, item_id: str) -> list[Notice]:
    session.expire_all()
    return list(
        session.scalars(
            select(Notice).where(
                Notice.action_item_id == uuid.UUID(item_id), Notice.kind == NoticeKind.referred
            )
        )
    )


def test_an_item_on_a_state_roads_lamp_is_mailed_to_the_owner(
    client: SyncClient, world: World, session: Session, app: Any, inbox: Inbox, mail_settings: Any
) -> None:
    lamp = make_lamp(
        session, world.org, "SVV-4711", *near(0, 0), owner=AssetOwner.state_roads,
        owner_name="Statens vegvesen Region vest",
    )  # fmt: skip
    session.commit()
    res = client.put(
        "/api/v1/asset-owners/state_roads",
        json={"email": f"  {OWNER_MAIL} "},
        headers=world.headers("admin"),
    )
    assert res.status_code == 200, res.text
    assert res.json()["email"] == OWNER_MAIL
    assert (res.json()["url"], res.json()["api_key_set"]) == (None, False)
    listed = client.get("/api/v1/asset-owners", headers=world.headers("admin")).json()
    assert [r["email"] for r in listed["items"]] == [OWNER_MAIL]

    obs = _observe(client, world, near(4, 0), "Lyset blinker hele natten")
    assert obs["asset_id"] == str(lamp.id)
    item_id = obs["action_item_id"]
    it = client.get(f"/api/v1/action-items/{item_id}", headers=world.headers("coordinator"))
    assert (it.json()["status"], it.json()["referred_to"]) == (
        "referred",
        "Statens vegvesen Region vest",
    )
    # A mailbox, not a case system: nothing is queued for Open311.
    assert (
        session.scalar(
            select(Open311Dispatch).where(Open311Dispatch.action_item_id == uuid.UUID(item_id))
        )
        is None
    )
    [notice] = _owner_notices(session, item_id)
    assert (notice.user_id, notice.email) == (None, OWNER_MAIL)

    # The server refuses the first attempt: the mail waits and goes on the next try.
    inbox.refuse = 1
    first = run_once(app.state.sessionmaker, app.state.settings)
    assert (first.mailed, first.mail_failed) == (0, 1), first
    [notice] = _owner_notices(session, item_id)
    assert (notice.state, notice.attempts) == (OutboxState.pending, 1)
    later = utcnow() + 2 * period_of(app.state.settings)
    second = run_once(app.state.sessionmaker, app.state.settings, now=later)
    assert second.mailed == 1, second
    [notice] = _owner_notices(session, item_id)
    assert notice.state == OutboxState.sent

    [received] = inbox.messages
    assert received.rcpt_tos == [OWNER_MAIL]
    message = received.message
    assert message["To"] == OWNER_MAIL
    assert message["From"] == FROM
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Content-Language"] == "nb"  # the organization's language
    assert message["Subject"] == f"Gatelys SVV-4711 trenger tilsyn (ref. {item_id})"
    lon, lat = near(0, 0)
    text, page = body_text(message), body_text(message, "html")
    for body in (text, page):
        assert "Statens vegvesen Region vest" in body
        assert "Lyspunktnummer: SVV-4711" in body
        assert "Lyset blinker hele natten" in body
        assert f"Vår referanse: {item_id}" in body
        assert f"{lat:.6f}, {lon:.6f}" in body
        assert f"mlat={lat:.6f}" in body
        assert "openstreetmap.org" in body
        # Nothing for staff only: no link into the staff web, no notification settings.
        assert BASE not in body
    cat = session.scalar(
        select(Category).where(
            Category.organization_id == world.org.id, Category.code == "lighting"
        )
    )
    assert cat is not None
    assert f"Hva: {cat.label_nb}" in text
    # Never who reported it.
    participant = world.participant
    for body in (text, page, str(notice.payload)):
        assert str(participant.id) not in body
        assert "Ada" not in body

    assert run_once(app.state.sessionmaker, app.state.settings, now=later).mailed == 0


def test_the_owner_mail_is_in_the_organization_s_language(
    client: SyncClient, world: World, session: Session, app: Any, inbox: Inbox, mail_settings: Any
) -> None:
    org = session.get(Organization, world.org.id)
    assert org is not None
    org.language = "en"
    make_lamp(session, world.org, "P-12", *near(0, 0), owner=AssetOwner.private)
    session.commit()
    res = client.put(
        "/api/v1/asset-owners/private", json={"email": OWNER_MAIL}, headers=world.headers("admin")
    )
    assert res.status_code == 200, res.text
    obs = _observe(client, world, near(2, 0), "Dark since Monday")
    assert run_once(app.state.sessionmaker, app.state.settings).mailed == 1
    [message] = inbox.to(OWNER_MAIL)
    assert message["Content-Language"] == "en"
    assert message["Subject"] == f"Street light P-12 needs attention (ref. {obs['action_item_id']})"
    text = body_text(message)
    assert "Lamp number: P-12" in text
    assert "Dark since Monday" in text
    # Switching the owner to an Open311 endpoint drops the address, and the other way round.
    app.state.settings = app.state.settings.model_copy(update={"webhook_allow_private": True})
    back = client.put(
        "/api/v1/asset-owners/private",
        json={"url": "http://127.0.0.1:9/open311/v2", "api_key": "k"},
        headers=world.headers("admin"),
    )
    assert back.status_code == 200, back.text
    assert (back.json()["email"], back.json()["api_key_set"]) == (None, True)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param({"email": "lys.vegvesen.example"}, "email", id="no-at-sign"),
        pytest.param({"email": "lys@@vegvesen.example"}, "email", id="two-at-signs"),
        pytest.param({"email": "lys@localhost"}, "email", id="no-domain-dot"),
        pytest.param({"email": "Lys <lys@vegvesen.example>"}, "email", id="display-name"),
        pytest.param({"email": "lys@vegvesen.example\r\nBcc: x@y.example"}, "email", id="header"),
        pytest.param({"email": "a@b.example, c@d.example"}, "email", id="two-addresses"),
        pytest.param(
            {"email": OWNER_MAIL, "url": "https://fk.example/open311/v2", "api_key": "k"},
            "email",
            id="both-mail-and-endpoint",
        ),
        pytest.param({}, "url", id="neither"),
        pytest.param({"url": "https://fk.example/open311/v2"}, "api_key", id="endpoint-no-key"),
    ],
)
def test_a_bad_owner_address_is_a_problem_naming_the_field(
    client: SyncClient, world: World, body: dict[str, Any], field: str
) -> None:
    res = client.put("/api/v1/asset-owners/county", json=body, headers=world.headers("admin"))
    assert res.status_code == 422, res.text
    assert res.headers["content-type"].startswith("application/problem+json")
    assert res.json()["errors"][0]["loc"] == ["body", field]
    assert client.get("/api/v1/asset-owners", headers=world.headers("admin")).json()["items"] == []
