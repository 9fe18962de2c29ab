"""Walks: create, list, status moves, join codes, rotation, throttling, organization walls."""

from __future__ import annotations

from typing import Any

import pytest

from tests.factories.client import SyncClient
from tests.factories.world import World, participant_token

ROUTE = {"type": "LineString", "coordinates": [[5.7352, 58.8517], [5.7371, 58.8530]]}


def _create(client: SyncClient, world: World, **body: Any) -> dict[str, Any]:
    payload = {
        "title": "Kveldsvandring Sentrum",
        "area_id": str(world.objects["area"].id),
        "route": ROUTE,
        **body,
    }
    r = client.post("/api/v1/walks", headers=world.headers("coordinator"), json=payload)
    assert r.status_code == 201, r.text
    data: dict[str, Any] = r.json()
    return data


def test_create_walk_with_route_and_darkness(client: SyncClient, world: World) -> None:
    walk = _create(
        client, world, starts_at="2026-12-15T18:00:00+01:00", ends_at="2026-12-15T20:00:00+01:00"
    )
    assert walk["status"] == "planned"
    assert walk["route"] == ROUTE
    assert walk["is_dark"] is True
    assert len(walk["join_code"]) == 8
    assert set(walk["join_code"]) <= set("23456789ABCDEFGHJKMNPQRSTUVWXYZ")
    summer = _create(client, world, starts_at="2026-06-21T13:00:00+02:00")
    assert summer["is_dark"] is False


@pytest.mark.parametrize(
    ("moves", "final"),
    [
        pytest.param(["active", "completed"], 200, id="planned-active-completed"),
        pytest.param(["cancelled"], 200, id="planned-cancelled"),
        pytest.param(["completed"], 409, id="planned-completed-skips"),
        pytest.param(["active", "completed", "active"], 409, id="completed-is-final"),
        pytest.param(["cancelled", "active"], 409, id="cancelled-is-final"),
    ],
)
def test_status_moves(client: SyncClient, world: World, moves: list[str], final: int) -> None:
    walk = _create(client, world)
    status = 200
    for target in moves:
        status = client.patch(
            f"/api/v1/walks/{walk['id']}",
            headers=world.headers("coordinator"),
            json={"status": target},
        ).status_code
    assert status == final


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        pytest.param(
            {"title": "x", "organization_id": "00000000-0000-0000-0000-000000000000"},
            ["body", "organization_id"],
            id="smuggled-organization",
        ),
        pytest.param(
            {"title": "x", "join_code": "AAAAAAAA"}, ["body", "join_code"], id="smuggled-code"
        ),
        pytest.param(
            {"title": "x", "route": {"type": "Point", "coordinates": [5, 58]}},
            ["body", "route", "type"],
            id="route-not-a-line",
        ),
        pytest.param(
            {"title": "x", "route": {"type": "LineString", "coordinates": [[5, 58], [5, 95]]}},
            ["body", "route", "coordinates", 1, 1],
            id="route-lat-out-of-range",
        ),
        pytest.param(
            {"title": "x", "starts_at": "2026-11-03T19:00:00"},
            ["body", "starts_at"],
            id="naive-time",
        ),
        pytest.param(
            {"title": "x", "starts_at": "2026-11-03T19:00:00Z", "ends_at": "2026-11-03T18:00:00Z"},
            ["body", "ends_at"],
            id="ends-before-start",
        ),
        pytest.param(
            {"title": "x", "area_id": "00000000-0000-0000-0000-000000000000"},
            ["body", "area_id"],
            id="unknown-area",
        ),
    ],
)
def test_walk_input_is_validated(
    client: SyncClient, world: World, body: dict[str, Any], loc: list[Any]
) -> None:
    r = client.post("/api/v1/walks", headers=world.headers("coordinator"), json=body)
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["loc"] == loc


def test_join_with_code_and_use_the_token(client: SyncClient, world: World) -> None:
    walk = _create(client, world)
    code = walk["join_code"]
    messy = f" {code[:4].lower()}-{code[4:]} "
    r = client.post(
        "/api/v1/walks/join", json={"code": messy, "display_name": "Ola", "group": "youth"}
    )
    assert r.status_code == 201, r.text
    joined = r.json()
    assert joined["walk_id"] == walk["id"]
    me = client.get(
        "/api/v1/me", headers={"Authorization": f"Bearer {joined['access_token']}"}
    ).json()
    assert me == {
        **me,
        "kind": "participant",
        "walk_id": walk["id"],
        "group": "youth",
        "display_name": "Ola",
    }
    assert (
        client.get(f"/api/v1/walks/{walk['id']}", headers=world.headers("coordinator")).json()[
            "participant_count"
        ]
        == 1
    )


