"""A retention scene: an organization with retention settings, a completed walk, files on disk."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy.orm import Session

from api.core import spatial
from api.core.media import MediaStore
from models import (
    ActionItem,
    ActionStatus,
    Moderation,
    Observation,
    Organization,
    Participant,
    ParticipantGroup,
    Photo,
    Walk,
    WalkStatus,
    utcnow,
)
from tests.factories import make_category, make_org, make_walk

SIZES = ("original", "display", "thumb")


@dataclass
class Scene:
    org: Organization
    walk: Walk
    participant: Participant
    store: MediaStore
    t0: datetime  # when everything was recorded


def on_disk(store: MediaStore) -> set[Path]:
    return {p for p in store.root.rglob("*") if p.is_file()} if store.root.exists() else set()


def add_photo(
    session: Session, store: MediaStore, owner: Observation | ActionItem, seed: str
) -> Photo:
    """A photo row and its three rendition files (``seed`` names the picture: the same seed is
    the same picture, sharing its files)."""
    data = hashlib.sha256(seed.encode()).digest() * 4
    sha = hashlib.sha256(data).hexdigest()
    for size in SIZES:
        store.put(data + size.encode(), f"{size}.jpg", digest=sha)
    photo = Photo(
        id=uuid.uuid4(),
        organization_id=owner.organization_id,
        observation_id=owner.id if isinstance(owner, Observation) else None,
        action_item_id=owner.id if isinstance(owner, ActionItem) else None,
        upload_sha256=sha,
        sha256=sha,
        media_type="image/jpeg",
        size_bytes=len(data),
        width=4,
        height=4,
    )
    session.add(photo)
    session.flush()
    return photo


def add_item(
    session: Session, org: Organization, status: ActionStatus, closed: datetime
) -> ActionItem:
    item = ActionItem(
        organization_id=org.id,
        category_id=make_category(session, org).id,
        title="Lamp out",
        location=spatial.to_db(spatial.point(5.735, 58.852)),
        status=status,
        resolved_at=closed if status == ActionStatus.resolved else None,
        updated_at=closed,
        observation_count=1,
    )
    session.add(item)
    session.flush()
    return item


def add_obs(
    session: Session,
    scene: Scene,
    *,
    item: ActionItem | None = None,
    note: str | None = "Dark corner by the school",
    moderation: Moderation = Moderation.accepted,
    participant: Participant | None = None,
) -> Observation:
    obs = Observation(
        id=uuid.uuid4(),
        organization_id=scene.org.id,
        walk_id=scene.walk.id,
        participant_id=(participant or scene.participant).id,
        category_id=make_category(session, scene.org).id,
        location=spatial.to_db(spatial.point(5.735, 58.852)),
        note=note,
        recorded_at=scene.t0,
        moderation=moderation,
        action_item_id=item.id if item else None,
        body_hash="0" * 64,
    )
    session.add(obs)
    session.flush()
    return obs


def make_scene(session: Session, tmp_path: Path, name: str = "Sandnes") -> Scene:
    org = make_org(session, name)
    org.photo_retention_days = 30
    org.note_retention_days = 60
    org.anonymize_participants_after_days = 10
    t0 = utcnow() - timedelta(days=400)
    walk = make_walk(session, org, status=WalkStatus.completed, ends_at=t0, updated_at=t0)
    p = Participant(
        organization_id=org.id, walk_id=walk.id, group=ParticipantGroup.youth, display_name="Ada"
    )
    session.add(p)
    session.flush()
    return Scene(org, walk, p, MediaStore(tmp_path / "media"), t0)
