"""Retention and erasure: each organization's retention settings applied by a purge,
erasure of participants on request, and the sweep of orphaned media files.

What goes, and what stays so that the action list stays true:
- notes are cleared (``note = NULL``), photos are deleted (rows, and every rendition file once
  no other photo shares the picture), display names are dropped;
- the observation itself (location, category, severity, time, the participant's group) stays,
  so action items keep their members, counts, groups and priority.

Database changes only flush into the caller's session. Files go after the caller committed:
a rolled-back erasure must not have lost its pictures. A file that loses its last row because
a commit happened but the deletion did not (a crash in between) is an orphan, which
:func:`sweep_media` removes on the next purge. No FastAPI here.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from sqlmodel import col

from api.core import tenancy
from api.core.errors import NotFound
from api.core.media import MediaFile, MediaStore, PhotoSize, extension
from models import action_items as item_status
from models.action_items import ActionEvent, ActionItem
from models.base import utcnow
from models.observations import Moderation, Observation, Photo
from models.organizations import Organization
from models.retention import ErasureKind, ErasureRecord, MaintenanceRun
from models.walks import Participant, Walk, WalkStatus

log = logging.getLogger("safewalk.retention")

# A file younger than this is never swept: its row may not be committed yet.
SWEEP_GRACE = timedelta(hours=1)
ENDED_WALKS = (WalkStatus.completed, WalkStatus.cancelled)
_CHUNK = 500


@dataclass
class Removal:
    """What one erasure or one organization's purge removed (counts), and the files to delete
    once the change is committed."""

    participants: int = 0
    notes: int = 0
    photos: int = 0
    keys: list[str] = field(default_factory=list)
    files: int = 0  # files actually deleted (after the commit)

    @property
    def changed(self) -> bool:
        return bool(self.participants or self.notes or self.photos)

    def record(self, organization_id: uuid.UUID, kind: ErasureKind, **who: Any) -> ErasureRecord:
        """The audit row of this removal (counts only, never what was removed)."""
        return ErasureRecord(
            organization_id=organization_id, kind=kind, participants=self.participants,
            notes=self.notes, photos=self.photos, **who,
        )  # fmt: skip


@dataclass
class OrgPurge:
    slug: str
    removal: Removal


@dataclass
class SweepReport:
    orphan_files: int = 0  # files no photo names, deleted (or, in a dry run, to delete)
    leftover_files: int = 0  # temporary files of interrupted writes
    young_files: int = 0  # orphans inside the grace period, left for the next run
    missing: list[uuid.UUID] = field(default_factory=list)  # photos whose files are gone


@dataclass
class PurgeReport:
    dry_run: bool
    organizations: list[OrgPurge] = field(default_factory=list)
    sweep: SweepReport | None = None

    @property
    def changed(self) -> bool:
        swept = self.sweep is not None and bool(
            self.sweep.orphan_files or self.sweep.leftover_files
        )
        return swept or any(o.removal.changed for o in self.organizations)


# --- shared pieces ---------------------------------------------------------------------------


def _chunks(ids: Sequence[uuid.UUID]) -> Iterable[Sequence[uuid.UUID]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]


def _clear_notes(session: Session, obs_ids: Sequence[uuid.UUID]) -> int:
    """Clear the notes of these observations; the number that had one."""
    cleared = 0
    for chunk in _chunks(obs_ids):
        ids = list(
            session.scalars(
                select(col(Observation.id)).where(
                    col(Observation.id).in_(chunk), col(Observation.note).is_not(None)
                )
            )
        )
        if ids:
            session.execute(
                update(Observation)
                .where(col(Observation.id).in_(ids))
                .values(note=None)
                .execution_options(synchronize_session="fetch")
            )
        cleared += len(ids)
    return cleared


@dataclass(frozen=True)
class PhotoRef:
    """What deleting a photo needs: its id, and the picture its files are named after."""

    id: uuid.UUID
    sha256: str
    media_type: str


_PHOTO_REF = (col(Photo.id), col(Photo.sha256), col(Photo.media_type))


def _refs(session: Session, stmt: Any) -> list[PhotoRef]:
    return [PhotoRef(*row) for row in session.execute(stmt)]


def _delete_photos(session: Session, photos: Sequence[PhotoRef]) -> list[str]:
    """Delete the photo rows; the media keys no remaining photo names (to delete after the
    commit). Identical pictures share files, so a file another photo still names stays."""
    for chunk in _chunks([p.id for p in photos]):
        session.execute(
            delete(Photo)
            .where(col(Photo.id).in_(chunk))
            .execution_options(synchronize_session="fetch")
        )
    pictures = {p.sha256: p.media_type for p in photos}
    shas = sorted(pictures)
    named: set[str] = set()
    for start in range(0, len(shas), _CHUNK):
        some = shas[start : start + _CHUNK]
        named.update(session.scalars(select(col(Photo.sha256)).where(col(Photo.sha256).in_(some))))
    keys = [
        MediaStore.key_for(sha, f"{size}.{extension(pictures[sha])}")
        for sha in shas
        if sha not in named
        for size in PhotoSize
    ]
    return keys


def delete_files(store: MediaStore, keys: Iterable[str]) -> int:
    """Delete these files (after the commit that removed their rows); how many were there."""
    deleted = 0
    for key in keys:
        if store.exists(key):
            store.delete(key)
            deleted += 1
    return deleted


# --- erasure on request ----------------------------------------------------------------------


def get_participant(session: Session, walk: Walk, participant_id: uuid.UUID) -> Participant:
    """A participant of this walk (the walk was looked up in the caller's organization)."""
    p = session.get(Participant, participant_id)
    if p is None or p.walk_id != walk.id or p.organization_id != walk.organization_id:
        raise NotFound(key="error.no_such_participant")
    return p


def erase_participants(
    session: Session,
    walk: Walk,
    participants: Sequence[Participant],
    *,
    kind: ErasureKind,
    actor_user_id: uuid.UUID | None,
) -> Removal:
    """Erase what these participants of ``walk`` left: the notes and photos of their
    observations, their display names and the comments they wrote on follow-up moves. Their
    group and their observations' places and categories stay. Recorded (counts only) in
    ``erasure_record``; a second erasure finds nothing left and records zeros."""
    pids = [p.id for p in participants]
    removal = Removal()
    obs_ids: list[uuid.UUID] = []
    for chunk in _chunks(pids):
        obs_ids += session.scalars(
            select(col(Observation.id)).where(
                col(Observation.organization_id) == walk.organization_id,
                col(Observation.participant_id).in_(chunk),
            )
        )
    removal.notes = _clear_notes(session, obs_ids)
    photos: list[PhotoRef] = []
    for chunk in _chunks(obs_ids):
        photos += _refs(session, select(*_PHOTO_REF).where(col(Photo.observation_id).in_(chunk)))
    removal.photos = len(photos)
    removal.keys = _delete_photos(session, photos)
    for p in participants:
        if p.display_name is not None:
            p.display_name = None
            removal.participants += 1
        if p.erased_at is None:
            p.erased_at = utcnow()  # their token stops working: nothing new is tied to them
    for chunk in _chunks(pids):
        session.execute(
            update(ActionEvent)
            .where(
                col(ActionEvent.actor_participant_id).in_(chunk),
                col(ActionEvent.comment).is_not(None),
            )
            .values(comment=None)
            .execution_options(synchronize_session="fetch")
        )
    session.add(
        removal.record(walk.organization_id, kind, walk_id=walk.id, actor_user_id=actor_user_id)
    )
    session.flush()
    return removal


def erase_participant(
    session: Session, walk: Walk, participant_id: uuid.UUID, *, actor_user_id: uuid.UUID | None
) -> Removal:
    p = get_participant(session, walk, participant_id)
    return erase_participants(
        session, walk, [p], kind=ErasureKind.participant, actor_user_id=actor_user_id
    )


def erase_walk(session: Session, walk: Walk, *, actor_user_id: uuid.UUID | None) -> Removal:
    participants = list(
        session.scalars(select(Participant).where(col(Participant.walk_id) == walk.id))
    )
    return erase_participants(
        session, walk, participants, kind=ErasureKind.walk, actor_user_id=actor_user_id
    )


# --- the retention settings ------------------------------------------------------------------


def _closed_before(cutoff: datetime) -> ColumnElement[bool]:
    """An action item that left the open states before ``cutoff`` (resolved_at when it was
    resolved, otherwise its last change)."""
    return and_(
        ~item_status.is_open(),
        or_(
            and_(col(ActionItem.resolved_at).is_not(None), col(ActionItem.resolved_at) < cutoff),
            and_(col(ActionItem.resolved_at).is_(None), col(ActionItem.updated_at) < cutoff),
        ),
    )


def expired_photos(session: Session, org: Organization, now: datetime) -> list[PhotoRef]:
    """Photos kept longer than ``photo_retention_days``: those of observations (and the fix
    photos) of an item closed that long ago, and those of observations in no item (perception
    only, hidden, duplicates) recorded that long ago. Photos of open items, and of observations
    still waiting for review, stay."""
    if org.photo_retention_days is None:
        return []
    cutoff = now - timedelta(days=org.photo_retention_days)
    closed_items = select(col(ActionItem.id)).where(
        col(ActionItem.organization_id) == org.id, _closed_before(cutoff)
    )
    of_observations = (
        select(*_PHOTO_REF)
        .join(Observation, col(Observation.id) == col(Photo.observation_id))
        .where(
            col(Photo.organization_id) == org.id,
            or_(
                col(Observation.action_item_id).in_(closed_items),
                and_(
                    col(Observation.action_item_id).is_(None),
                    col(Observation.moderation) != Moderation.submitted.value,
                    col(Observation.recorded_at) < cutoff,
                ),
            ),
        )
    )
    of_fixes = select(*_PHOTO_REF).where(
        col(Photo.organization_id) == org.id, col(Photo.action_item_id).in_(closed_items)
    )
    return _refs(session, of_observations) + _refs(session, of_fixes)


def expired_notes(session: Session, org: Organization, now: datetime) -> list[uuid.UUID]:
    """Observations whose note is older than ``note_retention_days``, unless their item is still
    open (the engineer fixing it may need the words)."""
    if org.note_retention_days is None:
        return []
    cutoff = now - timedelta(days=org.note_retention_days)
    open_items = select(col(ActionItem.id)).where(
        col(ActionItem.organization_id) == org.id,
        item_status.is_open(),
    )
    return list(
        session.scalars(
            select(col(Observation.id)).where(
                col(Observation.organization_id) == org.id,
                col(Observation.note).is_not(None),
                col(Observation.recorded_at) < cutoff,
                or_(
                    col(Observation.action_item_id).is_(None),
                    col(Observation.action_item_id).not_in(open_items),
                ),
            )
        )
    )


def expired_names(session: Session, org: Organization, now: datetime) -> list[Participant]:
    """Participants still named ``anonymize_participants_after_days`` after their walk ended
    (completed or cancelled, and past its planned end)."""
    if org.anonymize_participants_after_days is None:
        return []
    cutoff = now - timedelta(days=org.anonymize_participants_after_days)
    ended = select(col(Walk.id)).where(
        col(Walk.organization_id) == org.id,
        col(Walk.status).in_([s.value for s in ENDED_WALKS]),
        col(Walk.updated_at) < cutoff,
        or_(col(Walk.ends_at).is_(None), col(Walk.ends_at) < cutoff),
    )
    return list(
        session.scalars(
            select(Participant).where(
                col(Participant.organization_id) == org.id,
                col(Participant.display_name).is_not(None),
                col(Participant.walk_id).in_(ended),
            )
        )
    )


def purge_organization(session: Session, org: Organization, now: datetime) -> Removal:
    """Apply ``org``'s retention settings (flushes; files are for the caller, after commit).
    Idempotent: what was removed is not found again. Records a purge only if it changed
    something."""
    removal = Removal()
    removal.notes = _clear_notes(session, expired_notes(session, org, now))
    photos = expired_photos(session, org, now)
    removal.photos = len(photos)
    removal.keys = _delete_photos(session, photos)
    for p in expired_names(session, org, now):
        p.display_name = None
        removal.participants += 1
    if removal.changed:
        session.add(removal.record(org.id, ErasureKind.purge))
    session.flush()
    return removal


# --- orphaned files --------------------------------------------------------------------------


def sweep_media(
    session: Session,
    store: MediaStore,
    *,
    now: float | None = None,
    grace: timedelta = SWEEP_GRACE,
    dry_run: bool = False,
) -> SweepReport:
    """Delete files no photo names (older than ``grace``: a younger file may belong to an
    upload whose row is not committed yet) and temporary files of interrupted writes; report
    photos whose files are missing. Reads every organization's photos: files are shared by
    content, so only all rows together tell that a file is unused."""
    report = SweepReport()
    limit = (time.time() if now is None else now) - grace.total_seconds()
    by_digest: dict[str, list[MediaFile]] = {}
    for found in store.files():
        if found.digest is None:
            if found.mtime < limit:
                report.leftover_files += 1
                if not dry_run:
                    store.remove(found)
            continue
        by_digest.setdefault(found.digest, []).append(found)
    digests = sorted(by_digest)
    named: set[str] = set()
    for start in range(0, len(digests), _CHUNK):
        chunk = digests[start : start + _CHUNK]
        named.update(session.scalars(select(col(Photo.sha256)).where(col(Photo.sha256).in_(chunk))))
    for digest in digests:
        if digest in named:
            continue
        for found in by_digest[digest]:
            if found.mtime >= limit:
                report.young_files += 1
                continue
            report.orphan_files += 1
            if not dry_run:
                store.remove(found)
    for photo_id, sha, media_type in session.execute(
        select(col(Photo.id), col(Photo.sha256), col(Photo.media_type)).order_by(col(Photo.id))
    ):
        ext = extension(media_type)
        if not all(store.exists(store.key_for(sha, f"{s}.{ext}")) for s in PhotoSize):
            report.missing.append(photo_id)
    for photo_id in report.missing:
        log.error("photo %s: a file is missing from the media store", photo_id)
    return report


# --- the whole run ---------------------------------------------------------------------------


def purge(
    factory: sessionmaker[Session],
    store: MediaStore,
    *,
    org_slug: str | None = None,
    dry_run: bool = False,
    now: datetime | None = None,
    grace: timedelta = SWEEP_GRACE,
) -> PurgeReport:
    """Apply every organization's retention settings (or one's, with ``org_slug``), one
    transaction per organization, files deleted after each commit; then sweep orphaned files
    (all organizations only: a file's last row may be another organization's). A dry run
    counts the same way and rolls back, deleting nothing."""
    now = now or utcnow()
    report = PurgeReport(dry_run=dry_run)
    with factory() as session, tenancy.lookup(session, "organization"):
        # Inside the service the sessions act as the app role behind the tenant wall: the
        # organizations are found by a lookup, and each one's pass is bound to it.
        stmt = select(col(Organization.id), col(Organization.slug)).order_by(col(Organization.slug))
        if org_slug is not None:
            stmt = stmt.where(col(Organization.slug) == org_slug)
        orgs = list(session.execute(stmt))
    if org_slug is not None and not orgs:
        raise NotFound(key="error.no_organization_slug", params={"slug": org_slug})
    for org_id, slug in orgs:
        with factory() as session:
            tenancy.bind(session, org_id)
            org = session.get(Organization, org_id)
            assert org is not None
            removal = purge_organization(session, org, now)
            if dry_run:
                session.rollback()
                removal.files = sum(1 for k in removal.keys if store.exists(k))
            else:
                session.commit()
                removal.files = delete_files(store, removal.keys)
        report.organizations.append(OrgPurge(slug, removal))
    if org_slug is None:
        with factory() as session, tenancy.lookup(session, "photo"):
            report.sweep = sweep_media(session, store, grace=grace, dry_run=dry_run)
            session.rollback()
    return report


# --- the daily run shared by replicas --------------------------------------------------------

PURGE_JOB = "purge"


def claim_run(session: Session, job: str, *, every: timedelta, now: datetime | None = None) -> bool:
    """Claim this period's run of ``job``: True for exactly one caller per period, however
    many replicas ask at once (a conditional UPDATE; the row is created on first use)."""
    now = now or utcnow()
    if session.get(MaintenanceRun, job) is None:
        savepoint = session.begin_nested()
        try:
            session.add(MaintenanceRun(name=job))
            session.flush()
            savepoint.commit()
        except IntegrityError:  # another replica inserted it first: its row serves us too
            savepoint.rollback()
    result = session.execute(
        update(MaintenanceRun)
        .where(
            col(MaintenanceRun.name) == job,
            or_(
                col(MaintenanceRun.started_at).is_(None),
                col(MaintenanceRun.started_at) <= now - every,
            ),
        )
        .values(started_at=now)
        .execution_options(synchronize_session=False)
    )
    claimed = bool(getattr(result, "rowcount", 0) == 1)
    session.commit()
    return claimed


def finish_run(session: Session, job: str, *, now: datetime | None = None) -> None:
    session.execute(
        update(MaintenanceRun)
        .where(col(MaintenanceRun.name) == job)
        .values(finished_at=now or utcnow())
        .execution_options(synchronize_session=False)
    )
    session.commit()


__all__ = [
    "OrgPurge",
    "PurgeReport",
    "Removal",
    "SweepReport",
    "claim_run",
    "delete_files",
    "erase_participant",
    "erase_walk",
    "finish_run",
    "purge",
    "purge_organization",
    "sweep_media",
]
