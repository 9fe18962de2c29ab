"""Grouping observations into action items, nearest open item, centroid and footprint.

The scenario is a walk in Sandnes (58.85 N, 5.73 E). Points are laid out with exact geodesic
offsets from a base point, so the expected groups follow from the distances alone:

    lighting (35 m):   L1-L2-L3-L4, 10 m apart along a path      -> one item
                       L5 and L6, 50 m apart                     -> two items
    vegetation (25 m): V1-V2-V3, 20 m steps (V1-V3 is 40 m)      -> one item (single linkage)
                       V4 on top of L5                           -> its own item
    graffiti (20 m):   G1 on top of L1                           -> its own item
                       G2-G3 exactly 20 m, G4 20.05 m past G3    -> {G2, G3} and {G4}
    positive_place, feels_unsafe (not in distance_m)             -> no item at all
"""

import math
import random

import numpy as np
import pytest
import shapely
from pyproj import Geod
from shapely.geometry import Point, Polygon

from geo.grouping import (
    Candidate,
    GroupPoint,
    centroid,
    footprint,
    group_points,
    nearest_within,
)

GEOD = Geod(ellps="WGS84")
BASE = (5.73, 58.85)
DISTANCES = {"lighting": 35.0, "vegetation": 25.0, "graffiti": 20.0}


def offset(start: tuple[float, float], azimuth: float, metres: float) -> tuple[float, float]:
    lon, lat, _ = GEOD.fwd(start[0], start[1], azimuth, metres)
    return (lon, lat)


def scenario() -> list[GroupPoint]:
    l1 = BASE
    l2 = offset(l1, 90.0, 10.0)
    l3 = offset(l2, 90.0, 10.0)
    l4 = offset(l3, 90.0, 10.0)
    l5 = offset(BASE, 0.0, 500.0)
    l6 = offset(l5, 90.0, 50.0)
    v1 = offset(BASE, 180.0, 400.0)
    v2 = offset(v1, 90.0, 20.0)
    v3 = offset(v2, 90.0, 20.0)
    g2 = offset(BASE, 270.0, 300.0)
    g3 = offset(g2, 0.0, 20.0)
    g4 = offset(g3, 0.0, 20.05)
    layout = [
        ("L1", "lighting", l1),
        ("L2", "lighting", l2),
        ("L3", "lighting", l3),
        ("L4", "lighting", l4),
        ("L5", "lighting", l5),
        ("L6", "lighting", l6),
        ("V1", "vegetation", v1),
        ("V2", "vegetation", v2),
        ("V3", "vegetation", v3),
        ("V4", "vegetation", l5),
        ("G1", "graffiti", l1),
        ("G2", "graffiti", g2),
        ("G3", "graffiti", g3),
        ("G4", "graffiti", g4),
        ("P1", "positive_place", l2),
        ("F1", "feels_unsafe", l3),
    ]
    return [GroupPoint(id=i, category=c, lon=lon, lat=lat) for i, c, (lon, lat) in layout]


EXPECTED = [
    ["G1"],
    ["G2", "G3"],
    ["G4"],
    ["L1", "L2", "L3", "L4"],
    ["L5"],
    ["L6"],
    ["V1", "V2", "V3"],
    ["V4"],
]


def group_of(groups: list[list[str]], point_id: str) -> list[str]:
    return next(g for g in groups if point_id in g)


def test_scenario_groups_exactly() -> None:
    assert group_points(scenario(), DISTANCES) == EXPECTED


@pytest.mark.parametrize(
    ("point_id", "expected"),
    [
        pytest.param("L3", ["L1", "L2", "L3", "L4"], id="10m-apart-chain-into-one"),
        pytest.param("L5", ["L5"], id="50m-apart-stay-apart-at-35m"),
        pytest.param("V1", ["V1", "V2", "V3"], id="single-linkage-chain"),
        pytest.param("G1", ["G1"], id="categories-at-same-spot-never-mix"),
        pytest.param("V4", ["V4"], id="vegetation-on-lamp-spot-alone"),
        pytest.param("G2", ["G2", "G3"], id="exactly-at-threshold-is-linked"),
        pytest.param("G4", ["G4"], id="just-past-threshold-is-not"),
    ],
)
def test_scenario_named_cases(point_id: str, expected: list[str]) -> None:
    assert group_of(group_points(scenario(), DISTANCES), point_id) == expected


def test_categories_absent_from_distances_make_no_group() -> None:
    ids = {i for g in group_points(scenario(), DISTANCES) for i in g}
    assert "P1" not in ids
    assert "F1" not in ids
    assert group_points([p for p in scenario() if p.id in {"P1", "F1"}], DISTANCES) == []


