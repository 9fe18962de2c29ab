"""Sliding-window limits (join-code guessing, password guessing) over a pluggable store.

``SlidingWindow`` keeps its interface (``check``, ``hit``, ``count``, ``retry_after``); where
the hits live is the store's business. ``MemoryStore`` counts in this process only (one
server, tests); ``api/core/throttles.py`` has the database and Redis stores that several API
replicas share, so two servers on one database hold one limit.
"""

from __future__ import annotations

import math
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from typing import Protocol

from api.core.errors import TooManyRequests


class ThrottleStore(Protocol):
    """Where hits are kept. Times are the store's clock (``now``)."""

    def now(self) -> float: ...

    def recent(self, bucket: str, key: str, since: float) -> list[float]:
        """The times of ``key``'s hits in ``bucket`` after ``since``, oldest first."""
        ...

    def add(self, bucket: str, key: str, at: float, window_s: float) -> None: ...


class MemoryStore:
    """Hits in this process. With several replicas each would enforce the limit alone."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.now = clock
        self._hits: dict[tuple[str, str], deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def recent(self, bucket: str, key: str, since: float) -> list[float]:
        with self._lock:
            hits = self._hits[(bucket, key)]
            while hits and hits[0] <= since:
                hits.popleft()
            return list(hits)

    def add(self, bucket: str, key: str, at: float, window_s: float) -> None:
        with self._lock:
            self._hits[(bucket, key)].append(at)


class SlidingWindow:
    def __init__(
        self,
        limit: int,
        window_s: float,
        clock: Callable[[], float] | None = None,
        *,
        store: ThrottleStore | None = None,
        name: str = "default",
    ) -> None:
        self.limit = limit
        self.window_s = window_s
        self.store: ThrottleStore = store or MemoryStore(clock or time.monotonic)
        self.clock = clock or self.store.now
        self.name = name

    def _recent(self, key: str) -> tuple[float, list[float]]:
        now = self.clock()
        return now, self.store.recent(self.name, key, now - self.window_s)

    def retry_after(self, key: str) -> int:
        """Seconds until ``key`` may try again, or 0 if it may try now."""
        now, hits = self._recent(key)
        if len(hits) < self.limit:
            return 0
        # It may try again once enough of the oldest hits have left the window.
        return max(1, math.ceil(hits[len(hits) - self.limit] + self.window_s - now))

    def count(self, key: str) -> int:
        return len(self._recent(key)[1])

    def hit(self, key: str) -> None:
        self.store.add(self.name, key, self.clock(), self.window_s)

    def check(self, key: str, message: str) -> None:
        """429 when ``key`` is over the limit; ``message`` is the catalogue message saying of
        what there were too many (its ``{wait}`` is the seconds until the next try)."""
        wait = self.retry_after(key)
        if wait:
            raise TooManyRequests(
                key=message, params={"wait": wait}, headers={"Retry-After": str(wait)}
            )


class Limits:
    """The limits one app enforces, all in one store (shared by replicas unless in memory).

    None of them keys on the account alone: anyone who knows an admin's email could then lock
    the admin out. Sign-in failures count per (account, address) and per address; the right
    password from an address that has not failed still signs in.
    """

    def __init__(
        self, clock: Callable[[], float] | None = None, store: ThrottleStore | None = None
    ) -> None:
        store = store or MemoryStore(clock or time.monotonic)

        def window(name: str, limit: int, seconds: float) -> SlidingWindow:
            return SlidingWindow(limit, seconds, clock, store=store, name=name)

        # 10 wrong join codes a minute per address: far below the 40 a guesser would need.
        self.join_failures_per_client = window("join_fail_client_min", 10, 60)
        # ... and 30 an hour, so a patient guesser from one address is slowed to a crawl.
        self.join_failures_per_client_hour = window("join_fail_client_hour", 30, 3600)
        # Over the whole service, in an hour: past this, someone is guessing from many
        # addresses. Then every address that has guessed wrong this hour waits, while a
        # participant typing the right code at the first try still gets in.
        self.join_failures_everywhere = window("join_fail_all_hour", 1000, 3600)
        # Joins per walk: a walk has tens of participants, not hundreds a minute.
        self.joins_per_walk = window("joins_walk_min", 60, 60)
        self.login_failures_per_account_client = window("login_fail_account_client", 10, 300)
        # Several colleagues may share one municipal address: a wider allowance per address.
        self.login_failures_per_client = window("login_fail_client", 50, 300)
