"""Observations in volume for the hotspot tests, and the hotspot map as a client reads it."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from shapely.geometry import Point
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from api.core import spatial
from api.hotspots import rollup as hotspot_rollup
from geo.hotspots import cell_r15
from models import (
    ActionItem,
    ActionStatus,
    Category,
    Moderation,
    Observation,
    Organization,
    Walk,
    utcnow,
)
from tests.factories import make_walk
from tests.factories.client import SyncClient
from tests.factories.world import World

URL = "/api/v1/map/hotspots"
GEOJSON = "application/geo+json"
NOW = utcnow().replace(microsecond=0)


class Store:
    """Observations straight through the ORM, for volume (one transaction per call)."""

    def __init__(self, session: Session, org: Organization) -> None:
        self.session = session
        self.org = org
        self.walk: Walk = make_walk(session, org, starts_at=NOW - timedelta(days=30))
        self.categories = {
            c.code: c.id
            for c in session.scalars(
                select(Category).where(col(Category.organization_id) == org.id)
            )
        }
        session.commit()

    def observation(self, lat: float | None, lon: float | None, **kw: Any) -> Observation:
        where = (lat, lon) if lat is not None and lon is not None else None
        obs = Observation(
            id=uuid.uuid4(),
            organization_id=self.org.id,
            walk_id=self.walk.id,
            category_id=self.categories[kw.pop("category", "lighting")],
            location=spatial.to_db(Point(where[1], where[0])) if where else None,
            h3_r15=cell_r15(*where) if where else None,
            severity=kw.pop("severity", 2),
            recorded_at=kw.pop("recorded_at", NOW - timedelta(hours=1)),
            moderation=kw.pop("moderation", Moderation.accepted),
            body_hash=uuid.uuid4().hex * 2,
            **kw,
        )
        if where:
            hotspot_rollup.set_cells(obs, *where)
        return obs

    def save(self, rows: list[Observation]) -> None:
        self.session.add_all(rows)
        self.session.flush()
        hotspot_rollup.sync(self.session, [o.id for o in rows])
        self.session.commit()

    def add(self, points: list[tuple[float, float]], **kw: Any) -> list[Observation]:
        rows = [self.observation(lat, lon, **dict(kw)) for lat, lon in points]
        self.save(rows)
        return rows

    def item(self, status: ActionStatus, observations: list[Observation]) -> ActionItem:
        first = observations[0]
        item = ActionItem(
            organization_id=self.org.id,
            category_id=first.category_id,
            title="Dark path",
            location=first.location,
            status=status,
            observation_count=len(observations),
        )
        self.session.add(item)
        self.session.flush()
        for o in observations:
            o.action_item_id = item.id
        # Written behind grouping's back: its open-item cells as grouping would keep them.
        hotspot_rollup.items_changed(self.session, [item.id])
        self.session.commit()
        return item


def hotspots(
    client: SyncClient, world: World, who: str = "planner", **params: Any
) -> dict[str, Any]:
    r = client.get(URL, headers=world.headers(who), params=params)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith(GEOJSON)
    doc: dict[str, Any] = r.json()
    return doc
