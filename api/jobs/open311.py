"""The optional periodic Open311 sync inside the service (``SAFEWALK_OPEN311_SYNC_SECONDS``,
0 = off, the default). One daemon thread; ``safewalk open311-sync`` does the same pass once."""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from api.jobs.host import Host
from api.outputs.open311.client import sync

log = logging.getLogger("safewalk.open311")


def _run(app: Host, every: float, stop: threading.Event) -> None:
    while not stop.wait(every):
        try:
            report = sync(
                app.state.sessionmaker,
                allow_private=app.state.settings.webhook_allow_private,
            )
            if report.sent or report.failed or report.resolved:
                log.info(
                    "open311 sync: %d sent, %d failed, %d resolved",
                    report.sent, report.failed, report.resolved,
                )  # fmt: skip
        except Exception:  # a pass that fails is logged; the next one tries again
            log.exception("open311 sync pass failed")


@asynccontextmanager
async def open311_lifespan(app: Host) -> AsyncIterator[None]:
    every = float(app.state.settings.open311_sync_seconds)
    if every <= 0:
        yield
        return
    stop = threading.Event()
    thread = threading.Thread(
        target=_run, args=(app, every, stop), name="open311-sync", daemon=True
    )
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=30)
