"""The optional periodic Open311 sync inside the service (``SAFEWALK_OPEN311_SYNC_SECONDS``,
0 = off, the default). One daemon thread; ``safewalk open311-sync`` does the same pass once."""

from __future__ import annotations

import logging
from contextlib import AbstractAsyncContextManager

from api.jobs import periodic
from api.jobs.host import Host
from api.outputs.open311.client import sync

log = logging.getLogger("safewalk.open311")


def _pass(app: Host) -> None:
    report = sync(app.state.sessionmaker, allow_private=app.state.settings.webhook_allow_private)
    if report.sent or report.failed or report.resolved:
        log.info(
            "open311 sync: %d sent, %d failed, %d resolved",
            report.sent, report.failed, report.resolved,
        )  # fmt: skip


def open311_lifespan(app: Host) -> AbstractAsyncContextManager[None]:
    seconds = float(app.state.settings.open311_sync_seconds)
    return periodic.every(
        seconds, lambda: _pass(app), name="open311-sync", log=log, failed="open311 sync pass failed"
    )
