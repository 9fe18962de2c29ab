"""Throttle hits that several API replicas share: in the database, or in Redis.

``DatabaseStore`` keeps hits in the ``throttle_hit`` table. A hit is written on a connection of
its own, never in the request's unit of work: the request is usually rolled back (a wrong join
code is a 404) and the hit must stay. Within a request the hits are held back and written when
the response starts (``RequestContext`` calls ``flush_pending``): by then the request's session
is closed, so on SQLite the throttle's write never waits for the request's own write lock. A
replica that reads a moment later sees them.

``RedisStore`` keeps one sorted set per (bucket, key), expiring with its window.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from sqlalchemy import Engine, Table, delete, insert, select

from api.core.errors import DomainError
from api.core.ratelimit import MemoryStore, ThrottleStore
from api.settings import Settings
from models import ThrottleHit

log = logging.getLogger("safewalk")
THROTTLE_HIT: Table = ThrottleHit.__table__  # type: ignore[attr-defined]

# (store, bucket, key, at, window) waiting for the response to start.
Pending = list[tuple["DatabaseStore", str, str, float, float]]
_pending: ContextVar[Pending | None] = ContextVar("safewalk_pending_hits", default=None)


class ThrottleStoreUnavailable(DomainError):
    status, slug, title = 503, "throttle-store-unavailable", "Service unavailable"


@contextmanager
def holding_hits() -> Iterator[Pending]:
    """Hold the database hits of one request until ``flush_pending`` (the response starts)."""
    held: Pending = []
    token = _pending.set(held)
    try:
        yield held
    finally:
        _pending.reset(token)


def flush_pending(held: Pending) -> None:
    while held:
        store, bucket, key, at, window = held.pop(0)
        try:
            store.write([(bucket, key, at, window)])
        except Exception:  # a lost hit is a slightly looser limit, not a failed request
            log.exception("could not store a throttle hit")


class DatabaseStore:
    SWEEP_EVERY_S = 60.0

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._last_sweep = 0.0
        self._lock = threading.Lock()

    def now(self) -> float:
        return time.time()

    def recent(self, bucket: str, key: str, since: float) -> list[float]:
        t = THROTTLE_HIT
        query = (
            select(t.c.at)
            .where(t.c.bucket == bucket, t.c.key == key, t.c.at > since)
            .order_by(t.c.at)
        )
        # DEFERRED: a read never queues behind SQLite's write lock.
        with self.engine.connect().execution_options(sqlite_begin="DEFERRED") as conn:
            times = [float(x) for x in conn.scalars(query)]
        held = _pending.get() or []
        times += [at for s, b, k, at, _ in held if s is self and b == bucket and k == key]
        return sorted(t for t in times if t > since)

    def add(self, bucket: str, key: str, at: float, window_s: float) -> None:
        held = _pending.get()
        if held is not None:
            held.append((self, bucket, key, at, window_s))
        else:
            self.write([(bucket, key, at, window_s)])

    def write(self, hits: list[tuple[str, str, float, float]]) -> None:
        t = THROTTLE_HIT
        rows = [
            {"bucket": b, "key": k[:400], "at": at, "expires_at": at + w} for b, k, at, w in hits
        ]
        now = self.now()
        with self._lock:
            sweep = now - self._last_sweep > self.SWEEP_EVERY_S
            if sweep:
                self._last_sweep = now
        with self.engine.begin() as conn:
            conn.execute(insert(t), rows)
            if sweep:  # hits of every window, once they can no longer count
                conn.execute(delete(t).where(t.c.expires_at < now))


class RedisStore:
    def __init__(self, url: str, prefix: str = "safewalk:") -> None:
        import redis

        self.client: Any = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self.prefix = prefix
        self._errors: tuple[type[Exception], ...] = (redis.RedisError,)

    def now(self) -> float:
        return time.time()

    def _key(self, bucket: str, key: str) -> str:
        return f"{self.prefix}throttle:{bucket}:{key}"

    def recent(self, bucket: str, key: str, since: float) -> list[float]:
        try:
            pairs = self.client.zrangebyscore(
                self._key(bucket, key), f"({since}", "+inf", withscores=True
            )
        except self._errors as exc:
            raise ThrottleStoreUnavailable(key="error.throttle_store_down") from exc
        return [float(score) for _, score in pairs]

    def add(self, bucket: str, key: str, at: float, window_s: float) -> None:
        name = self._key(bucket, key)
        try:
            pipe = self.client.pipeline(transaction=True)
            pipe.zadd(name, {f"{at}:{uuid.uuid4().hex[:8]}": at})
            pipe.zremrangebyscore(name, "-inf", at - window_s)
            pipe.expire(name, int(window_s) + 1)
            pipe.execute()
        except self._errors as exc:
            raise ThrottleStoreUnavailable(key="error.throttle_store_down") from exc


def make_store(settings: Settings, engine: Engine) -> ThrottleStore:
    """Redis when configured, else the database, unless the operator asked for memory."""
    if settings.redis_url:
        return RedisStore(settings.redis_url, settings.redis_prefix)
    if settings.throttle_store == "memory":
        return MemoryStore()
    return DatabaseStore(engine)
