"""Work the service does every so often while it runs: one daemon thread per kind of work,
started with the app and stopped with it."""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager


@asynccontextmanager
async def every(
    seconds: float,
    work: Callable[[], object],
    *,
    name: str,
    log: logging.Logger,
    failed: str,
    at_once: bool = False,
) -> AsyncIterator[None]:
    """Run ``work`` every ``seconds`` (0 or less: never) while the app lives; with ``at_once``
    a first time right away. A pass that raises is logged as ``failed`` and the next one tries
    again."""
    if seconds <= 0:
        yield
        return
    stop = threading.Event()

    def attempt() -> None:
        try:
            work()
        except Exception:  # logged; the next pass tries again
            log.exception(failed)

    def loop() -> None:
        if at_once:
            attempt()
        while not stop.wait(seconds):
            attempt()

    thread = threading.Thread(target=loop, name=name, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=30)
