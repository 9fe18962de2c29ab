"""Personal access tokens: made, listed, revoked by their owner; accepted on /ogc and /tiles
only, as Bearer and as the password of HTTP Basic auth; 401 at once when revoked or when the
account is disabled."""

from __future__ import annotations

import base64
import hashlib
import time
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from api.auth import tokens as token_service
from api.core import tenancy
from api.core.db import create_db_engine, make_sessionmaker
from models import PersonalAccessToken, Role, utcnow
from models.tokens import TokenCreate
from tests.factories import make_org, make_user
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
        assert client.get("/api/v1/walks", headers=headers).status_code == 401
        # Read-only: nothing is written with it, not even where it reads.
        r = client.post("/api/v1/walks", headers=headers, json={"title": "x"})
        assert r.status_code == 401


def _map_feeds(world: World) -> list[str]:
    return [
        "/api/v1/map/observations",
        "/api/v1/map/action-items",
        "/api/v1/map/areas",
        f"/api/v1/map/walks/{world.walk.id}",
        "/api/v1/map/hotspots",
    ]


def test_token_reads_every_map_feed_as_basic_and_bearer(client: SyncClient, world: World) -> None:
    """QGIS's "Add vector layer" sends the token as the password of HTTP Basic auth."""
    secret = _make(client, world)["secret"]
    for url in _map_feeds(world):
        for headers in ({"Authorization": f"Bearer {secret}"}, _basic(secret)):
            r = client.get(url, headers=headers)
            assert r.status_code == 200, (url, r.text)
            assert r.headers["content-type"] == "application/geo+json", url

        # The same feed as the owner's sign-in token shows: the token acts as its owner.
        # (but for the moment each document was written, which may fall in another second).
        def doc(headers: dict[str, str], url: str = url) -> Any:
            body = client.get(url, headers=headers).json()
            body.pop("timeStamp", None)
            return body

        assert doc(_basic(secret)) == doc(world.headers("planner")), url


def test_map_feeds_refuse_bad_tokens_with_a_basic_challenge(
    client: SyncClient, world: World
) -> None:
    made = _make(client, world)
    foreign = client.post(
        TOKENS, headers=world.headers("foreign_admin"), json={"name": "theirs"}
    ).json()["secret"]
    assert (
        client.delete(f"{TOKENS}/{made['id']}", headers=world.headers("planner")).status_code == 204
    )
    for url in _map_feeds(world):
        for headers in (_basic(made["secret"]), _basic("swpat_guess"), {}):
            r = client.get(url, headers=headers)
            assert r.status_code == 401, (url, headers)
            assert r.headers["www-authenticate"].startswith("Basic"), url
        # Another organization's token reads its own organization only: the walk is not there.
        r = client.get(url, headers=_basic(foreign))
        if "/walks/" in url:
            assert r.status_code == 404, (url, r.text)
        else:
            assert r.status_code == 200, (url, r.text)
            assert str(world.objects["area"].id) not in r.text, url
            assert "features" in r.json()
    # Participants keep their walk's map with their own token.
    assert client.get(_map_feeds(world)[3], headers=world.headers("participant")).status_code == 200


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


def test_last_used_is_recorded_without_waiting_for_a_lock(migrated_db_url: str) -> None:
    """The bookkeeping never queues behind a writer: while another transaction holds the lock
    (SQLite's write lock, the token's row on PostgreSQL) the time stays noted, and the next
    attempt writes it."""
    engine = create_db_engine(migrated_db_url)
    factory = tenancy.install(make_sessionmaker(engine))
    try:
        with factory() as s:
            user = make_user(s, make_org(s), Role.planner)
            made = token_service.create_token(s, user, TokenCreate(name="QGIS"))
            s.commit()
            token = s.get(PersonalAccessToken, made.id)
            assert token is not None
        usage = token_service.TokenUsage()
        used = utcnow()
        assert usage.note(token, used)
        with engine.connect() as holder:  # a writer in the middle of its transaction
            holder.execute(
                update(PersonalAccessToken)
                .where(PersonalAccessToken.id == made.id)
                .values(name="renamed")
            )
            t0 = time.monotonic()
            assert usage.record(factory) == 0
            assert time.monotonic() - t0 < 2
            holder.rollback()
        assert usage.record(factory) == 1
        with factory() as s:
            row = s.get(PersonalAccessToken, made.id)
            assert row is not None
            assert row.last_used_at == used
            # Noted again within the minute: nothing to write.
            assert not usage.note(row, used + timedelta(seconds=30))
            assert usage.note(row, used + token_service.LAST_USED_RESOLUTION)
    finally:
        engine.dispose()
