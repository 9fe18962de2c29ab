"""Test databases of both backends, and an app served on a test's connection.

Set ``SAFEWALK_REQUIRE_POSTGIS=1`` (CI does) to turn a missing PostgreSQL into a failure
instead of a skip. ``SAFEWALK_TEST_POSTGRES_URL`` points at a server where we may create
databases (default: postgres on 127.0.0.1).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from api.core import tenancy

POSTGRES_URL = os.environ.get(
    "SAFEWALK_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
REQUIRE_POSTGIS = os.environ.get("SAFEWALK_REQUIRE_POSTGIS") == "1"
BACKENDS = [pytest.param("spatialite", id="spatialite"), pytest.param("postgis", id="postgis")]
# For a test of what exists only on PostgreSQL (row-level security, several workers, Redis
# replicas): it runs on PostGIS alone instead of being skipped on SpatiaLite.
POSTGIS_ONLY = pytest.mark.parametrize("backend", [BACKENDS[1]], indirect=True)


def _postgis_unavailable_reason() -> str | None:
    try:
        eng = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
        with eng.connect() as conn:
            ok = conn.scalar(
                text("SELECT count(*) FROM pg_available_extensions WHERE name = 'postgis'")
            )
        eng.dispose()
    except Exception as exc:  # any connection failure means "no PostgreSQL here"
        return f"PostgreSQL not reachable at {make_url(POSTGRES_URL).render_as_string()}: {exc}"
    if not ok:
        return "PostgreSQL is reachable but PostGIS is not installed (postgresql-15-postgis-3)"
    return None


_REASON: list[str | None] = []


def _require_postgis() -> None:
    if not _REASON:
        _REASON.append(_postgis_unavailable_reason())
    reason = _REASON[0]
    if reason is None:
        return
    if REQUIRE_POSTGIS:
        pytest.fail(f"PostGIS required (SAFEWALK_REQUIRE_POSTGIS=1) but: {reason}")
    pytest.skip(f"PostGIS half skipped: {reason}")


# Two test processes (pytest-xdist workers) migrating PostgreSQL at once would race to create
# the cluster-wide app role; this advisory lock takes turns.
_MIGRATE_LOCK = 0x5AFE_3A1C


class DatabaseFactory:
    """Creates databases of one backend, empty or migrated, and removes them afterwards.

    A migrated database is a copy of a template migrated once per process: ``CREATE DATABASE
    ... TEMPLATE`` on PostgreSQL, a file copy on SQLite (0.1 s instead of a 1-2 s migration)."""

    def __init__(self, backend: str, tmp: Path) -> None:
        self.backend = backend
        self.tmp = tmp
        self.created: list[str] = []
        self._template: str | None = None

    def _name(self) -> str:
        return f"safewalk_test_{uuid.uuid4().hex[:12]}"

    def _sqlite_path(self, name: str) -> Path:
        return self.tmp / (name + ".db")

    def _url(self, name: str) -> str:
        if self.backend == "spatialite":
            return f"sqlite:///{self._sqlite_path(name).as_posix()}"
        return make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)

    def _create(self, name: str, template: str | None = None) -> None:
        _require_postgis()
        admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            clause = f' TEMPLATE "{template}"' if template else ""
            conn.execute(text(f'CREATE DATABASE "{name}"{clause}'))
        admin.dispose()
        self.created.append(name)

    def new_url(self) -> str:
        """An empty database (no schema), for tests that migrate themselves."""
        name = self._name()
        if self.backend != "spatialite":
            self._create(name)
        return self._url(name)

    def migrated_url(self) -> str:
        """A database at the latest schema, of its own: a test may commit to it."""
        template = self._template_name()
        name = self._name()
        if self.backend == "spatialite":
            source, target = self._sqlite_path(template), self._sqlite_path(name)
            shutil.copyfile(source, target)
            wal = source.with_name(source.name + "-wal")
            if wal.exists():  # not yet checkpointed into the file
                shutil.copyfile(wal, target.with_name(target.name + "-wal"))
        else:
            self._create(name, template=template)
        return self._url(name)

    def _template_name(self) -> str:
        if self._template is None:
            from api.core.migrate import upgrade

            name = self._name()
            if self.backend == "spatialite":
                upgrade(self._url(name))
            else:
                self._create(name)
                admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
                with admin.connect() as conn:
                    conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _MIGRATE_LOCK})
                    try:
                        upgrade(self._url(name))
                    finally:
                        conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _MIGRATE_LOCK})
                admin.dispose()
            self._template = name
        return self._template

    def drop_all(self) -> None:
        if not self.created:
            return
        admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            for name in self.created:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def serve_on(application: Any, connection: Connection) -> None:
    """The app's requests run on the test's connection (so they see its uncommitted data and
    roll back with it), and on PostgreSQL they act as the service does in production: as the
    app role, which does not own the tables, under row-level security (api/core/tenancy.py). The
    test's own session stays the owner, for arranging and checking."""
    factory = tenancy.install(
        sessionmaker(
            bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
        )
    )
    postgres = connection.dialect.name == "postgresql"
    if postgres:

        def become_app(_s: Session, _t: Any, conn: Connection) -> None:
            conn.exec_driver_sql(f"SET ROLE {tenancy.APP_ROLE}")

        def back_to_owner(_s: Session, transaction: Any) -> None:
            if transaction.parent is None:
                connection.exec_driver_sql("RESET ROLE")

        event.listen(factory, "after_begin", become_app)
        event.listen(factory, "after_transaction_end", back_to_owner)

    @contextlib.contextmanager
    def feed_connection() -> Iterator[Connection]:
        if postgres:
            connection.exec_driver_sql(f"SET ROLE {tenancy.APP_ROLE}")
        try:
            yield connection
        finally:
            if postgres:
                connection.exec_driver_sql("RESET ROLE")

    application.state.sessionmaker = factory
    application.state.feed_connection = feed_connection
