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

    def count(self, key: str) -> int:
        with self._lock:
            return len(self._prune(key, self.clock()))

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
    """The limits one app instance enforces.

    None of them keys on the account alone: anyone who knows an admin's email could then lock
    the admin out. Sign-in failures count per (account, address) and per address; the right
    password from an address that has not failed still signs in.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        # 10 wrong join codes a minute per address: far below the 40 a guesser would need.
        self.join_failures_per_client = SlidingWindow(10, 60, clock)
        # ... and 30 an hour, so a patient guesser from one address is slowed to a crawl.
        self.join_failures_per_client_hour = SlidingWindow(30, 3600, clock)
        # Over the whole service, in an hour: past this, someone is guessing from many
        # addresses. Then every address that has guessed wrong this hour waits, while a
        # participant typing the right code at the first try still gets in.
        self.join_failures_everywhere = SlidingWindow(1000, 3600, clock)
        # Joins per walk: a walk has tens of participants, not hundreds a minute.
        self.joins_per_walk = SlidingWindow(60, 60, clock)
        self.login_failures_per_account_client = SlidingWindow(10, 300, clock)
        # Several colleagues may share one municipal address: a wider allowance per address.
        self.login_failures_per_client = SlidingWindow(50, 300, clock)
