"""Readiness: the database answers and its schema is the one this code was written for.

During a rolling deploy the new code may start before ``safewalk migrate`` has run; it must not
take traffic then (its queries would name columns that are not there yet).
"""

from __future__ import annotations

from functools import lru_cache

from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text

from api.core.migrate import alembic_config


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
