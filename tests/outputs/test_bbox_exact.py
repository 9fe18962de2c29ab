"""A ``bbox`` answers exactly, on both databases and through every reader that takes one.

PostGIS keeps its index boxes in single precision (float4, rounded outwards), so ``geom &&
envelope`` alone also takes points up to one float4 step (about 5e-7 degrees of longitude and
4e-6 of latitude here) outside the box. The points below sit 1e-7 degrees inside and outside
each edge of a box whose edges are off the 6-decimal grid, well below that step.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from shapely.geometry import Polygon
from sqlalchemy import bindparam, func, insert
from sqlalchemy.orm import Session

from geo.sensitive import generalise
from models import ActionItem, Moderation, Observation
from tests.factories import make_area
from tests.factories.client import SyncClient
from tests.factories.seed import categories
from tests.factories.world import World

BOX = (5.7341235, 58.8512345, 5.7361235, 58.8532345)  # each edge 5e-7 off the 6-decimal grid
D = 1e-7
MID_X, MID_Y = (BOX[0] + BOX[2]) / 2, (BOX[1] + BOX[3]) / 2
INSIDE = {
    "west": (BOX[0] + D, MID_Y),
    "east": (BOX[2] - D, MID_Y),
    "south": (MID_X, BOX[1] + D),
    "north": (MID_X, BOX[3] - D),
    "on-the-east-edge": (BOX[2], MID_Y),  # the border belongs to the box
    "north-east-corner": (BOX[2] - D, BOX[3] - D),
}
OUTSIDE = {
    "west": (BOX[0] - D, MID_Y),
    "east": (BOX[2] + D, MID_Y),
    "south": (MID_X, BOX[1] - D),
    "north": (MID_X, BOX[3] + D),
    "north-east-corner": (BOX[2] + D, BOX[3] + D),
}
START = datetime(2026, 10, 1, 18, 0, tzinfo=UTC)


def _bbox(box: tuple[float, ...]) -> str:
    return ",".join(repr(v) for v in box)


def _observations(
    session: Session, world: World, points: dict[str, tuple[float, float]], category: str
) -> dict[str, str]:
    """One accepted observation at each point; name -> id."""
    cat = categories(session, world.org)[category]
    rows, ids = [], {}
    now = datetime.now(UTC)
    for i, (name, (lon, lat)) in enumerate(points.items()):
        oid = uuid.uuid4()
        ids[name] = str(oid)
        rows.append(
            {
                "id": oid, "organization_id": world.org.id, "walk_id": world.walk.id,
                "category_id": cat.id, "severity": 2, "perceived_safety": 1, "note": None,
                "recorded_at": START + timedelta(minutes=i),
                "received_at": now + timedelta(microseconds=i), "is_dark": True,
                "area_id": world.objects["area"].id, "moderation": str(Moderation.accepted),
                "body_hash": uuid.uuid4().hex * 2, "wkt": f"POINT({lon!r} {lat!r})",
                "general_wkt": "POINT({} {})".format(*generalise(lon, lat)),
            }
        )  # fmt: skip
    session.execute(
        insert(Observation).values(
            location=func.ST_GeomFromText(bindparam("wkt"), 4326),
            location_general=func.ST_GeomFromText(bindparam("general_wkt"), 4326),
        ),
        rows,
    )
    session.commit()
    return ids


def _items(
    session: Session, world: World, points: dict[str, tuple[float, float]]
) -> dict[str, str]:
    cat = categories(session, world.org)["lighting"]
    rows, ids = [], {}
    for i, (name, (lon, lat)) in enumerate(points.items()):
        iid = uuid.uuid4()
        ids[name] = str(iid)
        rows.append(
            {
                "id": iid, "organization_id": world.org.id, "area_id": world.objects["area"].id,
                "category_id": cat.id, "title": f"Item {name}", "observation_count": 1,
                "participant_groups": [], "priority_score": 1.0, "department": "lighting",
                "owner_type": "municipality", "status": "new", "version": 1,
                "created_at": START + timedelta(hours=i), "updated_at": START + timedelta(hours=i),
                "last_seen_at": START + timedelta(hours=i), "wkt": f"POINT({lon!r} {lat!r})",
            }
        )  # fmt: skip
    session.execute(
        insert(ActionItem).values(location=func.ST_GeomFromText(bindparam("wkt"), 4326)), rows
    )
    session.commit()
    return ids


def _ids(client: SyncClient, url: str, headers: dict[str, str], **params: Any) -> set[str]:
    r = client.get(url, headers=headers, params=params)
    assert r.status_code == 200, r.text
    body = json.loads(r.content)
    rows = body["features"] if "features" in body else body["items"]
    return {str(row["id"]) for row in rows}


@pytest.fixture
def edge_points(world: World, session: Session) -> dict[str, dict[str, str]]:
    points = {f"in-{k}": v for k, v in INSIDE.items()} | {f"out-{k}": v for k, v in OUTSIDE.items()}
    return {
        "observations": _observations(session, world, points, "lighting"),
        "items": _items(session, world, points),
    }


def _inside(ids: dict[str, str]) -> set[str]:
    return {v for k, v in ids.items() if k.startswith("in-")}


@pytest.mark.parametrize("who", ["planner", "coordinator"])
def test_ogc_items_bbox_is_exact(
    client: SyncClient, world: World, edge_points: dict[str, dict[str, str]], who: str
) -> None:
    h = world.headers(who)
    for collection, ids in (("observations", "observations"), ("action-items", "items")):
        got = _ids(client, f"/ogc/collections/{collection}/items", h, bbox=_bbox(BOX), limit=100)
        assert got == _inside(edge_points[ids]), collection


@pytest.mark.parametrize("who", ["planner", "coordinator"])
def test_map_feeds_bbox_is_exact(
    client: SyncClient, world: World, edge_points: dict[str, dict[str, str]], who: str
) -> None:
    h = world.headers(who)
    got = _ids(client, "/api/v1/map/observations", h, bbox=_bbox(BOX))
    assert got == _inside(edge_points["observations"])
    got = _ids(client, "/api/v1/map/action-items", h, bbox=_bbox(BOX))
    assert got == _inside(edge_points["items"])


def test_observation_list_bbox_is_exact(
    client: SyncClient, world: World, edge_points: dict[str, dict[str, str]]
) -> None:
    got = _ids(
        client, "/api/v1/observations", world.headers("coordinator"), bbox=_bbox(BOX), limit=100
    )
    assert got == _inside(edge_points["observations"])


def test_a_generalised_point_is_tested_exactly_too(
    client: SyncClient, world: World, session: Session
) -> None:
    """A planner is shown a sensitive observation at its generalised point, and a bbox is
    answered on that point: 1e-7 degrees beyond it is outside, even with the true point inside."""
    true = next(
        (MID_X + dx, MID_Y)
        for dx in (i * 0.0005 for i in range(-20, 21))
        if generalise(MID_X + dx, MID_Y)[0] - (MID_X + dx) > 1e-3
    )
    gx, gy = generalise(*true)
    oid = _observations(session, world, {"sensitive": true}, "incident")["sensitive"]
    west, south, north = true[0] - 0.001, min(true[1], gy) - 0.001, max(true[1], gy) + 0.001
    short = (west, south, gx - D, north)  # holds the true point, ends just before the shown one
    reaching = (west, south, gx + D, north)
    h = world.headers("planner")
    for url in ("/ogc/collections/observations/items", "/api/v1/map/observations"):
        assert oid not in _ids(client, url, h, bbox=_bbox(short)), url
        assert oid in _ids(client, url, h, bbox=_bbox(reaching)), url


def test_an_area_is_found_by_its_shape_not_its_bounding_box(
    client: SyncClient, world: World, session: Session
) -> None:
    """OGC API Features: a bbox selects the features whose geometry intersects it. A triangle's
    bounding box meets the box; the triangle itself does not."""
    triangle = Polygon([(5.70, 58.80), (5.72, 58.80), (5.70, 58.82)])
    area = make_area(session, world.org, "Trekanten", triangle)
    session.commit()
    h = world.headers("planner")
    corner = (5.7150, 58.8150, 5.7199, 58.8199)  # inside the bounding box, beyond the hypotenuse
    assert str(area.id) not in _ids(client, "/ogc/collections/areas/items", h, bbox=_bbox(corner))
    touching = (5.7050, 58.8050, 5.7199, 58.8199)
    assert str(area.id) in _ids(client, "/ogc/collections/areas/items", h, bbox=_bbox(touching))
