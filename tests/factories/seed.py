"""Bulk seeding for the reader tests: observations and action items in one INSERT each
(executemany), so thousands of rows take well under a second on both databases."""

from __future__ import annotations

import math
import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, insert, select
from sqlalchemy.orm import Session

from geo.sensitive import generalise
from models import ActionItem, Area, Category, Moderation, Observation, Organization, Walk

# Inside tests.factories.SANDNES_SQUARE (Sandnes sentrum).
MIN_LON, MIN_LAT, MAX_LON, MAX_LAT = 5.728, 58.848, 5.742, 58.856
START = datetime(2026, 10, 1, 18, 0, tzinfo=UTC)
CATEGORIES = ("lighting", "vegetation", "graffiti", "feels_unsafe")
ITEM_STATUSES = ("new", "new", "triaged", "planned", "resolved")


@dataclass
class Seeded:
    observations: dict[uuid.UUID, dict[str, Any]] = field(default_factory=dict)
    items: dict[uuid.UUID, dict[str, Any]] = field(default_factory=dict)


def categories(session: Session, org: Organization) -> dict[str, Category]:
    rows = session.scalars(select(Category).where(Category.organization_id == org.id))
    return {c.code: c for c in rows}


def seed(
    session: Session,
    org: Organization,
    walk: Walk,
    area: Area | None,
    *,
    observations: int,
    items: int = 0,
    seed: int = 13,
    sensitive: str | None = None,
) -> Seeded:
    """``observations`` points one minute apart from START; every 7th of category
    ``sensitive`` when given (a category marked sensitive for the test)."""
    rnd = random.Random(seed)
    cats = categories(session, org)
    out = Seeded()
    rows = []
    now = datetime.now(UTC)
    for i in range(observations):
        oid = uuid.UUID(int=rnd.getrandbits(128), version=4)
        lon = MIN_LON + rnd.random() * (MAX_LON - MIN_LON)
        lat = MIN_LAT + rnd.random() * (MAX_LAT - MIN_LAT)
        code = sensitive if sensitive and i % 7 == 3 else CATEGORIES[i % len(CATEGORIES)]
        rec = START + timedelta(minutes=i)
        row = {
            "id": oid, "organization_id": org.id, "walk_id": walk.id,
            "category_id": cats[code].id, "severity": 1 + i % 3, "perceived_safety": i % 4,
            "note": f"note {i}", "recorded_at": rec, "received_at": now + timedelta(microseconds=i),
            "is_dark": i % 2 == 0, "area_id": area.id if area else None,
            "moderation": str(Moderation.accepted if i % 10 else Moderation.submitted),
            "body_hash": f"{i:064d}", "wkt": f"POINT({lon!r} {lat!r})",
            "general_wkt": "POINT({} {})".format(*generalise(lon, lat)),
        }  # fmt: skip
        rows.append(row)
        out.observations[oid] = {
            "lon": lon,
            "lat": lat,
            "category": code,
            "recorded_at": rec,
            **row,
        }
    if rows:
        session.execute(
            insert(Observation).values(
                location=func.ST_GeomFromText(bindparam("wkt"), 4326),
                # As capture sets it (api.observations.service.place).
                location_general=func.ST_GeomFromText(bindparam("general_wkt"), 4326),
            ),
            rows,
        )
    item_rows = []
    for i in range(items):
        iid = uuid.UUID(int=rnd.getrandbits(128), version=4)
        lon = MIN_LON + rnd.random() * (MAX_LON - MIN_LON)
        lat = MIN_LAT + rnd.random() * (MAX_LAT - MIN_LAT)
        status = ITEM_STATUSES[i % len(ITEM_STATUSES)]
        row = {
            "id": iid, "organization_id": org.id, "area_id": area.id if area else None,
            "category_id": cats["lighting"].id, "title": f"Item {i}", "observation_count": 1 + i % 4,
            "participant_groups": [], "priority_score": float(i % 100), "department": "lighting" if i % 2 else "parks",
            "owner_type": "municipality", "status": status, "version": 1,
            "created_at": START + timedelta(hours=i), "updated_at": START + timedelta(hours=i),
            "last_seen_at": START + timedelta(hours=i), "wkt": f"POINT({lon!r} {lat!r})",
        }  # fmt: skip
        item_rows.append(row)
        out.items[iid] = {"lon": lon, "lat": lat, **row}
    if item_rows:
        session.execute(
            insert(ActionItem).values(location=func.ST_GeomFromText(bindparam("wkt"), 4326)),
            item_rows,
        )
    session.flush()
    return out


def as_planners_see(data: Seeded, sensitive: str = "incident") -> dict[str, dict[str, Any]]:
    """The seeded observations as a planner sees them (sensitive places): those of
    the ``sensitive`` category at the centre of their resolution-8 cell, without a note."""
    out = {}
    for k, o in data.observations.items():
        if o["category"] == sensitive:
            lon, lat = generalise(o["lon"], o["lat"])
            o = {**o, "lon": lon, "lat": lat, "note": None}
        out[str(k)] = o
    return out


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 1 << z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y
