"""The throttle stores behind ``SlidingWindow``: the same answers in memory, in the database and
in Redis, and database hits that outlive the request's rollback."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest
import redis
from sqlalchemy import Engine, func, select

from api.core.db import create_db_engine
from api.core.errors import TooManyRequests
from api.core.ratelimit import Limits, MemoryStore, SlidingWindow, ThrottleStore
from api.core.throttles import DatabaseStore, RedisStore, flush_pending, holding_hits
from models import ThrottleHit
from tests.factories.live_server import REDIS_URL


class Clock:
    """Wall time to the second (the database store sweeps by wall time), moved by hand."""

    def __init__(self) -> None:
        self.t = float(int(time.time()))

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def db_engine(migrated_db_url: str) -> Iterator[Engine]:
    engine = create_db_engine(migrated_db_url)
    yield engine
    engine.dispose()


def _windows_behave(store: ThrottleStore, clock: Clock) -> None:
    w = SlidingWindow(3, 60, clock, store=store, name=f"t{uuid.uuid4().hex[:6]}")
    for _ in range(3):
        assert w.retry_after("k") == 0
        w.hit("k")
        clock.t += 1
    assert w.count("k") == 3
    assert w.retry_after("k") == 57  # hits at 0, 1, 2; now 3; the first leaves at 60
    with pytest.raises(TooManyRequests) as caught:
        w.check("k", "tries")
    assert caught.value.headers["Retry-After"] == "57"
    assert w.count("other") == 0
    clock.t += 57
    assert w.retry_after("k") == 0
    assert w.count("k") == 2


def test_memory_store() -> None:
    clock = Clock()
    _windows_behave(MemoryStore(clock), clock)


def test_database_store(db_engine: Engine) -> None:
    clock = Clock()
    _windows_behave(DatabaseStore(db_engine), clock)


def test_redis_store() -> None:
    store = RedisStore(REDIS_URL, f"safewalk-test-{uuid.uuid4().hex[:8]}:")
    try:
        store.client.ping()
    except redis.RedisError as exc:
        pytest.skip(f"no Redis: {exc}")
    clock = Clock()
    try:
        _windows_behave(store, clock)
    finally:
        for key in store.client.scan_iter(f"{store.prefix}*"):
            store.client.delete(key)


def test_database_hits_wait_for_the_response_and_count_meanwhile(db_engine: Engine) -> None:
    store = DatabaseStore(db_engine)
    limits = Limits(store=store)

    def rows() -> int:
        with db_engine.connect() as conn:
            return int(conn.scalar(select(func.count()).select_from(ThrottleHit)) or 0)

    with holding_hits() as held:
        limits.login_failures_per_client.hit("203.0.113.7")
        # Held, not written (the request may still hold SQLite's write lock) ...
        assert rows() == 0
        # ... but counted by this request's own checks.
        assert limits.login_failures_per_client.count("203.0.113.7") == 1
        flush_pending(held)
        assert held == []
    assert rows() == 1
    assert limits.login_failures_per_client.count("203.0.113.7") == 1


def test_expired_hits_are_swept(db_engine: Engine) -> None:
    store = DatabaseStore(db_engine)
    store.write([("b", "k", 100.0, 60.0)])  # expired long ago
    store._last_sweep = 0.0
    store.write([("b", "k", store.now(), 60.0)])
    with db_engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(ThrottleHit)) == 1