def test_dropping_a_category_from_distances_drops_its_points() -> None:
    groups = group_points(scenario(), {"lighting": 35.0})
    assert groups == [["L1", "L2", "L3", "L4"], ["L5"], ["L6"]]


def test_threshold_is_per_category() -> None:
    # At 55 m, L5 and L6 (50 m apart) join; the other categories are unchanged.
    groups = group_points(scenario(), {**DISTANCES, "lighting": 55.0})
    assert group_of(groups, "L5") == ["L5", "L6"]
    assert group_of(groups, "V4") == ["V4"]


def test_removing_the_middle_link_splits_the_chain() -> None:
    points = [p for p in scenario() if p.id != "V2"]
    groups = group_points(points, DISTANCES)
    assert group_of(groups, "V1") == ["V1"]
    assert group_of(groups, "V3") == ["V3"]


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 42])
def test_output_does_not_depend_on_input_order(seed: int) -> None:
    points = scenario()
    random.Random(seed).shuffle(points)
    assert group_points(points, DISTANCES) == EXPECTED


def test_empty_input() -> None:
    assert group_points([], DISTANCES) == []
    assert group_points(scenario(), {}) == []


def test_zero_distance_links_only_identical_positions() -> None:
    points = [
        GroupPoint("b", "lighting", 5.73, 58.85),
        GroupPoint("a", "lighting", 5.73, 58.85),
        GroupPoint("c", "lighting", 5.7301, 58.85),
    ]
    assert group_points(points, {"lighting": 0.0}) == [["a", "b"], ["c"]]


