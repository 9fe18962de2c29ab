"""Two real servers on one database hold one limit, and what one changes the other enforces.

Each check is a small function over two servers, so a fact added later (a deactivated user,
a revoked token) is one more function in ``CROSS_REPLICA_FACTS``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import redis
from sqlalchemy import func, select

from api.core.db import create_db_engine, make_sessionmaker
from models import Role, ThrottleHit
from tests.factories import PASSWORD, make_org, make_user, make_walk
from tests.factories.databases import POSTGIS_ONLY, DatabaseFactory
from tests.factories.live_server import REDIS_URL, LiveServer, staff_token_for


@dataclass
class Pair:
    a: LiveServer
    b: LiveServer
    url: str
    admin_email: str
    coordinator_token: str
    walk_id: str
    join_code: str

    def clients(self, address: str) -> tuple[httpx.Client, httpx.Client]:
        """One client per server, both from ``address`` (any 127.x is loopback on Linux), so
        each fact has throttle buckets of its own."""
        return tuple(  # type: ignore[return-value]
            httpx.Client(
                base_url=s.base,
                timeout=30,
                transport=httpx.HTTPTransport(local_address=address),
            )
            for s in (self.a, self.b)
        )


def _seed(url: str) -> dict[str, str]:
    engine = create_db_engine(url)
    try:
        with make_sessionmaker(engine)() as s:
            org = make_org(s, "Sandnes")
            admin = make_user(s, org, Role.admin)
            coord = make_user(s, org, Role.coordinator)
            walk = make_walk(s, org)
            s.commit()
            token = staff_token_for(coord.id, org.id)
            return {
                "admin": admin.email,
                "coordinator": token,
                "walk": str(walk.id),
                "code": walk.join_code,
            }
    finally:
        engine.dispose()


def _pair(url: str, tmp: Path, env: dict[str, str], stack: ExitStack) -> Pair:
    seeded = _seed(url)
    a = stack.enter_context(LiveServer(url, tmp / "a", env=env))
    b = stack.enter_context(LiveServer(url, tmp / "b", env=env))
    return Pair(a, b, url, seeded["admin"], seeded["coordinator"], seeded["walk"], seeded["code"])


@pytest.fixture
def pair(databases: DatabaseFactory, tmp_path: Path) -> Iterator[Pair]:
    url = databases.migrated_url()
    with ExitStack() as stack:
        yield _pair(url, tmp_path, {}, stack)


# --- facts that must hold across replicas -------------------------------------------------------


def wrong_join_codes_share_one_limit(p: Pair) -> None:
    ca, cb = p.clients("127.0.0.11")
    with ca, cb:
        statuses = [
            (ca if i % 2 else cb)
            .post("/api/v1/walks/join", json={"code": "WRONGCDE", "group": "youth"})
            .status_code
            for i in range(12)
        ]
    # 10 a minute per address, over both servers together (alone, each would allow 10).
    assert statuses[:10] == [404] * 10, statuses
    assert statuses[10:] == [429, 429], statuses


def failed_sign_ins_share_one_limit(p: Pair) -> None:
    ca, cb = p.clients("127.0.0.12")
    with ca, cb:
        for i in range(10):
            r = (ca if i % 2 else cb).post(
                "/api/v1/auth/token", data={"username": p.admin_email, "password": "nope"}
            )
            assert r.status_code == 401, (i, r.text)
        for c in (ca, cb):
            r = c.post("/api/v1/auth/token", data={"username": p.admin_email, "password": PASSWORD})
            assert r.status_code == 429, r.text
            assert int(r.headers["Retry-After"]) > 0


def a_rotated_join_code_is_dead_everywhere_at_once(p: Pair) -> None:
    ca, cb = p.clients("127.0.0.13")
    auth = {"Authorization": f"Bearer {p.coordinator_token}"}
    with ca, cb:
        r = ca.post(f"/api/v1/walks/{p.walk_id}/rotate-code", headers=auth)
        assert r.status_code == 200, r.text
        new_code = r.json()["join_code"]
        assert new_code != p.join_code
        old = cb.post("/api/v1/walks/join", json={"code": p.join_code, "group": "youth"})
        assert old.status_code == 404, old.text
        new = cb.post("/api/v1/walks/join", json={"code": new_code, "group": "youth"})
        assert new.status_code == 201, new.text


CROSS_REPLICA_FACTS: list[Callable[[Pair], None]] = [
    wrong_join_codes_share_one_limit,
    failed_sign_ins_share_one_limit,
    a_rotated_join_code_is_dead_everywhere_at_once,
]


def test_two_servers_on_one_database(pair: Pair) -> None:
    for fact in CROSS_REPLICA_FACTS:
        fact(pair)
    engine = create_db_engine(pair.url)
    try:
        with engine.connect() as conn:
            assert conn.scalar(select(func.count()).select_from(ThrottleHit)) >= 20
    finally:
        engine.dispose()


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.skip(f"no Redis at {REDIS_URL}: {exc}")
    prefix = f"safewalk-test-{uuid.uuid4().hex[:8]}:"
    yield prefix
    for key in client.scan_iter(f"{prefix}*"):
        client.delete(key)
    client.close()


# Redis is for replicas on PostgreSQL; the database store covers SQLite.
@POSTGIS_ONLY
def test_two_servers_with_redis(
    databases: DatabaseFactory, tmp_path: Path, redis_prefix: str
) -> None:
    url = databases.migrated_url()
    env = {"SAFEWALK_REDIS_URL": REDIS_URL, "SAFEWALK_REDIS_PREFIX": redis_prefix}
    with ExitStack() as stack:
        pair = _pair(url, tmp_path, env, stack)
        wrong_join_codes_share_one_limit(pair)
        failed_sign_ins_share_one_limit(pair)
    keys = list(redis.Redis.from_url(REDIS_URL).scan_iter(f"{redis_prefix}throttle:*"))
    assert keys  # the hits went to Redis ...
    engine = create_db_engine(url)
    try:
        with engine.connect() as conn:  # ... and not to the database
            assert conn.scalar(select(func.count()).select_from(ThrottleHit)) == 0
    finally:
        engine.dispose()
