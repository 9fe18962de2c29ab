"""Configuring the case system, and sending an item by hand (delivery is the sync's job)."""

from __future__ import annotations

from typing import Any

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
