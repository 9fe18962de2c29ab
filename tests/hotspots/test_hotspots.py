"""GET /api/v1/map/hotspots: bins equal `h3.latlng_to_cell`, Gi* classes on top, filters,
organization walls, RFC 7946 structure and who may ask. Observations stored straight through
the ORM go through `hotspot_rollup.sync`, as every service path does."""

from __future__ import annotations

import math
import random
import uuid
from collections import Counter
from datetime import timedelta
from typing import Any

import h3
import pytest
from shapely.geometry import LinearRing
from sqlalchemy.orm import Session

from geo.hotspots import MIN_CELLS, gi_star
from models import (
    ActionStatus,
    Moderation,
)
from tests.factories import make_area, make_walk
from tests.factories.client import SyncClient
from tests.factories.geojson_rules import collection_errors
from tests.factories.hotspots import GEOJSON, NOW, URL, Store, hotspots
from tests.factories.world import World

# Clear of the world's Sentrum area (5.728-5.742E, 58.848-58.856N), so nothing here gets an area.
LAT0, LON0 = 58.8700, 5.7000
M_LAT = 1 / 111_320
M_LON = 1 / (111_320 * math.cos(math.radians(LAT0)))
CLASSES = {
    "hot_99", "hot_95", "hot_90", "cold_99", "cold_95", "cold_90", "not_significant",
    "insufficient_data",
}  # fmt: skip
PROPERTIES = {
    "h3", "resolution", "count", "score", "open_items", "dark_share", "top_category", "gi_z",
    "gi_p", "hotspot_class",
}  # fmt: skip


def offset(
    east_m: float, north_m: float, lat: float = LAT0, lon: float = LON0
) -> tuple[float, float]:
    """(lat, lon) east/north of a point in metres."""
    return lat + north_m * M_LAT, lon + east_m * M_LON


def centre(res: int, lat: float = LAT0, lon: float = LON0) -> tuple[float, float]:
    """The centre of the resolution-`res` cell around (lat, lon): a cluster there stays inside."""
    c_lat, c_lon = h3.cell_to_latlng(h3.latlng_to_cell(lat, lon, res))
    return float(c_lat), float(c_lon)


def cell_at(lat: float, lon: float, res: int) -> str:
    return str(h3.latlng_to_cell(lat, lon, res))


@pytest.fixture
def store(session: Session, world: World) -> Store:
    return Store(session, world.org)


def scatter(
    rng: random.Random, n: int, radius_m: float, lat: float = LAT0, lon: float = LON0
) -> list[tuple[float, float]]:
    """n points uniform in a disc of radius_m around (lat, lon)."""
    out = []
    for _ in range(n):
        r = radius_m * math.sqrt(rng.random())
        a = rng.uniform(0, 2 * math.pi)
        out.append(offset(r * math.cos(a), r * math.sin(a), lat, lon))
    return out


def counts_of(doc: dict[str, Any]) -> dict[str, int]:
    return {f["id"]: f["properties"]["count"] for f in doc["features"]}


def by_cell(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["id"]: f["properties"] for f in doc["features"]}


# ------------------------------------------------------------------------------ binning


