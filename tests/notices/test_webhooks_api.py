"""/webhooks: admins make, list, change and delete endpoints; the secret is shown once; URLs
that lead into the service's own network are refused with a 422 naming ``url``."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session

from api.core import outbound
from models import utcnow
from models.notices import WebhookDelivery
from tests.factories.client import SyncClient
from tests.factories.notices import make_webhook
from tests.factories.world import World

PUBLIC = "https://93.184.216.34/hooks/safewalk"  # a literal global address: no DNS involved


def _create(client: SyncClient, world: World, **body: Any) -> Any:
    return client.post(
        "/api/v1/webhooks",
        headers=world.headers("admin"),
        json={"url": PUBLIC, "events": ["*"], **body},
    )


def test_admins_manage_webhooks_and_see_the_secret_once(client: SyncClient, world: World) -> None:
    r = _create(client, world, events=["action_item.created", "walk.completed"])
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["secret"].startswith("whsec_")
    assert made["events"] == ["action_item.created", "walk.completed"]
    assert made["active"] is True
    h = world.headers("admin")
    one = client.get(f"/api/v1/webhooks/{made['id']}", headers=h).json()
    assert "secret" not in one
    listed = client.get("/api/v1/webhooks", headers=h).json()
    assert [w["id"] for w in listed["items"]] == [made["id"]]
    assert all("secret" not in w for w in listed["items"])

    r = client.patch(
        f"/api/v1/webhooks/{made['id']}", headers=h, json={"events": ["*"], "active": False}
    )
    assert r.status_code == 200, r.text
    assert (r.json()["events"], r.json()["active"]) == (["*"], False)
    assert client.delete(f"/api/v1/webhooks/{made['id']}", headers=h).status_code == 204
    assert client.get(f"/api/v1/webhooks/{made['id']}", headers=h).status_code == 404


def test_the_list_pages_with_a_next_link(client: SyncClient, world: World) -> None:
    for _ in range(3):
        assert _create(client, world).status_code == 201
    h = world.headers("admin")
    first = client.get("/api/v1/webhooks?limit=2", headers=h).json()
    assert len(first["items"]) == 2
    assert first["next"]
    second = client.get(first["next"].replace("http://testserver", ""), headers=h).json()
    assert len(second["items"]) == 1
    assert second["next"] is None
    ids = [w["id"] for w in first["items"] + second["items"]]
    assert len(set(ids)) == 3


@pytest.mark.parametrize(
    "who", [pytest.param("coordinator", id="coordinator"), pytest.param("engineer", id="engineer"),
            pytest.param("participant", id="participant")],
)  # fmt: skip
def test_only_admins_may(client: SyncClient, world: World, who: str) -> None:
    r = client.post(
        "/api/v1/webhooks", headers=world.headers(who), json={"url": PUBLIC, "events": ["*"]}
    )
    assert r.status_code == 403


def test_another_organization_s_webhook_is_not_found(
    client: SyncClient, world: World, session: Session
) -> None:
    hook = make_webhook(session, world)
    h = world.headers("foreign_admin")
    assert client.get(f"/api/v1/webhooks/{hook.id}", headers=h).status_code == 404
    assert client.get(f"/api/v1/webhooks/{hook.id}/deliveries", headers=h).status_code == 404
    assert client.delete(f"/api/v1/webhooks/{hook.id}", headers=h).status_code == 404


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        pytest.param({"events": ["item.exploded"]}, ["body", "events", 0], id="unknown-event"),
        pytest.param({"events": []}, ["body", "events"], id="no-events"),
        pytest.param({"url": "ftp://93.184.216.34/x"}, ["body", "url"], id="not-http"),
        pytest.param({"secret": "whsec_mine"}, ["body", "secret"], id="secret-is-ours"),
    ],
)
def test_bad_input_is_a_problem_naming_the_field(
    client: SyncClient, world: World, body: dict[str, Any], loc: list[Any]
) -> None:
    r = _create(client, world, **body)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["errors"][0]["loc"] == loc


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("http://127.0.0.1:8000/hook", id="loopback"),
        pytest.param("http://10.1.2.3/hook", id="private-10"),
        pytest.param("http://192.168.1.20/hook", id="private-192"),
        pytest.param("http://169.254.169.254/latest/meta-data", id="link-local-metadata"),
        pytest.param("http://[::1]:9000/hook", id="ipv6-loopback"),
        pytest.param("http://[::ffff:127.0.0.1]/hook", id="ipv4-mapped-loopback"),
        pytest.param("http://0.0.0.0/hook", id="unspecified"),
    ],
)
def test_addresses_inside_are_refused(client: SyncClient, world: World, url: str) -> None:
    r = _create(client, world, url=url)
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["loc"] == ["body", "url"]


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param(["127.0.0.1"], id="loopback"),
        pytest.param(["10.0.0.7"], id="private"),
        pytest.param(["169.254.169.254"], id="link-local"),
        pytest.param(["::1"], id="ipv6-loopback"),
        pytest.param(["93.184.216.34", "10.0.0.7"], id="one-of-several"),
    ],
)
def test_a_name_that_resolves_inside_is_refused(
    client: SyncClient, world: World, monkeypatch: pytest.MonkeyPatch, answer: list[str]
) -> None:
    monkeypatch.setattr(outbound, "getaddrinfo", lambda host, port: answer)
    r = _create(client, world, url="https://hooks.example.org/in")
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["loc"] == ["body", "url"]
    # The same check guards a change of URL.
    monkeypatch.setattr(outbound, "getaddrinfo", lambda host, port: ["93.184.216.34"])
    made = _create(client, world, url="https://hooks.example.org/in")
    assert made.status_code == 201, made.text
    monkeypatch.setattr(outbound, "getaddrinfo", lambda host, port: answer)
    r = client.patch(
        f"/api/v1/webhooks/{made.json()['id']}",
        headers=world.headers("admin"),
        json={"url": "https://hooks.example.org/other"},
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["loc"] == ["body", "url"]


def test_a_name_that_does_not_resolve_is_refused(
    client: SyncClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    def nowhere(host: str, port: int) -> list[str]:
        raise OSError("Name or service not known")

    monkeypatch.setattr(outbound, "getaddrinfo", nowhere)
    r = _create(client, world, url="https://no-such-host.invalid/x")
    assert r.status_code == 422
    assert r.json()["errors"][0]["loc"] == ["body", "url"]


def test_private_receivers_when_the_operator_allows_them(
    client: SyncClient, world: World, app: Any
) -> None:
    app.state.settings = app.state.settings.model_copy(update={"webhook_allow_private": True})
    assert _create(client, world, url="http://127.0.0.1:9999/hook").status_code == 201


def test_the_delivery_log_shows_the_last_answer_newest_first(
    client: SyncClient, world: World, session: Session
) -> None:
    hook = make_webhook(session, world)
    now = utcnow()
    older = WebhookDelivery(
        organization_id=world.org.id, webhook_id=hook.id, event_type="walk.completed",
        payload={}, attempts=2, last_status=503, last_response="down for maintenance",
        last_error="HTTP 503", created_at=now.replace(microsecond=0),
    )  # fmt: skip
    newer = WebhookDelivery(
        organization_id=world.org.id, webhook_id=hook.id, event_type="observation.created",
        payload={}, created_at=older.created_at.replace(microsecond=5),
    )  # fmt: skip
    session.add_all([older, newer])
    session.commit()
    r = client.get(f"/api/v1/webhooks/{hook.id}/deliveries", headers=world.headers("admin"))
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert [d["event_type"] for d in items] == ["observation.created", "walk.completed"]
    assert (items[1]["last_status"], items[1]["last_response"], items[1]["attempts"]) == (
        503,
        "down for maintenance",
        2,
    )
    paged = client.get(
        f"/api/v1/webhooks/{hook.id}/deliveries?limit=1", headers=world.headers("admin")
    ).json()
    assert len(paged["items"]) == 1
    assert paged["next"]
