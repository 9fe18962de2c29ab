"""The action-list scene: two areas side by side, positions in metres, careful PATCHes."""

from __future__ import annotations

import math
import uuid
from datetime import timedelta
from typing import Any

import httpx
from shapely.geometry import Polygon
from sqlalchemy.orm import Session

from models import utcnow
from tests.factories import make_area, make_walk
from tests.factories.client import SyncClient
from tests.factories.world import World

LAT0, LON0 = 58.9000, 5.8500  # clear of the world fixture's Sentrum area
M_LAT = 1 / 111_320
M_LON = 1 / (111_320 * math.cos(math.radians(LAT0)))
NOW = utcnow().replace(microsecond=0)


def at(east_m: float, north_m: float) -> list[float]:
    """A position east/north of (LON0, LAT0) in metres."""
    return [round(LON0 + east_m * M_LON, 7), round(LAT0 + north_m * M_LAT, 7)]


class Scene:
    def __init__(self, client: SyncClient, world: World, session: Session) -> None:
        self.client, self.world, self.session = client, world, session
        # West and East share the meridian LON0; both ~1 km wide.
        self.west = make_area(
            session,
            world.org,
            "Vest",
            Polygon([at(-1000, -500), at(0, -500), at(0, 500), at(-1000, 500)]),
        )
        self.east = make_area(
            session,
            world.org,
            "Øst",
            Polygon([at(0, -500), at(1000, -500), at(1000, 500), at(0, 500)]),
        )
        self.walk = make_walk(
            session, world.org, area=self.west, starts_at=NOW - timedelta(hours=2)
        )
        session.commit()
        self.h = world.headers("coordinator")

    def patch_item(
        self, item_id: Any, headers: dict[str, str], json: dict[str, Any]
    ) -> httpx.Response:
        """PATCH with the If-Match of the item as it is now (the API requires one)."""
        if "If-Match" not in headers:
            r = self.client.get(f"/api/v1/action-items/{item_id}", headers=self.h)
            headers = {**headers, "If-Match": r.headers.get("ETag", '"none"')}
        return self.client.patch(f"/api/v1/action-items/{item_id}", headers=headers, json=json)

    def observe(self, category: str, pos: list[float], **kw: Any) -> dict[str, Any]:
        body = {
            "walk_id": str(self.walk.id),
            "category": category,
            "location": {"type": "Point", "coordinates": pos},
            "severity": kw.pop("severity", 2),
            "perceived_safety": kw.pop("perceived_safety", 1),
            "recorded_at": (NOW - timedelta(minutes=30)).isoformat(),
            **kw,
        }
        headers = kw.pop("headers", None) or self.h
        r = self.client.put(f"/api/v1/observations/{uuid.uuid4()}", headers=headers, json=body)
        assert r.status_code == 201, r.text
        data: dict[str, Any] = r.json()
        return data

    def item(self, item_id: str) -> dict[str, Any]:
        r = self.client.get(f"/api/v1/action-items/{item_id}", headers=self.h)
        assert r.status_code == 200, r.text
        data: dict[str, Any] = r.json()
        return data

    def listing(self, area: Any) -> dict[str, Any]:
        data: dict[str, Any] = self.client.get(
            f"/api/v1/areas/{area.id}/action-list", headers=self.h
        ).json()
        return data


def read(scene: Scene, item_id: str, who: str = "coordinator") -> httpx.Response:
    r = scene.client.get(f"/api/v1/action-items/{item_id}", headers=scene.world.headers(who))
    assert r.status_code == 200, r.text
    return r


def patch(scene: Scene, item_id: str, who: str, body: dict[str, Any]) -> httpx.Response:
    """A PATCH the way a careful client sends it: with the ETag it just read as If-Match."""
    tag = read(scene, item_id, who).headers["ETag"]
    return scene.client.patch(
        f"/api/v1/action-items/{item_id}",
        headers={**scene.world.headers(who), "If-Match": tag},
        json=body,
    )