@pytest.mark.parametrize(
    ("points", "distances", "message"),
    [
        pytest.param(
            [GroupPoint("a", "lighting", 5.73, 58.85), GroupPoint("a", "lighting", 5.74, 58.85)],
            {"lighting": 30.0},
            "duplicate",
            id="duplicate-ids",
        ),
        pytest.param(
            [GroupPoint("a", "lighting", 5.73, 58.85)],
            {"lighting": -1.0},
            "distance",
            id="negative-distance",
        ),
        pytest.param(
            [GroupPoint("a", "lighting", 5.73, 58.85)],
            {"lighting": math.nan},
            "distance",
            id="nan-distance",
        ),
        pytest.param(
            [GroupPoint("a", "lighting", 5.73, 95.0)],
            {"lighting": 30.0},
            "latitude",
            id="lat-out-of-range",
        ),
        pytest.param(
            [GroupPoint("a", "lighting", math.inf, 58.85)],
            {"lighting": 30.0},
            "finite",
            id="lon-infinite",
        ),
        pytest.param(
            [GroupPoint("a", "lighting", 181.0, 58.85)],
            {"lighting": 30.0},
            "longitude",
            id="lon-out-of-range",
        ),
    ],
)
def test_bad_input_is_rejected(
    points: list[GroupPoint], distances: dict[str, float], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        group_points(points, distances)


def brute_force_groups(points: list[GroupPoint], distances: dict[str, float]) -> list[list[str]]:
    """Reference: geodesic distance for every same-category pair, then union-find."""
    members = [p for p in points if p.category in distances]
    parent = list(range(len(members)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, a in enumerate(members):
        for j in range(i + 1, len(members)):
            b = members[j]
            if a.category != b.category:
                continue
            _, _, d = GEOD.inv(a.lon, a.lat, b.lon, b.lat)
            if d <= distances[a.category]:
                parent[find(i)] = find(j)
    by_root: dict[int, list[str]] = {}
    for i, p in enumerate(members):
        by_root.setdefault(find(i), []).append(p.id)
    return sorted(sorted(g) for g in by_root.values())


@pytest.mark.parametrize(
    "origin",
    [pytest.param((5.73, 58.85), id="sandnes"), pytest.param((18.96, 69.65), id="tromso")],
)
def test_matches_brute_force_geodesic_reference(origin: tuple[float, float]) -> None:
    rng = np.random.default_rng(11)
    n = 400
    # 400 points over about 600 m x 600 m in 3 categories: dense enough for chains and merges.
    lons = origin[0] + rng.uniform(-0.005, 0.005, n) / math.cos(math.radians(origin[1]))
    lats = origin[1] + rng.uniform(-0.0027, 0.0027, n)
    cats = rng.choice(["lighting", "vegetation", "graffiti", "positive_place"], n)
    points = [
        GroupPoint(f"{i:04d}", str(c), float(lon), float(lat))
        for i, (c, lon, lat) in enumerate(zip(cats, lons, lats, strict=True))
    ]
    expected = brute_force_groups(points, DISTANCES)
    assert any(len(g) > 2 for g in expected)  # the comparison exercises real chains
    assert group_points(points, DISTANCES) == expected


# --- nearest_within -------------------------------------------------------------------------


def test_nearest_within_picks_the_nearest() -> None:
    candidates = [
        Candidate("far", *offset(BASE, 0.0, 20.0)),
        Candidate("near", *offset(BASE, 200.0, 5.0)),
        Candidate("mid", *offset(BASE, 90.0, 10.0)),
    ]
    chosen = nearest_within(*BASE, candidates, 30.0)
    assert chosen is not None
    assert chosen.key == "near"


def test_nearest_within_respects_the_distance() -> None:
    candidates = [Candidate("a", *offset(BASE, 0.0, 30.0)), Candidate("b", *offset(BASE, 90, 26))]
    assert nearest_within(*BASE, candidates, 25.0) is None
    chosen = nearest_within(*BASE, candidates, 26.5)
    assert chosen is not None
    assert chosen.key == "b"


def test_nearest_within_is_inclusive_and_handles_no_candidates() -> None:
    assert nearest_within(*BASE, [], 30.0) is None
    same_spot = Candidate("here", *BASE)
    assert nearest_within(*BASE, [same_spot], 0.0) == same_spot


@pytest.mark.parametrize(
    "keys",
    [pytest.param(("b", "a"), id="larger-key-first"), pytest.param(("a", "b"), id="smaller-first")],
)
def test_nearest_within_breaks_ties_by_smaller_key(keys: tuple[str, str]) -> None:
    spot = offset(BASE, 45.0, 12.0)
    candidates = [Candidate(keys[0], *spot), Candidate(keys[1], *spot)]
    chosen = nearest_within(*BASE, candidates, 30.0)
    assert chosen is not None
    assert chosen.key == "a"


def test_nearest_within_rejects_bad_distance() -> None:
    with pytest.raises(ValueError, match="distance_m"):
        nearest_within(*BASE, [Candidate("a", *BASE)], -5.0)


# --- centroid and footprint -----------------------------------------------------------------


def test_centroid_of_symmetric_points_is_the_middle() -> None:
    middle = (5.7312345, 58.8512345)
    ring = [offset(middle, azimuth, 100.0) for azimuth in (0.0, 90.0, 180.0, 270.0)]
    lon, lat = centroid(ring)
    assert lon == pytest.approx(middle[0], abs=1.5e-7)
    assert lat == pytest.approx(middle[1], abs=1.5e-7)


def test_centroid_of_one_point_is_that_point_rounded() -> None:
    assert centroid([(5.731234567, 58.851234567)]) == (5.7312346, 58.8512346)


def test_centroid_is_rounded_to_seven_decimals() -> None:
    lon, lat = centroid([(5.73, 58.85), (5.7301234, 58.8503333), (5.7297777, 58.8499999)])
    assert lon == round(lon, 7)
    assert lat == round(lat, 7)


@pytest.mark.parametrize(
    "points",
    [
        pytest.param([BASE], id="one-point"),
        pytest.param([BASE, offset(BASE, 90.0, 30.0)], id="two-points"),
        pytest.param([(p.lon, p.lat) for p in scenario()[:4]], id="collinear-lamp-chain"),
        pytest.param([(p.lon, p.lat) for p in scenario()], id="whole-scenario"),
    ],
)
def test_footprint_is_valid_ccw_polygon_containing_points(
    points: list[tuple[float, float]],
) -> None:
    polygon = footprint(points)
    assert isinstance(polygon, Polygon)
    assert polygon.is_valid
    assert polygon.exterior.is_ccw
    assert all(polygon.contains(Point(lon, lat)) for lon, lat in points)
    coords = shapely.get_coordinates(polygon)
    assert np.array_equal(coords, np.round(coords, 7))


def test_footprint_area_matches_buffer_in_metres() -> None:
    # One point buffered by 5 m is a 32-gon of ~78 m²; a 30 m segment adds a 30 x 10 m band.
    single, _ = GEOD.geometry_area_perimeter(footprint([BASE]))
    stadium, _ = GEOD.geometry_area_perimeter(footprint([BASE, offset(BASE, 90.0, 30.0)]))
    assert single == pytest.approx(math.pi * 25.0, rel=0.02)
    assert stadium == pytest.approx(math.pi * 25.0 + 300.0, rel=0.02)


@pytest.mark.parametrize(
    ("points", "buffer_m"),
    [
        pytest.param([], 5.0, id="no-points"),
        pytest.param([BASE], 0.0, id="zero-buffer"),
        pytest.param([BASE], math.nan, id="nan-buffer"),
        pytest.param([(5.73, 91.0)], 5.0, id="lat-out-of-range"),
    ],
)
def test_footprint_rejects_bad_input(points: list[tuple[float, float]], buffer_m: float) -> None:
    with pytest.raises(ValueError, match="point|buffer|latitude"):
        footprint(points, buffer_m)
