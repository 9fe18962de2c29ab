"""Departments: a list the organization has, with labels, and the only values an item takes."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session

from tests.factories.action_items import Scene, at, patch
from tests.factories.client import SyncClient

URL = "/api/v1/departments"


@pytest.fixture
def scene(client: SyncClient, world: Any, session: Session) -> Scene:
    return Scene(client, world, session)


def _by_code(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["code"]: r for r in rows}


def test_the_list_is_what_the_organization_has_with_labels_in_the_callers_language(
    client: SyncClient, world: Any
) -> None:
    r = client.get(URL, headers={**world.headers("engineer"), "Accept-Language": "nb"})
    assert r.status_code == 200, r.text
    rows = _by_code(r.json())
    # The default categories' departments; the engineer's own (lighting) among them.
    assert {"lighting", "parks", "roads", "property", "sanitation", "transit", "safety"} <= set(
        rows
    )
    assert rows["lighting"]["label"] == "Belysning"
    assert rows["parks"]["labels"]["en"] == "Parks"
    assert rows["lighting"]["missing_labels"] == []
    labels = [row["label"] for row in r.json()]
    assert labels == sorted(labels, key=str.casefold)
    # Another organization's departments never show.
    put = client.put(
        f"{URL}/havn", headers=world.headers("foreign_admin"), json={"labels": {"en": "Harbour"}}
    )
    assert put.status_code == 200, put.text
    r = client.get(URL, headers=world.headers("engineer"))
    assert "havn" not in _by_code(r.json())


def test_an_admin_labels_a_department_and_may_add_one(client: SyncClient, world: Any) -> None:
    admin = world.headers("admin")
    r = client.put(
        f"{URL}/vei-og-park",
        headers=admin,
        json={"labels": {"nb": "Vei og park", "en": "Roads and parks"}},
    )
    assert r.status_code == 200, r.text
    assert r.json()["missing_labels"] == ["nn", "sv", "da", "fi"]
    r = client.get(URL, headers={**world.headers("coordinator"), "Accept-Language": "nb"})
    assert _by_code(r.json())["vei-og-park"]["label"] == "Vei og park"
    # An admin's label wins over the built-in one, in that language only.
    r = client.put(f"{URL}/lighting", headers=admin, json={"labels": {"nb": "Gatelys"}})
    assert r.json()["labels"]["nb"] == "Gatelys"
    assert r.json()["labels"]["en"] == "Lighting"
    # Others may read, not write; a bad body is a problem naming the field.
    assert (
        client.put(
            f"{URL}/x", headers=world.headers("coordinator"), json={"labels": {"en": "X"}}
        ).status_code
        == 403
    )
    r = client.put(f"{URL}/x", headers=admin, json={"labels": {"xx": "X"}})
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    assert "labels" in r.text


@pytest.mark.parametrize(
    "value",
    [pytest.param("Vei og park", id="typed-name"), pytest.param("LIGHTING", id="wrong-case")],
)
def test_an_item_takes_no_department_the_organization_lacks(scene: Scene, value: str) -> None:
    item_id = scene.observe("lighting", at(-500, 0))["action_item_id"]
    r = patch(scene, item_id, "coordinator", {"department": value})
    assert r.status_code == 422, r.text
    problem = r.json()
    assert problem["errors"][0]["loc"] == ["body", "department"]
    assert scene.item(item_id)["department"] == "lighting"
    r = scene.client.post(
        "/api/v1/action-items/bulk",
        headers=scene.h,
        json={"ids": [item_id], "set": {"status": "triaged", "department": value}},
    )
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["loc"] == ["body", "set", "department"]
    assert scene.item(item_id)["status"] == "new"


def test_an_item_takes_any_department_the_organization_has(scene: Scene) -> None:
    item_id = scene.observe("lighting", at(-500, 0))["action_item_id"]
    assert patch(scene, item_id, "coordinator", {"department": "parks"}).status_code == 200
    # One an admin named, though no category or person has it yet.
    admin = scene.world.headers("admin")
    scene.client.put(f"{URL}/bydrift", headers=admin, json={"labels": {"en": "City operations"}})
    r = scene.client.post(
        "/api/v1/action-items/bulk",
        headers=scene.h,
        json={"ids": [item_id], "set": {"department": "bydrift"}},
    )
    assert r.json()["ok"] == 1, r.text
    assert patch(scene, item_id, "coordinator", {"department": None}).status_code == 200


def test_history_names_the_actor_in_parts(scene: Scene) -> None:
    item_id = scene.observe("lighting", at(-500, 0))["action_item_id"]
    patch(scene, item_id, "coordinator", {"status": "triaged"})
    r = scene.client.get(f"/api/v1/action-items/{item_id}/history", headers=scene.h)
    events = r.json()
    staff = [e for e in events if e["actor_kind"] == "user"]
    assert staff, events
    coordinator = scene.world.users["coordinator"]
    assert staff[-1]["actor_name"] == (coordinator.display_name or coordinator.email)
    assert staff[-1]["actor"] == f"user:{staff[-1]['actor_name']}"
