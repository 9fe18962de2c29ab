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