def test_database_binning_equals_h3_in_python(
    client: SyncClient, world: World, store: Store, session: Session
) -> None:
    rng = random.Random(20261215)
    points = scatter(rng, 500, 2_500)
    codes = ["lighting", "graffiti", "isolation", "walkway"]
    rows = [
        store.observation(
            lat,
            lon,
            category=rng.choice(codes),
            severity=rng.randint(1, 3),
            is_dark=rng.choice([True, False, None]),
        )
        for lat, lon in points
    ]
    store.save(rows)
    code_of = {cid: code for code, cid in store.categories.items()}
    for res in (5, 7, 9, 11, 12):
        parent = [h3.latlng_to_cell(lat, lon, res) for lat, lon in points]
        expected = Counter(parent)
        doc = hotspots(client, world, resolution=res)
        assert counts_of(doc) == expected, res
        assert doc["resolution"] == res
        assert doc["cell_count"] == len(expected)
        assert {f["properties"]["resolution"] for f in doc["features"]} == {res}
        # The other figures, recomputed from the rows in Python.
        for cell, p in by_cell(doc).items():
            mine = [o for o, c in zip(rows, parent, strict=True) if c == cell]
            assert p["score"] == sum(o.severity for o in mine)
            known = [o.is_dark for o in mine if o.is_dark is not None]
            expected_share = sum(known) / len(known) if known else None
            assert p["dark_share"] == pytest.approx(expected_share)
            per_code = Counter(code_of[o.category_id] for o in mine)
            top = max(per_code.values())
            assert p["top_category"] == min(c for c, n in per_code.items() if n == top)
            assert p["open_items"] == 0


def test_default_resolution_is_9(client: SyncClient, world: World, store: Store) -> None:
    store.add([(LAT0, LON0)])
    doc = hotspots(client, world)
    assert doc["resolution"] == 9
    assert list(counts_of(doc)) == [cell_at(LAT0, LON0, 9)]


# ------------------------------------------------------------------------------ Gi*


def test_dense_cluster_is_hot_and_z_is_gi_star_of_the_counts(
    client: SyncClient, world: World, store: Store
) -> None:
    rng = random.Random(7)
    c_lat, c_lon = centre(9)
    store.add(scatter(rng, 200, 50, c_lat, c_lon) + scatter(rng, 600, 2_500))
    doc = hotspots(client, world, resolution=9)
    cells = by_cell(doc)
    cluster = h3.latlng_to_cell(c_lat, c_lon, 9)
    assert len(cells) >= MIN_CELLS
    assert cells[cluster]["count"] >= 200
    assert cells[cluster]["hotspot_class"] in {"hot_99", "hot_95"}
    # The hottest come first: the cluster's cell or a neighbour whose ring holds it.
    assert doc["features"][0]["id"] in h3.grid_disk(cluster, 1)

    expected = gi_star({cell: float(p["count"]) for cell, p in cells.items()})
    for cell, p in cells.items():
        assert p["gi_z"] == pytest.approx(expected[cell].z, rel=1e-9, abs=1e-12), cell
        assert p["gi_p"] == pytest.approx(expected[cell].p, rel=1e-9, abs=1e-300), cell
        assert p["hotspot_class"] == expected[cell].hotspot_class, cell
    # Far from the cluster, random noise is not significant.
    far = [p for cell, p in cells.items() if h3.grid_distance(cell, cluster) > 3]
    share = sum(p["hotspot_class"] == "not_significant" for p in far) / len(far)
    assert share >= 0.9


def test_sorted_by_z_descending_then_id(client: SyncClient, world: World, store: Store) -> None:
    store.add(scatter(random.Random(3), 300, 2_000))
    doc = hotspots(client, world, resolution=10)
    keys = [(-f["properties"]["gi_z"], f["id"]) for f in doc["features"]]
    assert len(keys) >= MIN_CELLS
    assert keys == sorted(keys)


def test_fewer_cells_than_minimum_is_insufficient_data(
    client: SyncClient, world: World, store: Store
) -> None:
    rng = random.Random(11)
    store.add(scatter(rng, 60, 30, *centre(9)) + scatter(rng, 5, 2_000))
    doc = hotspots(client, world, resolution=9)
    assert 1 < doc["cell_count"] < MIN_CELLS
    for f in doc["features"]:
        assert f["properties"]["hotspot_class"] == "insufficient_data"
        assert f["properties"]["gi_z"] is None
        assert f["properties"]["gi_p"] is None
    # With no z to sort by: cell id order.
    assert [f["id"] for f in doc["features"]] == sorted(counts_of(doc))


