"""``safewalk backup`` and ``safewalk restore``: a round trip gives back every row and file."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, text

from api.auth.deps_router import Principal
from api.cli import main
from api.core.db import create_db_engine, make_sessionmaker
from api.observations.service import capture
from api.settings import get_settings
from models import Observation, Participant, ParticipantGroup, Role, metadata, utcnow
from models.observations import ObservationIn
from tests.factories import make_area, make_org, make_user, make_walk
from tests.factories.databases import DatabaseFactory


def _seed(url: str) -> None:
    """An organization with a walk and five observations placed through the service."""
    engine = create_db_engine(url)
    try:
        with make_sessionmaker(engine)() as s:
            org = make_org(s, "Sandnes")
            walk = make_walk(s, org, area=make_area(s, org))
            make_user(s, org, Role.coordinator)
            p = Participant(organization_id=org.id, walk_id=walk.id, group=ParticipantGroup.youth)
            s.add(p)
            s.flush()
            who = Principal(kind="participant", organization_id=org.id, participant=p)
            for i in range(5):
                obs_id = uuid.UUID(int=i + 1, version=4)
                body = ObservationIn.model_validate(
                    {
                        "walk_id": str(walk.id),
                        "category": "lighting" if i % 2 else "incident",
                        "location": {"type": "Point", "coordinates": [5.7352 + i * 1e-4, 58.8517]},
                        "note": f"lamp {i} ø",
                        "recorded_at": (utcnow() - timedelta(minutes=i)).isoformat(),
                    }
                )
                capture(s, who, obs_id, body)
            s.commit()
    finally:
        engine.dispose()


def _rows(url: str) -> dict[str, list[str]]:
    """Every row of every table of ours, as text, sorted: equal dicts mean equal databases."""
    engine = create_db_engine(url)
    try:
        with engine.connect() as conn:
            out = {}
            for table in [*metadata.sorted_tables]:
                rows = conn.execute(text(f'SELECT * FROM "{table.name}"')).all()
                out[table.name] = sorted(repr(tuple(r)) for r in rows)
            out["alembic_version"] = [
                str(v) for v in conn.scalars(text("SELECT version_num FROM alembic_version"))
            ]
            return out
    finally:
        engine.dispose()


def _files(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


def _use(env: pytest.MonkeyPatch, url: str, media: Path) -> None:
    env.setenv("SAFEWALK_DATABASE_URL", url)
    env.setenv("SAFEWALK_MEDIA_DIR", str(media))
    get_settings.cache_clear()


def test_backup_and_restore_round_trip(
    databases: DatabaseFactory, tmp_path: Path, env: pytest.MonkeyPatch
) -> None:
    url = databases.migrated_url()
    _seed(url)
    media = tmp_path / "media"
    for rel, data in {
        "ab/cd/abcd.original.jpg": b"\xff\xd8 original",
        "ab/cd/abcd.thumb.webp": b"RIFF thumb",
        "01/23/0123.display.webp": bytes(range(256)),
    }.items():
        (media / rel).parent.mkdir(parents=True, exist_ok=True)
        (media / rel).write_bytes(data)
    rows, files = _rows(url), _files(media)
    assert len(rows["observation"]) == 5

    _use(env, url, media)
    snapshot = tmp_path / "snapshot"
    assert main(["backup", str(snapshot)]) == 0
    manifest = json.loads((snapshot / "manifest.json").read_text())
    assert manifest["media_files"] == 3
    assert manifest["schema"] == rows["alembic_version"]
    assert main(["backup", str(snapshot)]) == 1  # never into a directory that has things

    # Into an empty database and an empty media directory.
    other_url = databases.new_url()
    other_media = tmp_path / "other-media"
    _use(env, other_url, other_media)
    assert main(["restore", str(snapshot)]) == 0
    assert _rows(other_url) == rows
    assert _files(other_media) == files
    assert main(["restore", str(snapshot)]) == 1  # a database with a schema needs --replace

    # Over the same database after things changed: --replace puts the snapshot back.
    engine = create_db_engine(url)
    with engine.begin() as conn:
        conn.execute(delete(Observation).where(Observation.action_item_id.is_(None)))
        conn.execute(text("UPDATE observation SET note = 'changed'"))
    engine.dispose()
    (media / "ab/cd/abcd.thumb.webp").unlink()
    (media / "ff/ff").mkdir(parents=True)
    (media / "ff/ff/ffff.original.jpg").write_bytes(b"later")
    assert _rows(url) != rows
    _use(env, url, media)
    assert main(["restore", "--replace", str(snapshot)]) == 0
    assert _rows(url) == rows
    assert _files(media) == files


def test_restore_refuses_a_backup_of_the_other_database(
    tmp_path: Path, env: pytest.MonkeyPatch
) -> None:
    snapshot = tmp_path / "snap"
    snapshot.mkdir()
    (snapshot / "manifest.json").write_text(
        json.dumps({"database": "postgresql", "created_at": "x", "schema": [], "media_files": 0})
    )
    _use(env, f"sqlite:///{tmp_path}/x.db", tmp_path / "m")
    assert main(["restore", str(snapshot)]) == 1
