"""Fixtures: every database test runs on SpatiaLite and on PostGIS, each in a rolled-back transaction.

Set ``SAFEWALK_REQUIRE_POSTGIS=1`` (CI does) to turn a missing PostgreSQL into a failure
instead of a skip. ``SAFEWALK_TEST_POSTGRES_URL`` points at a server where we may create
databases (default: postgres on 127.0.0.1).
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from api.app import create_app
from api.core import tenancy
from api.core.db import create_db_engine
from api.core.migrate import upgrade
from api.settings import Settings
from tests.factories.client import SyncClient

# Fixtures every folder of tests uses: the API tests' world (two organizations, every role,
# two walks) and the seeded world of the readers (/ogc, /tiles).
pytest_plugins = ["tests.factories.world", "tests.factories.readers"]

POSTGRES_URL = os.environ.get(
    "SAFEWALK_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
REQUIRE_POSTGIS = os.environ.get("SAFEWALK_REQUIRE_POSTGIS") == "1"
BACKENDS = [pytest.param("spatialite", id="spatialite"), pytest.param("postgis", id="postgis")]


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


class DatabaseFactory:
    """Creates empty databases of one backend and removes them afterwards."""

    def __init__(self, backend: str, tmp: Path) -> None:
        self.backend = backend
        self.tmp = tmp
        self.created: list[str] = []

    def new_url(self) -> str:
        name = f"safewalk_test_{uuid.uuid4().hex[:12]}"
        if self.backend == "spatialite":
            return f"sqlite:///{(self.tmp / (name + '.db')).as_posix()}"
        _require_postgis()
        admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        self.created.append(name)
        return make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        if not self.created:
            return
        admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            for name in self.created:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    if name == "postgis":
        _require_postgis()
    return name


@pytest.fixture(scope="session")
def databases(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DatabaseFactory]:
    factory = DatabaseFactory(backend, tmp_path_factory.mktemp(backend))
    yield factory
    factory.drop_all()


@pytest.fixture
def fresh_db_url(databases: DatabaseFactory) -> str:
    """An empty database of the current backend, for tests that migrate or commit for real."""
    return databases.new_url()


@pytest.fixture(scope="session")
def engine(databases: DatabaseFactory) -> Iterator[Engine]:
    """The shared test database of this backend, built by ``alembic upgrade head``."""
    url = databases.new_url()
    upgrade(url)
    eng = create_db_engine(url)
    yield eng
    eng.dispose()


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as conn:
        trans = conn.begin()
        yield conn
        trans.rollback()


@pytest.fixture
def session_factory(connection: Connection) -> sessionmaker[Session]:
    # Commits inside the code under test release a SAVEPOINT; the outer transaction rolls back.
    return sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )


@pytest.fixture
def session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    with session_factory() as s:
        yield s


@pytest.fixture
def settings(tmp_path: Path, engine: Engine) -> Settings:
    return Settings(
        environment="test",
        data_dir=tmp_path,
        database_url=engine.url.render_as_string(hide_password=False),
        secret_key="test-secret-key-long-enough-for-hs256-and-hs512-0123456789abcdefghijklmnop",
        # The app's requests run in the test's rolled-back transaction; throttle hits, written
        # on a connection of their own, could not join it (tests/live/test_replicas_live.py
        # covers the database store).
        throttle_store="memory",
    )


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


@pytest.fixture
def app(settings: Settings, engine: Engine, connection: Connection):  # type: ignore[no-untyped-def]
    application = create_app(settings, engine=engine)
    serve_on(application, connection)
    return application


@pytest.fixture
def client(app) -> Iterator[SyncClient]:  # type: ignore[no-untyped-def]
    with SyncClient(app) as c:
        yield c


@pytest.fixture(autouse=True, scope="session")
def _fast_password_hashing() -> Iterator[None]:
    """argon2 at production cost makes every factory user take ~70 ms; tests don't need that."""
    from argon2 import PasswordHasher

    from api.auth import security

    original = security._hasher
    security._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    yield
    security._hasher = original
