"""The daily purge inside the service (``SAFEWALK_PURGE_DAILY=1``; off by default).

Every replica wakes every ``SAFEWALK_PURGE_CHECK_SECONDS`` and asks the database whether the
day's run is due; the conditional UPDATE in :func:`api.privacy.retention.claim_run` lets
exactly one replica have it, so two replicas never purge at once or twice a day. One daemon
thread, like the Open311 sync; ``safewalk purge`` does the same pass by hand.
"""

from __future__ import annotations

import logging
from contextlib import AbstractAsyncContextManager
from datetime import timedelta

from api.core.media import MediaStore
from api.jobs import periodic
from api.jobs.host import Host
from api.privacy import retention

log = logging.getLogger("safewalk.retention")

# A little under a day, so a run that started a few seconds late yesterday is due today.
PERIOD = timedelta(hours=23)


def run_if_due(app: Host) -> retention.PurgeReport | None:
    """Purge if no replica did in the last ``PERIOD``; the report, or None when not due."""
    factory = app.state.sessionmaker
    with factory() as session:
        if not retention.claim_run(session, retention.PURGE_JOB, every=PERIOD):
            return None
    report = retention.purge(factory, MediaStore(app.state.settings.resolved_media_dir))
    with factory() as session:
        retention.finish_run(session, retention.PURGE_JOB)
    log.info("daily purge: %s", summary(report))
    return report


def summary(report: retention.PurgeReport) -> str:
    notes = sum(o.removal.notes for o in report.organizations)
    photos = sum(o.removal.photos for o in report.organizations)
    names = sum(o.removal.participants for o in report.organizations)
    files = sum(o.removal.files for o in report.organizations)
    sweep = report.sweep or retention.SweepReport()
    return (
        f"{notes} notes cleared, {photos} photos deleted ({files} files), {names} participants "
        f"anonymized; {sweep.orphan_files} orphaned files swept, {len(sweep.missing)} photos "
        "with missing files"
    )


def purge_lifespan(app: Host) -> AbstractAsyncContextManager[None]:
    settings = app.state.settings
    # First check at once: a replica restarted daily would otherwise never reach its first run.
    return periodic.every(
        float(settings.purge_check_seconds) if settings.purge_daily else 0,
        lambda: run_if_due(app), name="daily-purge", log=log, failed="daily purge failed",
        at_once=True,
    )  # fmt: skip
