"""Run Alembic from code (CLI, app start, tests) without depending on the working directory,
and compare the revisions this code expects with the database's (readiness, backups).

Alembic is imported by the functions that run it, not with this module: a serving process asks
only which revision the code expects (``code_heads``), and Alembic with its dialects, Mako and
Pygments would stay in its memory for good (about 9 MB).
"""

from __future__ import annotations

import ast
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, text

import migrations

if TYPE_CHECKING:
    from alembic.config import Config

VERSIONS = Path(migrations.__file__).parent / "versions"


def alembic_config(url: str | None = None, connection: Connection | None = None) -> Config:
    from alembic.config import Config

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
    from alembic import command

    command.upgrade(alembic_config(url, connection), revision)


def downgrade(
    url: str | None = None, *, connection: Connection | None = None, revision: str = "base"
) -> None:
    from alembic import command

    command.downgrade(alembic_config(url, connection), revision)


_IDS = ("revision", "down_revision")


def _revision_ids(source: str) -> tuple[str, set[str]]:
    """A revision file's own id and the ids it follows, read from its assignments."""
    found: dict[str, object] = {}
    for node in ast.parse(source).body:
        target: ast.expr
        if isinstance(node, ast.AnnAssign):
            target, value = node.target, node.value
        elif isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        else:
            continue
        if isinstance(target, ast.Name) and target.id in _IDS and value is not None:
            found[target.id] = ast.literal_eval(value)
    down = found.get("down_revision")
    parents = {down} if isinstance(down, str) else set(down or ())  # type: ignore[call-overload]
    return str(found["revision"]), {str(d) for d in parents}


@lru_cache(maxsize=1)
def code_heads() -> frozenset[str]:
    """The revisions this code expects (one, as the chain is linear): those no other revision
    follows. Read from the revision files, the same that Alembic reads (a test compares)."""
    revisions: set[str] = set()
    followed: set[str] = set()
    for path in VERSIONS.glob("*.py"):
        revision, parents = _revision_ids(path.read_text(encoding="utf-8"))
        revisions.add(revision)
        followed |= parents
    return frozenset(revisions - followed)


def database_revisions(engine: Engine) -> frozenset[str]:
    # DEFERRED: a probe must not queue behind SQLite's write lock.
    with engine.connect().execution_options(sqlite_begin="DEFERRED") as conn:
        try:
            rows = conn.execute(text("SELECT version_num FROM alembic_version")).scalars()
            return frozenset(str(r) for r in rows)
        except Exception:  # no alembic_version table: an empty database
            return frozenset()
