"""The rollups behind the default hotspot map: `hotspot_cell` (one row per cell with its top
category) and `hotspot_item_cell` (the open items per cell) equal a fresh GROUP BY after the
workflow opens and closes items, after merges, splits and regroups, and after a category turns
sensitive; and the default map read from them equals the same map summed per category from
`hotspot_total` and the observations. Both databases."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker
from sqlmodel import col

from api.hotspots import rollup as hotspot_rollup
from api.hotspots import service
from models import Category, HotspotByCell, HotspotItemCell
from tests.factories.action_items import Scene, at, patch
from tests.factories.client import SyncClient
from tests.factories.world import World


@pytest.fixture
def scene(client: SyncClient, world: World, session: Session) -> Scene:
    return Scene(client, world, session)


def _drift(session: Session, world: World) -> dict[str, Any]:
    session.expire_all()
    return {k: v for k, v in hotspot_rollup.drift(session, world.org.id).items() if v}


def _summed(session: Session, world: World, q: service.HotspotQuery) -> list[service.CellStats]:
    """The same map through the general path: every default category asked for by name and
    all of time as a period, so counts are summed per (cell, category) from `hotspot_day` and
    open items come from a scan of the observations of open items."""
    codes = session.scalars(
        select(col(Category.code)).where(
            col(Category.organization_id) == world.org.id,
            col(Category.code).not_in(hotspot_rollup.EXCLUDED_BY_DEFAULT),
        )
    ).all()
    since, until = datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)
    general = replace(q, categories=tuple(codes), since=since, until=until)
    return service.cell_stats(session, world.org.id, general)


def _same_map(session: Session, world: World) -> None:
    """The default map from the per-cell rollups equals the general path, for a coordinator
    (sensitive categories in place) and a planner (generalised), at three resolutions."""
    session.expire_all()
    for exact in (True, False):
        for res in (8, 9, 11):
            q = service.HotspotQuery(resolution=res, exact_places=exact)
            fast = service.cell_stats(session, world.org.id, q)
            assert fast == _summed(session, world, q), (exact, res)


def _open_items(session: Session, world: World) -> int:
    q = service.HotspotQuery(resolution=12, exact_places=True)
    return sum(s.open_items for s in service.cell_stats(session, world.org.id, q))


def test_workflow_opens_and_closes_items_on_the_map(scene: Scene, session: Session) -> None:
    world = scene.world
    a = scene.observe("lighting", at(-600, -100))
    scene.observe("lighting", at(-590, -100))
    b = scene.observe("graffiti", at(-300, 50))
    assert _drift(session, world) == {}
    assert _open_items(session, world) == 2
    _same_map(session, world)
    item = a["action_item_id"]
    for status, still_open in (("triaged", 2), ("resolved", 1), ("reopened", 2)):
        r = patch(scene, item, "coordinator", {"status": status})
        assert r.status_code == 200, r.text
        assert _drift(session, world) == {}, status
        assert _open_items(session, world) == still_open, status
    # A new report next to a resolved item reopens it, through the chunk path.
    assert patch(scene, item, "coordinator", {"status": "resolved"}).status_code == 200
    assert _open_items(session, world) == 1
    again = scene.observe("lighting", at(-595, -100))
    assert again["action_item_id"] == item
    assert _drift(session, world) == {}
    assert _open_items(session, world) == 2
    # Moderation empties the graffiti item: it closes and leaves the map.
    coord = world.headers("coordinator")
    r = scene.client.patch(
        f"/api/v1/observations/{b['id']}", headers=coord, json={"moderation": "hidden"}
    )
    assert r.status_code == 200, r.text
    assert _drift(session, world) == {}
    assert _open_items(session, world) == 1
    _same_map(session, world)


def test_merge_split_and_regroup_keep_the_item_cells_exact(scene: Scene, session: Session) -> None:
    world = scene.world
    rng = random.Random(24)
    seen = [
        scene.observe(
            rng.choice(["lighting", "graffiti", "vegetation"]),
            at(rng.uniform(-900, -100), rng.uniform(-400, 400)),
            severity=rng.randint(1, 3),
        )
        for _ in range(30)
    ]
    assert _drift(session, world) == {}
    lights = sorted({o["action_item_id"] for o in seen if o["category"] == "lighting"})
    assert len(lights) >= 2
    r = scene.client.post(
        f"/api/v1/action-items/{lights[0]}/merge", headers=scene.h, json={"other_id": lights[1]}
    )
    assert r.status_code == 200, r.text
    assert _drift(session, world) == {}
    merged = [o["id"] for o in seen if o["action_item_id"] in lights[:2]]
    r = scene.client.post(
        f"/api/v1/action-items/{lights[0]}/split",
        headers=scene.h,
        json={"observation_ids": merged[:1]},
    )
    assert r.status_code == 201, r.text
    assert _drift(session, world) == {}
    _same_map(session, world)
    r = scene.client.post(f"/api/v1/areas/{scene.west.id}/regroup", headers=scene.h)
    assert r.status_code == 200, r.text
    assert _drift(session, world) == {}
    _same_map(session, world)


def test_a_category_turning_sensitive_moves_it_off_the_cell_rows(
    scene: Scene, session: Session
) -> None:
    world = scene.world
    rng = random.Random(7)
    for _ in range(12):
        scene.observe(rng.choice(["lighting", "graffiti"]), at(rng.uniform(-900, -100), 0))
    r = scene.client.patch(
        "/api/v1/categories/graffiti",
        headers=world.headers("admin"),
        json={"sensitive": True, "published": False},
    )
    assert r.status_code == 200, r.text
    assert _drift(session, world) == {}
    _same_map(session, world)


def test_backfill_builds_the_cell_rollups_once(
    scene: Scene, session: Session, session_factory: sessionmaker[Session]
) -> None:
    world = scene.world
    rng = random.Random(3)
    for _ in range(15):
        scene.observe(rng.choice(["lighting", "graffiti"]), at(rng.uniform(-900, -100), 0))
    for table in (HotspotByCell, HotspotItemCell):
        session.execute(delete(table).where(col(table.organization_id) == world.org.id))
    session.commit()
    assert _drift(session, world) != {}
    assert hotspot_rollup.backfill(session_factory) == 0
    assert _drift(session, world) == {}
    assert hotspot_rollup.backfill(session_factory) == 0
    assert _drift(session, world) == {}