def test_join_refuses_contact_details(client: SyncClient, world: World) -> None:
    walk = _create(client, world)
    r = client.post(
        "/api/v1/walks/join",
        json={"code": walk["join_code"], "group": "resident", "email": "kid@example.org"},
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["loc"] == ["body", "email"]


def test_code_only_while_planned_or_active(client: SyncClient, world: World) -> None:
    walk = _create(client, world)
    h = world.headers("coordinator")
    client.patch(f"/api/v1/walks/{walk['id']}", headers=h, json={"status": "active"})
    assert (
        client.post(
            "/api/v1/walks/join", json={"code": walk["join_code"], "group": "police"}
        ).status_code
        == 201
    )
    client.patch(f"/api/v1/walks/{walk['id']}", headers=h, json={"status": "completed"})
    closed = client.post("/api/v1/walks/join", json={"code": walk["join_code"], "group": "police"})
    assert closed.status_code == 404
    # The phone can tell "ended" from "no such code" (the code was right: nothing to probe).
    assert closed.json()["reason"] == "walk_closed"
    wrong = client.post("/api/v1/walks/join", json={"code": "WRONG234", "group": "police"})
    assert wrong.status_code == 404
    assert "reason" not in wrong.json()


def test_rotating_the_code(client: SyncClient, world: World) -> None:
    walk = _create(client, world)
    rotated = client.post(
        f"/api/v1/walks/{walk['id']}/rotate-code", headers=world.headers("coordinator")
    ).json()
    assert rotated["join_code"] != walk["join_code"]
    assert (
        client.post(
            "/api/v1/walks/join", json={"code": walk["join_code"], "group": "other"}
        ).status_code
        == 404
    )
    assert (
        client.post(
            "/api/v1/walks/join", json={"code": rotated["join_code"], "group": "other"}
        ).status_code
        == 201
    )


def test_wrong_codes_are_throttled_with_retry_after(client: SyncClient, world: World) -> None:
    walk = _create(client, world)
    statuses = [
        client.post(
            "/api/v1/walks/join", json={"code": f"WRONG{i:03d}", "group": "youth"}
        ).status_code
        for i in range(11)
    ]
    assert statuses[:10] == [404] * 10
    assert statuses[10] == 429
    r = client.post("/api/v1/walks/join", json={"code": walk["join_code"], "group": "youth"})
    assert r.status_code == 429  # even the right code waits: the address is guessing
    assert 1 <= int(r.headers["Retry-After"]) <= 60
    assert r.headers["content-type"] == "application/problem+json"


def test_joins_per_walk_are_throttled(client: SyncClient, world: World, app: Any) -> None:
    walk = _create(client, world)
    app.state.limits.joins_per_walk.limit = 3
    codes = [
        client.post(
            "/api/v1/walks/join", json={"code": walk["join_code"], "group": "youth"}
        ).status_code
        for _ in range(4)
    ]
    assert codes == [201, 201, 201, 429]


def test_cancelled_walk_invalidates_participant_tokens(client: SyncClient, world: World) -> None:
    walk = _create(client, world)
    token = client.post(
        "/api/v1/walks/join", json={"code": walk["join_code"], "group": "youth"}
    ).json()["access_token"]
    client.patch(
        f"/api/v1/walks/{walk['id']}",
        headers=world.headers("coordinator"),
        json={"status": "cancelled"},
    )
    r = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401


def test_other_organization_sees_nothing(client: SyncClient, world: World) -> None:
    walk = _create(client, world)
    h = world.headers("foreign_admin")
    assert client.get(f"/api/v1/walks/{walk['id']}", headers=h).status_code == 404
    assert (
        client.patch(
            f"/api/v1/walks/{walk['id']}", headers=h, json={"status": "cancelled"}
        ).status_code
        == 404
    )
    assert client.get("/api/v1/walks", headers=h).json()["items"] == []


def test_list_walks_pages(client: SyncClient, world: World) -> None:
    for i in range(3):
        _create(client, world, title=f"Walk {i}")
    seen: list[str] = []
    url: str | None = "/api/v1/walks?limit=2"
    while url:
        page = client.get(url, headers=world.headers("admin")).json()
        seen += [w["id"] for w in page["items"]]
        url = page["next"]
    assert len(seen) == len(set(seen)) == 5  # 3 new + 2 from the world


def test_participant_token_expires_after_the_walk_ends(
    client: SyncClient, world: World, app: Any
) -> None:
    from datetime import timedelta

    import jwt

    from models import utcnow

    ends = utcnow() + timedelta(hours=2)
    walk = _create(
        client, world, starts_at=(ends - timedelta(hours=3)).isoformat(), ends_at=ends.isoformat()
    )
    joined = client.post(
        "/api/v1/walks/join", json={"code": walk["join_code"], "group": "resident"}
    ).json()
    claims = jwt.decode(joined["access_token"], options={"verify_signature": False})
    # Valid through the walk plus 12 hours for offline phones to sync, and not longer.
    assert abs(claims["exp"] - (ends + timedelta(hours=12)).timestamp()) < 5
    assert claims["walk"] == walk["id"]
    expired = participant_token(app, world.participant, expires_at=utcnow() - timedelta(minutes=1))
    r = client.get("/api/v1/me", headers={"Authorization": f"Bearer {expired}"})
    assert r.status_code == 401
    assert r.json()["detail"] == "token expired"