def test_no_observations_is_an_empty_collection(client: SyncClient, world: World) -> None:
    doc = hotspots(client, world)
    assert doc["features"] == []
    assert doc["cell_count"] == 0


# ------------------------------------------------------------------------------ cell figures


def test_cell_figures(client: SyncClient, world: World, store: Store) -> None:
    a_lat, a_lon = centre(9)
    b_lat, b_lon = centre(9, *offset(2_000, 0))
    lighting = store.add([(a_lat, a_lon)] * 3, category="lighting", severity=3, is_dark=True)
    vegetation = store.add([(a_lat, a_lon)] * 2, category="vegetation", severity=1, is_dark=False)
    store.add([(a_lat, a_lon)], category="graffiti", severity=2)  # darkness unknown
    store.item(ActionStatus.new, lighting[:2])
    store.item(ActionStatus.resolved, lighting[2:])
    store.item(ActionStatus.in_progress, vegetation)
    # A tie on the count goes to the first code in alphabetical order.
    store.add([(b_lat, b_lon)] * 2, category="walkway")
    store.add([(b_lat, b_lon)] * 2, category="graffiti")

    cells = by_cell(hotspots(client, world))
    a = cells[cell_at(a_lat, a_lon, 9)]
    assert (a["count"], a["score"], a["open_items"]) == (6, 3 * 3 + 2 * 1 + 2, 2)
    assert a["dark_share"] == pytest.approx(3 / 5)
    assert a["top_category"] == "lighting"
    b = cells[cell_at(b_lat, b_lon, 9)]
    assert (b["count"], b["score"], b["open_items"], b["dark_share"]) == (4, 8, 0, None)
    assert b["top_category"] == "graffiti"


def test_an_item_counts_once_in_every_cell_it_touches(
    client: SyncClient, world: World, store: Store
) -> None:
    a = centre(9)
    b = centre(9, *offset(1_000, 0))
    # A merge may leave one item with observations of several categories.
    members = store.add([a, a, a], category="lighting") + store.add([b], category="graffiti")
    store.item(ActionStatus.reopened, members)
    cells = by_cell(hotspots(client, world))
    assert cells[cell_at(*a, 9)]["open_items"] == 1
    assert cells[cell_at(*b, 9)]["open_items"] == 1
    # Observations left out by the filter do not bring their item along.
    lighting = by_cell(hotspots(client, world, category="lighting"))
    assert {c: p["open_items"] for c, p in lighting.items()} == {cell_at(*a, 9): 1}
    graffiti = by_cell(hotspots(client, world, category="graffiti"))
    assert {c: p["open_items"] for c, p in graffiti.items()} == {cell_at(*b, 9): 1}


def test_open_items_from_observations_sent_through_the_api(
    client: SyncClient, world: World, session: Session
) -> None:
    walk = make_walk(session, world.org, starts_at=NOW - timedelta(hours=2))
    session.commit()
    lat, lon = centre(9, 58.852, 5.735)  # inside the world's Sentrum area: grouped into items
    items = set()
    for i in range(3):
        body = {
            "walk_id": str(walk.id),
            "category": "lighting",
            "location": {"type": "Point", "coordinates": [lon + i * 5 * M_LON, lat]},
            "severity": 3,
            "recorded_at": (NOW - timedelta(minutes=30)).isoformat(),
        }
        r = client.put(
            f"/api/v1/observations/{uuid.uuid4()}", headers=world.headers("coordinator"), json=body
        )
        assert r.status_code == 201, r.text
        items.add(r.json()["action_item_id"])
    assert len(items) == 1
    assert None not in items

    cell = by_cell(hotspots(client, world))[cell_at(lat, lon, 9)]
    assert (cell["count"], cell["score"], cell["open_items"]) == (3, 9, 1)


# ------------------------------------------------------------------------------ filters


