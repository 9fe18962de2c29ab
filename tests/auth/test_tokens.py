"""Personal access tokens: made, listed, revoked by their owner; accepted on /ogc and /tiles
only, as Bearer and as the password of HTTP Basic auth; 401 at once when revoked or when the
account is disabled."""

from __future__ import annotations

import base64
import hashlib
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.auth import tokens as token_service
from models import PersonalAccessToken
from tests.factories.client import SyncClient
from tests.factories.world import World

TOKENS = "/api/v1/me/tokens"


def _basic(secret: str, user: str = "planner@example.org") -> dict[str, str]:
    raw = base64.b64encode(f"{user}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {raw}"}


def _make(client: SyncClient, world: World, who: str = "planner", **body: Any) -> dict[str, Any]:
    r = client.post(TOKENS, headers=world.headers(who), json={"name": "QGIS", **body})
    assert r.status_code == 201, r.text
    data: dict[str, Any] = r.json()
    return data


def test_secret_is_shown_once_and_stored_hashed(
    client: SyncClient, world: World, session: Session
) -> None:
    made = _make(client, world)
    assert made["secret"].startswith("swpat_")
    assert len(made["secret"]) > 40
    assert made["scope"] == "read"
    assert made["last_used_at"] is None
    listed = client.get(TOKENS, headers=world.headers("planner")).json()
    assert [t["id"] for t in listed] == [made["id"]]
    assert "secret" not in listed[0]
    assert listed[0]["prefix"] == made["secret"][:10]
    row = session.scalar(select(PersonalAccessToken))
    assert row is not None
    assert row.token_hash == hashlib.sha256(made["secret"].encode()).hexdigest()
    assert made["secret"] not in (row.token_hash, row.prefix)


def test_token_works_on_ogc_as_bearer_and_as_basic_password(
    client: SyncClient, world: World, session: Session
) -> None:
    secret = _make(client, world)["secret"]
    assert client.get("/ogc", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    assert client.get("/ogc/collections", headers=_basic(secret)).status_code == 200
    assert client.get("/ogc", headers=_basic(secret, user="anything")).status_code == 200
    listed = client.get(TOKENS, headers=world.headers("planner")).json()
    assert listed[0]["last_used_at"] is not None


def test_token_is_refused_on_the_json_api(client: SyncClient, world: World) -> None:
    secret = _make(client, world)["secret"]
    for headers in ({"Authorization": f"Bearer {secret}"}, _basic(secret)):
        assert client.get("/api/v1/me", headers=headers).status_code == 401
        assert client.get("/api/v1/map/observations", headers=headers).status_code == 401


def test_revoked_token_is_401_at_once(client: SyncClient, world: World) -> None:
    made = _make(client, world)
    h = _basic(made["secret"])
    assert client.get("/ogc", headers=h).status_code == 200
    r = client.delete(f"{TOKENS}/{made['id']}", headers=world.headers("planner"))
    assert r.status_code == 204
    r = client.get("/ogc", headers=h)
    assert r.status_code == 401
    assert r.headers["content-type"] == "application/problem+json"
    assert r.headers["www-authenticate"].startswith("Basic")
    listed = client.get(TOKENS, headers=world.headers("planner")).json()
    assert listed[0]["revoked_at"] is not None
    # revoking again is harmless
    assert (
        client.delete(f"{TOKENS}/{made['id']}", headers=world.headers("planner")).status_code == 204
    )


def test_disabled_account_token_is_401_at_once(
    client: SyncClient, world: World, session: Session
) -> None:
    secret = _make(client, world)["secret"]
    assert client.get("/ogc", headers=_basic(secret)).status_code == 200
    world.users["planner"].is_active = False
    session.commit()
    assert client.get("/ogc", headers=_basic(secret)).status_code == 401
    assert client.get("/tiles/areas.json", headers=_basic(secret)).status_code == 401


def test_only_the_owner_sees_and_revokes(client: SyncClient, world: World) -> None:
    made = _make(client, world, who="planner")
    assert client.get(TOKENS, headers=world.headers("coordinator")).json() == []
    r = client.delete(f"{TOKENS}/{made['id']}", headers=world.headers("admin"))
    assert r.status_code == 404
    r = client.delete(f"{TOKENS}/{made['id']}", headers=world.headers("foreign_admin"))
    assert r.status_code == 404
    assert (
        client.post(TOKENS, headers=world.headers("participant"), json={"name": "x"}).status_code
        == 403
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param({"name": ""}, "name", id="empty-name"),
        pytest.param({"name": "x" * 121}, "name", id="long-name"),
        pytest.param({"name": "QGIS", "scope": "write"}, "scope", id="write-scope"),
        pytest.param({"name": "QGIS", "user_id": "x"}, "user_id", id="mass-assignment"),
        pytest.param({}, "name", id="no-name"),
    ],
)
def test_bad_token_bodies_are_422(
    client: SyncClient, world: World, body: dict[str, Any], field: str
) -> None:
    r = client.post(TOKENS, headers=world.headers("planner"), json=body)
    assert r.status_code == 422
    assert field in r.json()["errors"][0]["loc"]


@pytest.mark.parametrize(
    "authorization",
    [
        pytest.param("Basic !!!", id="not-base64"),
        pytest.param("Basic " + base64.b64encode(b"no-colon").decode(), id="no-colon"),
        pytest.param("Basic " + base64.b64encode(b"user:").decode(), id="empty-password"),
        pytest.param("Basic " + base64.b64encode(b"user:swpat_guess").decode(), id="unknown-token"),
        pytest.param("Bearer swpat_guess", id="unknown-bearer-token"),
        pytest.param("Bearer not-a-jwt", id="garbage-bearer"),
    ],
)
def test_bad_reader_credentials_are_401_with_a_basic_challenge(
    client: SyncClient, world: World, authorization: str
) -> None:
    r = client.get("/ogc/collections", headers={"Authorization": authorization})
    assert r.status_code == 401
    assert r.headers["content-type"] == "application/problem+json"
    assert r.headers["www-authenticate"].startswith("Basic")


def test_anonymous_reader_gets_a_basic_challenge(client: SyncClient, world: World) -> None:
    r = client.get("/ogc")
    assert r.status_code == 401
    assert 'Basic realm="safewalk"' in r.headers["www-authenticate"]


def test_staff_jwt_still_works_on_readers(client: SyncClient, world: World) -> None:
    assert client.get("/ogc", headers=world.headers("engineer")).status_code == 200
    assert client.get("/ogc", headers=world.headers("participant")).status_code == 403


def test_last_used_is_written_at_most_once_a_minute(
    client: SyncClient, world: World, session: Session
) -> None:
    secret = _make(client, world)["secret"]
    client.get("/ogc", headers=_basic(secret))
    row = session.scalar(select(PersonalAccessToken))
    assert row is not None
    session.refresh(row)
    first = row.last_used_at
    assert first is not None
    client.get("/ogc", headers=_basic(secret))
    session.refresh(row)
    assert row.last_used_at == first
    row.last_used_at = first - token_service.LAST_USED_RESOLUTION - timedelta(seconds=1)
    session.commit()
    client.get("/ogc", headers=_basic(secret))
    session.refresh(row)
    assert row.last_used_at is not None
    assert row.last_used_at > first - timedelta(seconds=1)
