"""A seeded world for the /ogc and /tiles tests, and a personal access token for the planner."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy.orm import Session

from tests.api.conftest import World
from tests.api.ogc.seed import Seeded, categories, seed
from tests.client import SyncClient


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


@pytest.fixture
def readers(world: World, session: Session, client: SyncClient) -> Readers:
    cats = categories(session, world.org)
    cats["incident"].sensitive = True  # planners must not see these
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
    return Readers(world, data, client)