def test_positive_place_only_on_request(client: SyncClient, world: World, store: Store) -> None:
    good = centre(9, *offset(1_000, 0))
    bad = centre(9)
    store.add([good] * 3, category="positive_place")
    store.add([bad] * 2, category="feels_unsafe")

    assert set(counts_of(hotspots(client, world))) == {cell_at(*bad, 9)}
    only = hotspots(client, world, category="positive_place")
    assert counts_of(only) == {cell_at(*good, 9): 3}
    assert by_cell(only)[cell_at(*good, 9)]["top_category"] == "positive_place"
    both = hotspots(client, world, category=["positive_place", "feels_unsafe"])
    assert counts_of(both) == {cell_at(*good, 9): 3, cell_at(*bad, 9): 2}


def test_unknown_category_is_422(client: SyncClient, world: World) -> None:
    r = client.get(URL, headers=world.headers("planner"), params={"category": "unicorns"})
    assert r.status_code == 422
    assert r.json()["errors"][0]["loc"] == ["query", "category"]


def test_since_and_until_filter_on_recorded_at(
    client: SyncClient, world: World, store: Store
) -> None:
    days = (10, 5, 1)
    places = {d: centre(9, *offset(700 * d, 0)) for d in days}
    for d in days:
        store.add([places[d]], recorded_at=NOW - timedelta(days=d))
    cells = {d: cell_at(*places[d], 9) for d in days}

    def shown(**params: Any) -> set[str]:
        return set(counts_of(hotspots(client, world, **params)))

    assert shown() == set(cells.values())
    assert shown(since=(NOW - timedelta(days=6)).isoformat()) == {cells[5], cells[1]}
    assert shown(until=(NOW - timedelta(days=3)).isoformat()) == {cells[10], cells[5]}
    # since is inclusive, until exclusive.
    at5 = (NOW - timedelta(days=5)).isoformat()
    assert shown(since=at5, until=(NOW - timedelta(days=2)).isoformat()) == {cells[5]}
    assert shown(until=at5) == {cells[10]}


@pytest.mark.parametrize(
    ("params", "loc"),
    [
        pytest.param({"since": "2025-01-01T00:00:00"}, ["query", "since"], id="naive-since"),
        pytest.param({"until": "yesterday"}, ["query", "until"], id="not-a-time"),
        pytest.param(
            {"since": "2025-02-01T00:00:00Z", "until": "2025-01-01T00:00:00Z"},
            ["query", "until"],
            id="until-before-since",
        ),
        pytest.param({"area_id": "nope"}, ["query", "area_id"], id="area-not-a-uuid"),
    ],
)
def test_bad_filters_are_422(
    client: SyncClient, world: World, params: dict[str, str], loc: list[str]
) -> None:
    r = client.get(URL, headers=world.headers("planner"), params=params)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["errors"][0]["loc"] == loc


def test_area_filter(client: SyncClient, world: World, store: Store, session: Session) -> None:
    area = world.objects["area"]
    inside = centre(9, 58.852, 5.735)
    outside = centre(9)
    store.add([inside] * 2, area_id=area.id)
    store.add([outside] * 3)
    assert counts_of(hotspots(client, world, area_id=str(area.id))) == {cell_at(*inside, 9): 2}

    foreign = make_area(session, world.other_org, "Elsewhere")
    session.commit()
    r = client.get(URL, headers=world.headers("planner"), params={"area_id": str(foreign.id)})
    assert r.status_code == 404


@pytest.mark.parametrize(
    "moderation",
    [m for m in Moderation if m != Moderation.accepted],
    ids=[m.value for m in Moderation if m != Moderation.accepted],
)
def test_only_accepted_observations_count(
    client: SyncClient, world: World, store: Store, moderation: Moderation
) -> None:
    accepted = centre(9)
    other = centre(9, *offset(1_000, 0))
    store.add([accepted])
    store.add([other] * 5, moderation=moderation)
    assert counts_of(hotspots(client, world)) == {cell_at(*accepted, 9): 1}


