"""Fixtures: every database test runs on SpatiaLite and on PostGIS, each in a rolled-back transaction.

Set ``SAFEWALK_REQUIRE_POSTGIS=1`` (CI does) to turn a missing PostgreSQL into a failure
instead of a skip. ``SAFEWALK_TEST_POSTGRES_URL`` points at a server where we may create
databases (default: postgres on 127.0.0.1).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker

from api.app import create_app
from api.core.db import create_db_engine
from api.settings import Settings
from tests.factories.client import SyncClient
from tests.factories.databases import BACKENDS, DatabaseFactory, _require_postgis, serve_on

# Fixtures every folder of tests uses: the API tests' world (two organizations, every role,
# two walks) and the seeded world of the readers (/ogc, /tiles).
pytest_plugins = ["tests.factories.world", "tests.factories.readers"]


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    if name == "postgis":
        _require_postgis()
    return name


class _Backends:
    """The databases and the shared engine of each backend, kept for the whole session.

    ``backend`` is a parametrized session fixture, so pytest tears down everything that
    depends on it whenever the next test has the other backend. Under ``--dist loadgroup``
    a worker alternates between the two (xdist hands out the largest groups first, whatever
    their backend); every switch would drop the databases and migrate a new template. Kept
    here, each backend's template is migrated once per process."""

    def __init__(self, tmp_path_factory: pytest.TempPathFactory) -> None:
        self._tmp = tmp_path_factory
        self.factories: dict[str, DatabaseFactory] = {}
        self.engines: dict[str, Engine] = {}

    def factory(self, backend: str) -> DatabaseFactory:
        if backend not in self.factories:
            self.factories[backend] = DatabaseFactory(backend, self._tmp.mktemp(backend))
        return self.factories[backend]

    def engine(self, backend: str) -> Engine:
        if backend not in self.engines:
            self.engines[backend] = create_db_engine(self.factory(backend).migrated_url())
        return self.engines[backend]

    def close(self) -> None:
        for eng in self.engines.values():
            eng.dispose()
        for factory in self.factories.values():
            factory.drop_all()


@pytest.fixture(scope="session")
def _backends(tmp_path_factory: pytest.TempPathFactory) -> Iterator[_Backends]:
    kept = _Backends(tmp_path_factory)
    yield kept
    kept.close()


@pytest.fixture(scope="session")
def databases(backend: str, _backends: _Backends) -> DatabaseFactory:
    return _backends.factory(backend)


@pytest.fixture
def fresh_db_url(databases: DatabaseFactory) -> str:
    """An empty database of the current backend, for tests that migrate or commit for real."""
    return databases.new_url()


@pytest.fixture
def migrated_db_url(databases: DatabaseFactory) -> str:
    """A database of the current backend at the latest schema, of this test's own: for tests
    that commit for real (live servers, concurrent requests, several engines)."""
    return databases.migrated_url()


@pytest.fixture(scope="session")
def engine(backend: str, _backends: _Backends) -> Engine:
    """The shared test database of this backend, a copy of the migrated template."""
    return _backends.engine(backend)


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
        # Nor can the notice sender's thread share the test's connection (a test that runs the
        # app's lifespan would start it): tests call api.jobs.notify.run_once themselves.
        notify_seconds=0,
    )


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


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under pytest-xdist (``make test``: ``-n 2 --dist loadgroup``) a test that shares a
    module-scoped fixture (a browser, a live server, a seeded world) stays on one worker with
    its module, per backend, so that fixture is built once; every other test goes wherever a
    worker is free."""
    for item in items:
        info = getattr(item, "_fixtureinfo", None)
        if info is None:
            continue
        shared = any(defs[-1].scope == "module" for defs in info.name2fixturedefs.values() if defs)
        if not shared:
            continue
        callspec = getattr(item, "callspec", None)
        backend = callspec.params.get("backend", "") if callspec is not None else ""
        item.add_marker(pytest.mark.xdist_group(f"{item.module.__name__}:{backend}"))  # type: ignore[attr-defined]
