"""Categories: the default taxonomy every organization gets, and admins adding to it."""

from __future__ import annotations

from typing import Any

import pytest

from tests.factories.client import SyncClient
from tests.factories.world import World

URL = "/api/v1/categories"

# The stable codes of API.md, in the order the PWA shows them.
ACTIONABLE = [
    "lighting", "vegetation", "sightlines", "walkway", "damaged_fixture", "graffiti", "litter",
    "wayfinding", "traffic", "transit_stop", "security_presence",
]  # fmt: skip
PERCEPTION_ONLY = ["isolation", "feels_unsafe", "incident", "positive_place"]

NEW = {
    "code": "bench_missing",
    "label_en": "Missing bench",
    "label_nb": "Mangler benk",
    "default_department": "parks",
    "group_distance_m": 20,
}


def _list(client: SyncClient, world: World, who: str = "admin") -> list[dict[str, Any]]:
    r = client.get(URL, headers=world.headers(who))
    assert r.status_code == 200, r.text
    assert r.json()["next"] is None
    items: list[dict[str, Any]] = r.json()["items"]
    return items


def test_default_taxonomy(client: SyncClient, world: World) -> None:
    items = _list(client, world)
    assert [c["code"] for c in items] == ACTIONABLE + PERCEPTION_ONLY
    by_code = {c["code"]: c for c in items}
    assert by_code["lighting"]["group_distance_m"] == 35
    assert by_code["lighting"]["default_department"] == "lighting"
    assert all(by_code[c]["actionable"] for c in ACTIONABLE)
    assert not any(by_code[c]["actionable"] for c in PERCEPTION_ONLY)
    assert by_code["positive_place"]["actionable"] is False
    assert all(15 <= c["group_distance_m"] <= 40 for c in items)
    assert all(c["label_en"] and c["label_nb"] for c in items)
    assert any(set("æøåÆØÅ") & set(c["label_nb"]) for c in items)
    assert by_code["lighting"]["label_nb"] != by_code["lighting"]["label_en"]


@pytest.mark.parametrize("who", ["participant", "engineer", "planner", "coordinator", "admin"])
def test_everyone_with_a_token_reads_the_taxonomy(
    client: SyncClient, world: World, who: str
) -> None:
    assert len(_list(client, world, who)) == 15


def test_anonymous_cannot_read(client: SyncClient) -> None:
    assert client.get(URL).status_code == 401


def test_admin_adds_a_category(client: SyncClient, world: World) -> None:
    r = client.post(URL, headers=world.headers("admin"), json=NEW)
    assert r.status_code == 201, r.text
    created = r.json()
    assert created == {
        **created,
        **NEW,
        "actionable": True,
        "sensitive": False,
    }
    items = _list(client, world, "participant")
    assert items[-1] == created  # after the defaults
    assert len(items) == 16
    # Another organization's taxonomy is untouched.
    assert len(_list(client, world, "foreign_admin")) == 15


def test_perception_only_and_sensitive(client: SyncClient, world: World) -> None:
    body = {**NEW, "code": "harassment", "actionable": False, "sensitive": True}
    body.pop("default_department")
    r = client.post(URL, headers=world.headers("admin"), json=body)
    assert r.status_code == 201, r.text
    assert r.json()["actionable"] is False
    assert r.json()["sensitive"] is True
    assert r.json()["default_department"] is None


@pytest.mark.parametrize("who", ["coordinator", "engineer", "planner", "participant"])
def test_only_admins_add(client: SyncClient, world: World, who: str) -> None:
    r = client.post(URL, headers=world.headers(who), json=NEW)
    assert r.status_code == 403
    assert len(_list(client, world)) == 15


@pytest.mark.parametrize(
    ("change", "loc"),
    [
        pytest.param({"group_distance_m": 14.9}, ["body", "group_distance_m"], id="distance-low"),
        pytest.param({"group_distance_m": 40.5}, ["body", "group_distance_m"], id="distance-high"),
        pytest.param({"group_distance_m": "far"}, ["body", "group_distance_m"], id="distance-text"),
        pytest.param({"code": "Bench"}, ["body", "code"], id="code-uppercase"),
        pytest.param({"code": "9lives"}, ["body", "code"], id="code-leading-digit"),
        pytest.param({"code": "b"}, ["body", "code"], id="code-too-short"),
        pytest.param({"code": "b" * 41}, ["body", "code"], id="code-too-long"),
        pytest.param({"code": "bench-missing"}, ["body", "code"], id="code-hyphen"),
        pytest.param({"label_nb": ""}, ["body", "label_nb"], id="empty-label"),
        pytest.param({"label_en": None}, ["body", "label_en"], id="null-label"),
        pytest.param(
            {"organization_id": "00000000-0000-0000-0000-000000000000"},
            ["body", "organization_id"],
            id="smuggled-org",
        ),
        pytest.param({"sort_order": -1}, ["body", "sort_order"], id="smuggled-sort-order"),
    ],
)
def test_category_input_is_validated(
    client: SyncClient, world: World, change: dict[str, Any], loc: list[Any]
) -> None:
    r = client.post(URL, headers=world.headers("admin"), json={**NEW, **change})
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["loc"] == loc
    assert len(_list(client, world)) == 15


def test_nan_distance_is_refused(client: SyncClient, world: World) -> None:
    raw = (
        b'{"code": "bench_missing", "label_en": "Missing bench", "label_nb": "Mangler benk",'
        b' "group_distance_m": NaN}'
    )
    r = client.post(
        URL, headers={**world.headers("admin"), "Content-Type": "application/json"}, content=raw
    )
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["loc"] == ["body", "group_distance_m"]


@pytest.mark.parametrize("code", [pytest.param("lighting", id="a-default"), "bench_missing"])
def test_duplicate_code_conflicts(client: SyncClient, world: World, code: str) -> None:
    h = world.headers("admin")
    if code == NEW["code"]:
        assert client.post(URL, headers=h, json=NEW).status_code == 201
    r = client.post(URL, headers=h, json={**NEW, "code": code})
    assert r.status_code == 409, r.text
    assert r.headers["content-type"] == "application/problem+json"
    # The same code in another organization is that organization's business.
    r = client.post(URL, headers=world.headers("foreign_admin"), json={**NEW, "code": code})
    assert r.status_code == (409 if code == "lighting" else 201)