def test_observations_without_location_are_left_out(
    client: SyncClient, world: World, store: Store, session: Session
) -> None:
    store.add([centre(9)])
    store.save([store.observation(None, None)])
    assert sum(counts_of(hotspots(client, world)).values()) == 1


def test_another_organizations_observations_never_count(
    client: SyncClient, world: World, store: Store, session: Session
) -> None:
    mine = centre(9)
    theirs = Store(session, world.other_org)
    theirs.add([mine] * 4)
    theirs.add([centre(9, *offset(1_000, 0))] * 4)
    store.add([mine])
    assert counts_of(hotspots(client, world)) == {cell_at(*mine, 9): 1}
    assert sum(counts_of(hotspots(client, world, who="foreign_admin")).values()) == 8


# ------------------------------------------------------------------------------ structure


def _decimals(x: float) -> int:
    text = repr(float(x))
    return len(text.split(".")[1]) if "." in text and "e" not in text else 0


def test_rfc7946_structure(client: SyncClient, world: World, store: Store) -> None:
    store.add(scatter(random.Random(5), 120, 1_500))
    r = client.get(URL, headers=world.headers("planner"), params={"resolution": 10})
    assert r.status_code == 200
    assert r.headers["content-type"] == GEOJSON
    doc = r.json()
    assert collection_errors(doc) == []
    assert set(doc) == {"type", "features", "resolution", "cell_count", "method"}
    assert "Gi*" in doc["method"]
    assert "Benjamini-Hochberg" in doc["method"]
    assert doc["cell_count"] == len(doc["features"]) >= MIN_CELLS
    for f in doc["features"]:
        p = f["properties"]
        assert set(f) == {"type", "id", "geometry", "properties"}
        assert isinstance(f["id"], str)
        assert f["id"] == p["h3"]
        assert h3.is_valid_cell(f["id"])
        assert h3.get_resolution(f["id"]) == 10
        assert set(p) == PROPERTIES
        assert p["hotspot_class"] in CLASSES
        assert isinstance(p["gi_z"], float)
        assert 0.0 <= p["gi_p"] <= 1.0
        assert f["geometry"]["type"] == "Polygon"
        (ring,) = f["geometry"]["coordinates"]
        assert len(ring) == 7
        assert ring[0] == ring[-1]
        assert LinearRing(ring).is_ccw
        assert all(_decimals(v) <= 6 for pos in ring for v in pos)
        # [lon, lat]: the cell's own centre lies inside its outline, in that axis order.
        lat, lon = h3.cell_to_latlng(f["id"])
        assert min(x for x, _ in ring) < lon < max(x for x, _ in ring)
        assert min(y for _, y in ring) < lat < max(y for _, y in ring)


# ------------------------------------------------------------------------------ input and roles


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("13", id="above-12"),
        pytest.param("4", id="below-5"),
        pytest.param("15", id="above-12-the-old-maximum"),
        pytest.param("-1", id="negative"),
        pytest.param("nine", id="not-a-number"),
    ],
)
def test_resolution_out_of_range_is_422(client: SyncClient, world: World, value: str) -> None:
    r = client.get(URL, headers=world.headers("planner"), params={"resolution": value})
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["errors"][0]["loc"] == ["query", "resolution"]
    if value.lstrip("-").isdigit():
        assert "mellom 5 og 12" in r.json()["errors"][0]["msg"]  # the organization speaks nb


@pytest.mark.parametrize(
    ("who", "status"),
    [
        pytest.param("planner", 200, id="planner"),
        pytest.param("engineer", 200, id="engineer"),
        pytest.param("coordinator", 200, id="coordinator"),
        pytest.param("admin", 200, id="admin"),
        pytest.param("participant", 403, id="participant"),
        pytest.param("anonymous", 401, id="anonymous"),
    ],
)
def test_who_may_ask(client: SyncClient, world: World, who: str, status: int) -> None:
    assert client.get(URL, headers=world.headers(who)).status_code == status
