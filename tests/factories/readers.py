"""Seeded worlds for the /ogc and /tiles tests.

``readers`` is built once per module and backend (the tests that use it only read), inside
a transaction that is rolled back at the end; ``fresh_readers`` is the per-test version for
tests that write.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from api.app import create_app
from api.settings import Settings
from tests.factories.client import SyncClient
from tests.factories.databases import serve_on
from tests.factories.seed import Seeded, categories, seed
from tests.factories.world import World, build_world


@dataclass
class Readers:
    world: World
    data: Seeded
    client: SyncClient

    def headers(self, who: str = "planner") -> dict[str, str]:
        return self.world.headers(who)

    def get(self, url: str, who: str = "planner", status: int = 200, **kw: Any) -> Any:
        r = self.client.get(url, headers=kw.pop("headers", self.headers(who)), **kw)
        assert r.status_code == status, r.text
        return r


N_OBSERVATIONS = 60
N_ITEMS = 12


def _seed(session: Session, world: World) -> Seeded:
    # Not sensitive here (it is by default): these tests are about OGC API, and sensitive
    # places have tests of their own (tests/privacy/test_sensitive_outputs.py and
    # test_planners_see_sensitive_observations_generalised).
    categories(session, world.org)["incident"].sensitive = False
    data = seed(
        session,
        world.org,
        world.walk,
        world.objects["area"],
        observations=N_OBSERVATIONS,
        items=N_ITEMS,
        sensitive="incident",
    )
    session.commit()
    return data


@pytest.fixture
def fresh_readers(world: World, session: Session, client: SyncClient) -> Readers:
    return Readers(world, _seed(session, world), client)


@pytest.fixture(scope="module")
def readers(engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Readers]:
    with engine.connect() as conn:
        trans = conn.begin()
        factory = sessionmaker(
            bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False
        )
        settings = Settings(
            environment="test",
            data_dir=tmp_path_factory.mktemp("readers"),
            database_url=engine.url.render_as_string(hide_password=False),
            secret_key="test-secret-key-long-enough-for-hs256-and-hs512-0123456789abcdefghijklmnop",
        )
        app = create_app(settings, engine=engine)
        serve_on(app, conn)
        with factory() as s:
            world = build_world(app, s)
            data = _seed(s, world)
        with SyncClient(app) as client:
            yield Readers(world, data, client)
        trans.rollback()
