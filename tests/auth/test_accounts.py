"""Staff accounts after creation: edits, deactivation (tokens stop at once), password changes,
and the organization's last active admin."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from models import Organization, Role, User
from tests.factories import PASSWORD, make_user
from tests.factories.client import SyncClient
from tests.factories.world import World, staff_token

NEW_PASSWORD = "a longer and different passphrase"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def login(client: SyncClient, email: str, password: str) -> Any:
    return client.post("/api/v1/auth/token", data={"username": email, "password": password})


def test_admin_edits_role_department_and_name(client: SyncClient, world: World) -> None:
    user = world.users["coordinator"]
    r = client.patch(
        f"/api/v1/users/{user.id}",
        headers=world.headers("admin"),
        json={"role": "engineer", "department": " parks ", "display_name": "Kari"},
    )
    assert r.status_code == 200, r.text
    got = r.json()
    assert (got["role"], got["department"], got["display_name"]) == ("engineer", "parks", "Kari")
    # The role is read at every request: the same token now acts as an engineer.
    me = client.get("/api/v1/me", headers=world.headers("coordinator")).json()
    assert (me["role"], me["department"]) == ("engineer", "parks")
    assert client.get("/api/v1/walks", headers=world.headers("coordinator")).status_code == 403
    listed = client.get("/api/v1/users", headers=world.headers("admin")).json()["items"]
    assert {u["id"]: u["role"] for u in listed}[str(user.id)] == "engineer"


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        pytest.param(
            {"role": "engineer"}, ["body", "department"], id="engineer-without-department"
        ),
        pytest.param({"role": "boss"}, ["body", "role"], id="unknown-role"),
        pytest.param({"role": None}, ["body", "role"], id="null-role"),
        pytest.param({"active": None}, ["body", "active"], id="null-active"),
        pytest.param({"active": "maybe"}, ["body", "active"], id="active-not-a-bool"),
        pytest.param({"email": "x@example.org"}, ["body", "email"], id="email-not-editable"),
        pytest.param({"password": "x" * 12}, ["body", "password"], id="password-not-here"),
    ],
)
def test_user_edits_are_validated(
    client: SyncClient, world: World, body: dict[str, Any], loc: list[str]
) -> None:
    user = world.users["planner"]
    r = client.patch(f"/api/v1/users/{user.id}", headers=world.headers("admin"), json=body)
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["loc"] == loc


def test_only_admins_of_the_same_organization_edit_users(client: SyncClient, world: World) -> None:
    user = world.users["planner"]
    for who in ("coordinator", "engineer", "planner", "participant"):
        r = client.patch(
            f"/api/v1/users/{user.id}", headers=world.headers(who), json={"display_name": "x"}
        )
        assert r.status_code == 403, who
    r = client.patch(
        f"/api/v1/users/{user.id}", headers=world.headers("foreign_admin"), json={"active": False}
    )
    assert r.status_code == 404
    assert client.get("/api/v1/me", headers=world.headers("planner")).status_code == 200


def test_deactivation_stops_existing_tokens_at_once(
    app: Any, client: SyncClient, world: World
) -> None:
    user = world.users["engineer"]
    old = world.headers("engineer")
    assert client.get("/api/v1/me", headers=old).status_code == 200
    r = client.patch(
        f"/api/v1/users/{user.id}", headers=world.headers("admin"), json={"active": False}
    )
    assert r.status_code == 200, r.text
    assert r.json()["is_active"] is False
    refused = client.get("/api/v1/me", headers=old)
    assert refused.status_code == 401
    assert refused.headers["content-type"] == "application/problem+json"
    assert login(client, user.email, PASSWORD).status_code == 401

    # Reactivated: signing in works again, but the tokens from before stay dead.
    r = client.patch(
        f"/api/v1/users/{user.id}", headers=world.headers("admin"), json={"active": True}
    )
    assert r.status_code == 200
    assert client.get("/api/v1/me", headers=old).status_code == 401
    fresh = login(client, user.email, PASSWORD)
    assert fresh.status_code == 200
    assert client.get("/api/v1/me", headers=bearer(fresh.json()["access_token"])).status_code == 200


def test_password_change(app: Any, client: SyncClient, world: World) -> None:
    user = world.users["planner"]
    old = world.headers("planner")
    wrong = client.post(
        "/api/v1/me/password",
        headers=old,
        json={"current_password": "not the password", "new_password": NEW_PASSWORD},
    )
    assert wrong.status_code == 403
    assert wrong.headers["content-type"] == "application/problem+json"
    assert wrong.json()["errors"][0]["loc"] == ["body", "current_password"]
    short = client.post(
        "/api/v1/me/password",
        headers=old,
        json={"current_password": PASSWORD, "new_password": "short"},
    )
    assert short.status_code == 422
    assert short.json()["errors"][0]["loc"] == ["body", "new_password"]
    same = client.post(
        "/api/v1/me/password",
        headers=old,
        json={"current_password": PASSWORD, "new_password": PASSWORD},
    )
    assert same.status_code == 422
    assert login(client, user.email, PASSWORD).status_code == 200  # nothing changed yet

    ok = client.post(
        "/api/v1/me/password",
        headers=old,
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
    )
    assert ok.status_code == 200, ok.text
    new_token = ok.json()["access_token"]
    # Every token from before, on every device, stops working; the answer's token works.
    assert client.get("/api/v1/me", headers=old).status_code == 401
    assert client.get("/api/v1/me", headers=bearer(new_token)).status_code == 200
    assert login(client, user.email, PASSWORD).status_code == 401
    assert login(client, user.email, NEW_PASSWORD).status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"new_password": NEW_PASSWORD}, id="no-current"),
        pytest.param({"current_password": PASSWORD}, id="no-new"),
        pytest.param(
            {"current_password": PASSWORD, "new_password": NEW_PASSWORD, "role": "admin"},
            id="smuggled-role",
        ),
    ],
)
def test_password_change_input(client: SyncClient, world: World, body: dict[str, Any]) -> None:
    r = client.post("/api/v1/me/password", headers=world.headers("planner"), json=body)
    assert r.status_code == 422


def test_participants_have_no_password(client: SyncClient, world: World) -> None:
    r = client.post(
        "/api/v1/me/password",
        headers=world.headers("participant"),
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
    )
    assert r.status_code == 403


def test_the_last_active_admin_stays(
    app: Any, client: SyncClient, world: World, session: Session
) -> None:
    admin = world.users["admin"]
    h = world.headers("admin")
    for body in ({"active": False}, {"role": "coordinator"}):
        r = client.patch(f"/api/v1/users/{admin.id}", headers=h, json=body)
        assert r.status_code == 409, body
        assert r.headers["content-type"] == "application/problem+json"
        assert "siste aktive administrator" in r.json()["detail"]  # the organization speaks nb
    assert client.get("/api/v1/me", headers=h).json()["role"] == "admin"
    english = client.patch(
        f"/api/v1/users/{admin.id}", headers={**h, "Accept-Language": "en"}, json={"active": False}
    )
    assert "last active admin" in english.json()["detail"]

    # An inactive admin does not count.
    dormant = make_user(session, world.org, Role.admin)
    session.commit()
    assert (
        client.patch(f"/api/v1/users/{dormant.id}", headers=h, json={"active": False}).status_code
        == 200
    )
    assert (
        client.patch(f"/api/v1/users/{admin.id}", headers=h, json={"active": False}).status_code
        == 409
    )

    # With a second active admin, the first may step down; then the second is the last.
    second = make_user(session, world.org, Role.admin)
    session.commit()
    h2 = bearer(staff_token(app, second))
    r = client.patch(f"/api/v1/users/{admin.id}", headers=h, json={"role": "coordinator"})
    assert r.status_code == 200, r.text
    assert client.get("/api/v1/users", headers=h).status_code == 403  # no longer an admin
    assert (
        client.patch(f"/api/v1/users/{second.id}", headers=h2, json={"active": False}).status_code
        == 409
    )


def test_two_admins_deactivating_each_other_at_once_leave_one(
    live: tuple[Any, Any, dict[str, Any]],
) -> None:
    """Real commits, concurrent requests: never both succeed, so an admin always remains."""
    app, factory, ids = live
    with factory() as s:
        org = s.get(Organization, ids["user"].organization_id)
        a, b = make_user(s, org, Role.admin), make_user(s, org, Role.admin)
        s.commit()
        tokens = {a.id: staff_token(app, a), b.id: staff_token(app, b)}
    calls = [
        (
            "PATCH",
            f"/api/v1/users/{b.id}",
            {"json": {"active": False}, "headers": bearer(tokens[a.id])},
        ),
        (
            "PATCH",
            f"/api/v1/users/{a.id}",
            {"json": {"active": False}, "headers": bearer(tokens[b.id])},
        ),
    ]
    with SyncClient(app) as client:
        statuses = sorted(r.status_code for r in client.gather(calls))
    # The loser either saw the winner's change (409) or was itself deactivated first (401).
    assert statuses in ([200, 401], [200, 409]), statuses
    with factory() as s:
        active = s.scalars(
            select(User).where(
                col(User.organization_id) == org.id,
                col(User.role) == Role.admin,
                col(User.is_active).is_(True),
            )
        ).all()
    assert len(active) == 1
