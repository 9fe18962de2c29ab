"""Configuring the case system, and sending an item by hand (delivery is the sync's job)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy.orm import Session, sessionmaker

from api.core import outbound, spatial
from api.outputs.open311.client import sync
from models import ActionItem, Open311Dispatch, Open311Endpoint, utcnow
from tests.factories import make_category
from tests.factories.client import SyncClient
from tests.factories.observations import observe
from tests.factories.world import World

CASE_SYSTEM = {
    "url": "https://saksbehandling.example.no/open311/v2",
    "api_key": "their-secret-key",
    "jurisdiction_id": "sandnes",
    "departments": ["lighting"],
    "service_codes": {"lighting": "GATELYS"},
}


@pytest.fixture(autouse=True)
def _dns(monkeypatch: pytest.MonkeyPatch) -> None:
    """The case system's name resolves to a global address (no DNS in the tests)."""
    monkeypatch.setattr(outbound, "getaddrinfo", lambda host, port: ["93.184.216.34"])


def test_case_system_configuration_hides_the_key(client: SyncClient, world: World) -> None:
    admin = world.headers("admin")
    assert client.get("/api/v1/open311/case-system", headers=admin).status_code == 404
    res = client.put("/api/v1/open311/case-system", json=CASE_SYSTEM, headers=admin)
    assert res.status_code == 200, res.text
    body = res.json()
    assert body["url"] == CASE_SYSTEM["url"] + "/"
    assert "api_key" not in body
    assert "their-secret-key" not in res.text
    assert body["api_key_set"] is True
    bad = client.put(
        "/api/v1/open311/case-system", json={**CASE_SYSTEM, "url": "not a url"}, headers=admin
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["loc"][-1] == "url"
    assert (
        client.put(
            "/api/v1/open311/case-system", json=CASE_SYSTEM, headers=world.headers("coordinator")
        ).status_code
        == 403
    )
    assert client.delete("/api/v1/open311/case-system", headers=admin).status_code == 204


def test_send_by_hand(client: SyncClient, world: World) -> None:
    item = observe(client, world)["action_item_id"]
    coordinator = world.headers("coordinator")
    url = f"/api/v1/action-items/{item}/open311"
    nowhere = client.post(url, headers=coordinator)
    assert nowhere.status_code == 409  # no case system configured
    client.put("/api/v1/open311/case-system", json=CASE_SYSTEM, headers=world.headers("admin"))
    res = client.post(url, headers=coordinator)
    assert res.status_code == 202, res.text
    queued: dict[str, Any] = res.json()
    assert (queued["state"], queued["reason"], queued["attempts"]) == ("pending", "manual", 0)
    assert client.post(url, headers=coordinator).status_code == 202  # due again, not doubled
    [row] = client.get("/api/v1/open311/outbox", headers=coordinator).json()
    assert row["action_item_id"] == item
    assert row["failing"] is False
    assert client.post(url, headers=world.headers("planner")).status_code == 403
    history = client.get(f"/api/v1/action-items/{item}/history", headers=coordinator).json()
    assert [e["kind"] for e in history].count("open311_queued") == 1


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:8080/open311/", "http://169.254.169.254/", "https://10.1.2.3/v2/"],
)
def test_a_case_system_in_the_servers_own_network_is_refused(
    client: SyncClient, world: World, app: Any, url: str
) -> None:
    admin = world.headers("admin")
    res = client.put("/api/v1/open311/case-system", json={**CASE_SYSTEM, "url": url}, headers=admin)
    assert res.status_code == 422, res.text
    [error] = res.json()["errors"]
    assert error["loc"] == ["body", "url"]
    assert "SAFEWALK_WEBHOOK_ALLOW_PRIVATE" in error["msg"]
    assert client.get("/api/v1/open311/case-system", headers=admin).status_code == 404
    app.state.settings = app.state.settings.model_copy(update={"webhook_allow_private": True})
    ok = client.put("/api/v1/open311/case-system", json={**CASE_SYSTEM, "url": url}, headers=admin)
    assert ok.status_code == 200, ok.text


def test_a_name_that_resolves_privately_is_refused_on_save(
    client: SyncClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(outbound, "getaddrinfo", lambda host, port: ["192.168.1.20"])
    res = client.put(
        "/api/v1/open311/case-system", json=CASE_SYSTEM, headers=world.headers("admin")
    )
    assert res.status_code == 422
    assert res.json()["errors"][0]["loc"][-1] == "url"


def test_delivery_to_a_name_now_resolving_privately_fails_and_is_retried(
    session: Session,
    session_factory: sessionmaker[Session],
    world: World,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cat = make_category(session, world.org)
    item = ActionItem(
        organization_id=world.org.id, category_id=cat.id, title="Gatelys ute",
        location=spatial.to_db(spatial.point(5.73, 58.85)),
    )  # fmt: skip
    session.add(item)
    session.flush()
    session.add(
        Open311Endpoint(
            organization_id=world.org.id, url="https://saksbehandling.example.no/v2/", api_key="k"
        )
    )
    now = utcnow()
    session.add(
        Open311Dispatch(organization_id=world.org.id, action_item_id=item.id, next_attempt_at=now)
    )
    session.commit()
    # Saved while the name was public; it now points into the server's network.
    monkeypatch.setattr(outbound, "getaddrinfo", lambda host, port: ["10.0.0.7"])
    calls: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(200, json=[{"service_request_id": "1"}])

    with httpx.Client(transport=httpx.MockTransport(answer)) as http:
        report = sync(session_factory, now=now, organization_id=world.org.id, http=http)
        assert (report.sent, report.failed) == (0, 1)
        assert report.errors[0].startswith("refused: ")
        assert calls == []
        with session_factory() as s:
            [d] = s.query(Open311Dispatch).filter_by(action_item_id=item.id).all()
            assert (d.state, d.attempts) == ("pending", 1)
            assert d.last_error is not None
            assert "10.0.0.7" in d.last_error
            assert d.next_attempt_at > now
        # The same pass with private receivers allowed delivers it once due again.
        later = d.next_attempt_at
        report = sync(
            session_factory, now=later, organization_id=world.org.id, http=http, allow_private=True
        )
        assert (report.sent, report.failed) == (1, 0)
        assert [c.url.path for c in calls][0] == "/v2/requests.json"
