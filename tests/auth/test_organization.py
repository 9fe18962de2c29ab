"""Organization settings and category edits: admins only, validated, and they take effect."""

from __future__ import annotations

from typing import Any

import pytest

from tests.factories.client import SyncClient
from tests.factories.world import World

ORG = "/api/v1/organization"


def test_admin_reads_and_changes_settings(client: SyncClient, world: World) -> None:
    h = world.headers("admin")
    r = client.get(ORG, headers=h)
    assert r.status_code == 200, r.text
    assert r.json() | {"id": None} == {
        "id": None,
        "slug": "sandnes",
        "name": "Sandnes",
        "timezone": "Europe/Oslo",
        "language": "nb",
        "require_resolution_note": False,
        "moderation_mode": "post",
        "public_followup": False,
        "report_back_photos": False,
        "lighting_target_class": None,
        "photo_retention_days": 365,
        "note_retention_days": 730,
        "anonymize_participants_after_days": 90,
    }
    r = client.patch(ORG, headers=h, json={"language": "en", "require_resolution_note": True})
    assert r.status_code == 200, r.text
    assert (r.json()["language"], r.json()["require_resolution_note"]) == ("en", True)
    assert client.get(ORG, headers=h).json()["language"] == "en"
    # The other organization is untouched, and "me" shows the language to the web apps.
    assert client.get(ORG, headers=world.headers("foreign_admin")).json()["language"] == "nb"
    assert client.get("/api/v1/me", headers=h).json()["organization"]["language"] == "en"


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        pytest.param({"language": "sv"}, ["body", "language"], id="unsupported-language"),
        pytest.param({"language": None}, ["body", "language"], id="null-language"),
        pytest.param({"name": ""}, ["body", "name"], id="empty-name"),
        pytest.param({"slug": "other"}, ["body", "slug"], id="slug-is-not-editable"),
        pytest.param(
            {"require_resolution_note": None}, ["body", "require_resolution_note"], id="null-flag"
        ),
        pytest.param(
            {"photo_retention_days": -1}, ["body", "photo_retention_days"], id="negative-days"
        ),
        pytest.param(
            {"note_retention_days": "30"}, ["body", "note_retention_days"], id="days-as-text"
        ),
        pytest.param(
            {"note_retention_days": 1.5}, ["body", "note_retention_days"], id="fractional-days"
        ),
        pytest.param(
            {"anonymize_participants_after_days": True},
            ["body", "anonymize_participants_after_days"],
            id="days-as-boolean",
        ),
        pytest.param(
            {"photo_retention_days": 36_501}, ["body", "photo_retention_days"], id="over-a-century"
        ),
    ],
)
def test_bad_settings_are_422(
    client: SyncClient, world: World, body: dict[str, Any], loc: list[str]
) -> None:
    r = client.patch(ORG, headers=world.headers("admin"), json=body)
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["loc"] == loc


def test_admin_sets_retention_and_null_keeps_forever(client: SyncClient, world: World) -> None:
    h = world.headers("admin")
    body = {"photo_retention_days": 0, "note_retention_days": None}
    r = client.patch(ORG, headers=h, json=body)
    assert r.status_code == 200, r.text
    got = client.get(ORG, headers=h).json()
    assert (
        got["photo_retention_days"],
        got["note_retention_days"],
        got["anonymize_participants_after_days"],
    ) == (0, None, 90)
    # The other organization keeps its own settings.
    other = client.get(ORG, headers=world.headers("foreign_admin")).json()
    assert other["note_retention_days"] == 730


@pytest.mark.parametrize("who", ["coordinator", "engineer", "planner", "participant"])
def test_only_admins(client: SyncClient, world: World, who: str) -> None:
    assert client.get(ORG, headers=world.headers(who)).status_code == 403
    r = client.patch(ORG, headers=world.headers(who), json={"language": "en"})
    assert r.status_code == 403


def _category(client: SyncClient, world: World, code: str) -> dict[str, Any]:
    items = client.get("/api/v1/categories", headers=world.headers("admin")).json()["items"]
    found: dict[str, Any] = next(c for c in items if c["code"] == code)
    return found


def test_published_defaults(client: SyncClient, world: World) -> None:
    assert _category(client, world, "lighting")["published"] is True
    assert _category(client, world, "incident")["published"] is False
    assert _category(client, world, "incident")["sensitive"] is True


def test_admin_edits_a_category(client: SyncClient, world: World) -> None:
    body = {
        "label_en": "Street lighting",
        "label_nb": "Gatelys",
        "group_distance_m": 25,
        "default_department": "roads",
        "published": False,
    }
    r = client.patch("/api/v1/categories/lighting", headers=world.headers("admin"), json=body)
    assert r.status_code == 200, r.text
    got = _category(client, world, "lighting")
    assert {k: got[k] for k in body} == body
    r = client.patch(
        "/api/v1/categories/lighting",
        headers=world.headers("admin"),
        json={"default_department": None},
    )
    assert r.status_code == 200
    assert _category(client, world, "lighting")["default_department"] is None
    # Another organization's lighting is its own.
    other = client.get("/api/v1/categories", headers=world.headers("foreign_admin")).json()
    assert next(c for c in other["items"] if c["code"] == "lighting")["label_nb"] != "Gatelys"


@pytest.mark.parametrize(
    ("code", "body", "status", "loc"),
    [
        pytest.param("lighting", {"label_en": None}, 422, ["body", "label_en"], id="null-label"),
        pytest.param(
            "lighting",
            {"group_distance_m": 5},
            422,
            ["body", "group_distance_m"],
            id="distance-too-small",
        ),  # fmt: skip
        pytest.param("lighting", {"code": "x"}, 422, ["body", "code"], id="code-is-stable"),
        pytest.param(
            "incident",
            {"published": True},
            422,
            ["body", "published"],
            id="sensitive-cannot-be-published",
        ),  # fmt: skip
        pytest.param("no_such", {"label_en": "x"}, 404, None, id="unknown-code"),
    ],
)
def test_bad_category_edits(
    client: SyncClient,
    world: World,
    code: str,
    body: dict[str, Any],
    status: int,
    loc: list[str] | None,
) -> None:
    r = client.patch(f"/api/v1/categories/{code}", headers=world.headers("admin"), json=body)
    assert r.status_code == status, r.text
    if loc is not None:
        assert r.json()["errors"][0]["loc"] == loc


def test_only_admins_edit_categories(client: SyncClient, world: World) -> None:
    for who in ("coordinator", "engineer", "planner", "participant"):
        r = client.patch(
            "/api/v1/categories/lighting", headers=world.headers(who), json={"label_en": "x"}
        )
        assert r.status_code == 403, who
    foreign = client.patch(
        "/api/v1/categories/lighting",
        headers=world.headers("foreign_admin"),
        json={"label_en": "Hijacked"},
    )
    assert foreign.status_code == 200  # its own organization's lighting
    assert _category(client, world, "lighting")["label_en"] == "Poor lighting"
