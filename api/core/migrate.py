"""Run Alembic from code (CLI, app start, tests) without depending on the working directory,
and compare the revisions this code expects with the database's (readiness, backups)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, text

import migrations


def alembic_config(url: str | None = None, connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(migrations.__file__).parent))
    cfg.set_main_option(
        "file_template",
        "%%(year)d_%%(month).2d_%%(day).2d_%%(hour).2d%%(minute).2d_%%(slug)s",
    )
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    cfg.attributes["configure_logger"] = False
    return cfg


def upgrade(
    url: str | None = None, *, connection: Connection | None = None, revision: str = "head"
) -> None:
    command.upgrade(alembic_config(url, connection), revision)


def downgrade(
    url: str | None = None, *, connection: Connection | None = None, revision: str = "base"
) -> None:
    command.downgrade(alembic_config(url, connection), revision)


@lru_cache(maxsize=1)
def code_heads() -> frozenset[str]:
    """The revisions this code expects (one, as the migration chain is linear)."""
    return frozenset(ScriptDirectory.from_config(alembic_config()).get_heads())


def database_revisions(engine: Engine) -> frozenset[str]:
    # DEFERRED: a probe must not queue behind SQLite's write lock.
    with engine.connect().execution_options(sqlite_begin="DEFERRED") as conn:
        try:
            rows = conn.execute(text("SELECT version_num FROM alembic_version")).scalars()
            return frozenset(str(r) for r in rows)
        except Exception:  # no alembic_version table: an empty database
            return frozenset()
