"""Observations for tests: request bodies and positions near the test area."""

from __future__ import annotations

import math
import uuid
from datetime import timedelta
from typing import Any

from models import utcnow
from tests.factories.client import SyncClient
from tests.factories.world import World

NOW = utcnow().replace(microsecond=0)


def obs_body(world: World, **kw: Any) -> dict[str, Any]:
    body = {
        "walk_id": str(world.walk.id),
        "category": "lighting",
        "location": {"type": "Point", "coordinates": [5.7352, 58.8517]},
        "accuracy_m": 6.5,
        "severity": 2,
        "perceived_safety": 1,
        "note": "Lamp post out along the path",
        "recorded_at": (NOW - timedelta(minutes=5)).isoformat(),
    }
    body.update(kw)
    return body


INSIDE = [5.7352, 58.8517]
M_LAT = 1 / 111_320
M_LON = 1 / (111_320 * math.cos(math.radians(INSIDE[1])))


def near(east_m: float, north_m: float, base: list[float] = INSIDE) -> list[float]:
    return [round(base[0] + east_m * M_LON, 7), round(base[1] + north_m * M_LAT, 7)]


def point(coords: list[float]) -> dict[str, Any]:
    return {"type": "Point", "coordinates": coords}


def observe(client: SyncClient, world: World, **kw: Any) -> dict[str, Any]:
    oid = str(uuid.uuid4())
    res = client.put(
        f"/api/v1/observations/{oid}",
        headers=world.headers("participant"),
        json=obs_body(world, **kw),
    )
    assert res.status_code == 201, res.text
    return dict(res.json())
