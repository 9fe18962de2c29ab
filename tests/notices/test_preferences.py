"""/me/notifications: each staff member's choice per kind, and the language of their mail."""

from __future__ import annotations

from typing import Any

import pytest

from tests.factories.client import SyncClient
from tests.factories.world import World

KINDS = ("item_created", "assigned", "comment", "reopened", "due_soon", "overdue")


def test_defaults_then_a_partial_put_keeps_the_rest(client: SyncClient, world: World) -> None:
    h = world.headers("engineer")
    first = client.get("/api/v1/me/notifications", headers=h).json()
    assert {k: first[k] for k in KINDS} == {
        "item_created": "digest", "assigned": "immediate", "comment": "immediate",
        "reopened": "immediate", "due_soon": "digest", "overdue": "digest",
    }  # fmt: skip
    assert first["language"] is None
    assert first["effective_language"] == "nb"  # the organization's
    assert first["email"] == world.users["engineer"].email

    r = client.put("/api/v1/me/notifications", headers=h, json={"comment": "off", "language": "en"})
    assert r.status_code == 200, r.text
    r = client.put("/api/v1/me/notifications", headers=h, json={"overdue": "immediate"})
    now = client.get("/api/v1/me/notifications", headers=h).json()
    assert (now["comment"], now["overdue"], now["assigned"]) == ("off", "immediate", "immediate")
    assert (now["language"], now["effective_language"]) == ("en", "en")
    # Another person's settings are theirs.
    other = client.get("/api/v1/me/notifications", headers=world.headers("coordinator")).json()
    assert other["comment"] == "immediate"


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        pytest.param({"assigned": "sometimes"}, ["body", "assigned"], id="unknown-mode"),
        pytest.param({"assigned": None}, ["body", "assigned"], id="null-mode"),
        pytest.param({"language": "de"}, ["body", "language"], id="unknown-language"),
        pytest.param({"everything": "off"}, ["body", "everything"], id="unknown-kind"),
    ],
)
def test_bad_input_is_a_problem_naming_the_field(
    client: SyncClient, world: World, body: dict[str, Any], loc: list[str]
) -> None:
    r = client.put("/api/v1/me/notifications", headers=world.headers("engineer"), json=body)
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["loc"] == loc


# A participant is signed in but has no address (403); nobody signed in is asked to (401).
@pytest.mark.parametrize(("who", "status"), [("participant", 403), ("anonymous", 401)])
def test_participants_have_no_address_and_no_settings(
    client: SyncClient, world: World, who: str, status: int
) -> None:
    r = client.get("/api/v1/me/notifications", headers=world.headers(who))
    assert r.status_code == status
    r = client.put("/api/v1/me/notifications", headers=world.headers(who), json={})
    assert r.status_code == status
