"""Run Alembic from code (CLI, app start, tests) without depending on the working directory."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection

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


def backfill(url: str, *, batch: int = 20_000) -> dict[str, int]:
    """Data backfills that may take long, run by `safewalk migrate` after the schema upgrade
    (never inside an Alembic revision). Each is idempotent: it fills only what is still missing,
    so it can be interrupted and run again, beside live traffic."""
    from api.core.db import create_db_engine, make_sessionmaker, session_scope
    from api.hotspots import rollup as hotspot_rollup
    from api.privacy import sensitive

    engine = create_db_engine(url)
    try:
        factory = make_sessionmaker(engine)
        done: dict[str, int] = {"observation.location_general": 0}
        # Sensitive places (issue 16): the generalised point of observations made before it,
        # one transaction per batch like the rollups below.
        while True:
            for session in session_scope(factory):
                filled = sensitive.fill_general_locations(session, batch=batch)
            if not filled:
                break
            done["observation.location_general"] += filled
        # Exact H3 cells and hotspot rollups (issue 15), committed batch by batch.
        done["hotspot_rollup"] = hotspot_rollup.backfill(factory, batch=batch)
        return done
    finally:
        engine.dispose()
