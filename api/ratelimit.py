"""In-process sliding-window limits (join-code guessing, password guessing).

One process keeps its own counts; with several API replicas each enforces the limit alone, so
the effective limit is N times higher: move this to the shared database or Redis then.
"""

from __future__ import annotations

import math
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable

from api.errors import TooManyRequests


class SlidingWindow:
    def __init__(
        self, limit: int, window_s: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.window_s = window_s
        self.clock = clock
        self._hits: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def _prune(self, key: str, now: float) -> deque[float]:
        hits = self._hits[key]
        while hits and hits[0] <= now - self.window_s:
            hits.popleft()
        return hits

    def retry_after(self, key: str) -> int:
        """Seconds until ``key`` may try again, or 0 if it may try now."""
        with self._lock:
            now = self.clock()
            hits = self._prune(key, now)
            if len(hits) < self.limit:
                return 0
            return max(1, math.ceil(hits[0] + self.window_s - now))

    def hit(self, key: str) -> None:
        with self._lock:
            now = self.clock()
            self._prune(key, now).append(now)

    def check(self, key: str, what: str) -> None:
        wait = self.retry_after(key)
        if wait:
            raise TooManyRequests(
                f"too many {what}; try again in {wait} s", headers={"Retry-After": str(wait)}
            )


class Limits:
    """The limits one app instance enforces."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        # 10 wrong join codes a minute per address: far below the 40 a guesser would need.
        self.join_failures_per_client = SlidingWindow(10, 60, clock)
        # Joins per walk: a walk has tens of participants, not hundreds a minute.
        self.joins_per_walk = SlidingWindow(60, 60, clock)
        self.login_failures_per_client = SlidingWindow(10, 60, clock)
        self.login_failures_per_account = SlidingWindow(10, 300, clock)
