"""``safewalk backup DIR`` and ``safewalk restore DIR``: the database and the media, together.

The database first, then the media: photo files are written before the rows that name them are
committed and are never rewritten (content-addressed), so every photo the database snapshot
names is already on disk when the media are copied; files that arrive in between are extras no
row names, harmless. SQLite is copied with its online backup API (a consistent snapshot while
the service keeps writing); PostgreSQL with ``pg_dump`` in its custom format (one transaction,
a consistent snapshot).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.engine import URL, make_url

from api.core.db import create_db_engine, sqlite_module
from api.core.errors import DomainError
from api.core.migrate import database_revisions
from api.settings import Settings

MANIFEST = "manifest.json"
SQLITE_FILE = "safewalk.db"
PG_FILE = "database.dump"
MEDIA = "media"
FORMAT = 1


class BackupError(DomainError):
    status, slug, title = 500, "backup-failed", "Backup or restore failed"


@dataclass
class Manifest:
    database: str  # "sqlite" | "postgresql"
    created_at: str
    schema: list[str]
    media_files: int
    format: int = FORMAT


def _backend(url: URL) -> str:
    name = url.get_backend_name()
    if name not in ("sqlite", "postgresql"):
        raise BackupError(f"cannot back up a {name} database")
    return name


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("an in-memory SQLite database has nothing to back up")
    return Path(url.database)


def _sqlite_copy(source: Path, target: Path) -> None:
    """SQLite's online backup API: pages copied from a consistent snapshot, WAL included."""
    sqlite = sqlite_module()
    src = sqlite.connect(str(source))
    dst = sqlite.connect(str(target))
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


def _pg_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(
            f"{name} is not installed: 'apt-get install postgresql-client-15' "
            "(the client tools must be as new as the server)"
        )
    return path


def _pg_env(url: URL) -> tuple[str, dict[str, str]]:
    """A libpq URL without the password, which goes in PGPASSWORD (not the process list)."""
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    libpq = url.set(drivername="postgresql", password=None)
    return libpq.render_as_string(hide_password=False), env


def _run(args: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BackupError(f"{Path(args[0]).name} failed: {done.stderr.strip()[-2000:]}")


def _media_files(root: Path) -> list[Path]:
    if not root.is_dir():
        return []
    return sorted(p.relative_to(root) for p in root.rglob("*") if p.is_file())


def _copy_media(source: Path, target: Path) -> int:
    files = _media_files(source)
    for rel in files:
        dest = target / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source / rel, dest)
    return len(files)


def backup(settings: Settings, target: Path) -> Manifest:
    url = make_url(settings.resolved_owner_database_url)
    backend = _backend(url)
    if target.exists() and any(target.iterdir()):
        raise BackupError(f"{target} is not empty: back up into a new directory")
    target.mkdir(parents=True, exist_ok=True)
    engine = create_db_engine(settings.resolved_owner_database_url)
    try:
        schema = sorted(database_revisions(engine))
    finally:
        engine.dispose()
    if backend == "sqlite":
        _sqlite_copy(_sqlite_path(url), target / SQLITE_FILE)
    else:
        libpq, env = _pg_env(url)
        _run(
            [
                _pg_tool("pg_dump"),
                "--format=custom",
                "--no-owner",
                "--file",
                str(target / PG_FILE),
                "--dbname",
                libpq,
            ],
            env,
        )
    count = _copy_media(settings.resolved_media_dir, target / MEDIA)
    manifest = Manifest(
        database=backend,
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        schema=schema,
        media_files=count,
    )
    (target / MANIFEST).write_text(json.dumps(manifest.__dict__, indent=2) + "\n", encoding="utf-8")
    return manifest


def _has_tables(url: str) -> bool:
    engine = create_db_engine(url)
    try:
        with engine.connect() as conn:
            names = inspect(conn).get_table_names()
    finally:
        engine.dispose()
    return "alembic_version" in names


def restore(settings: Settings, source: Path, *, replace: bool = False) -> Manifest:
    try:
        raw: dict[str, Any] = json.loads((source / MANIFEST).read_text(encoding="utf-8"))
        manifest = Manifest(**raw)
    except (OSError, ValueError, TypeError) as exc:
        raise BackupError(f"{source} is not a safewalk backup: {exc}") from exc
    url_text = settings.resolved_owner_database_url
    url = make_url(url_text)
    backend = _backend(url)
    if manifest.database != backend:
        raise BackupError(f"this backup is of a {manifest.database} database, not {backend}")
    if not replace and _has_tables(url_text):
        raise BackupError("the database already has a schema: restore with --replace")
    if backend == "sqlite":
        path = _sqlite_path(url)
        path.parent.mkdir(parents=True, exist_ok=True)
        _sqlite_copy(source / SQLITE_FILE, path)
    else:
        libpq, env = _pg_env(url)
        args = [_pg_tool("pg_restore"), "--no-owner", "--single-transaction", "--exit-on-error"]
        if replace:
            args += ["--clean", "--if-exists"]
        _run([*args, "--dbname", libpq, str(source / PG_FILE)], env)
    media = settings.resolved_media_dir
    if replace:  # the media as they were: files the snapshot does not have go
        keep = set(_media_files(source / MEDIA))
        for rel in _media_files(media):
            if rel not in keep:
                (media / rel).unlink()
    _copy_media(source / MEDIA, media)
    return manifest
