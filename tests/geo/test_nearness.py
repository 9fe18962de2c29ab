"""Distances from a walk's shapes agree with the ellipsoid where it matters, and boxes contain
their circles."""

from __future__ import annotations

import math
import random

import pytest
from shapely.geometry import LineString, Point, Polygon

from geo.nearness import Fence, distance_m, swapped
from geo.projection import geodesic_distance_m
from geo.units import bbox_around

SQUARE = Polygon([(5.728, 58.848), (5.742, 58.848), (5.742, 58.856), (5.728, 58.856)])


def test_inside_and_on_the_border_is_zero() -> None:
    assert distance_m(5.7352, 58.8517, [SQUARE]) == 0
    assert distance_m(5.728, 58.85, [SQUARE]) == 0


def test_nothing_to_compare_with() -> None:
    assert distance_m(5.7, 58.8, []) is None
    assert distance_m(5.7, 58.8, [None, Polygon()]) is None
    assert Fence.around([]) is None


@pytest.mark.parametrize(
    "lat", [pytest.param(58.85, id="sandnes"), pytest.param(69.65, id="tromso")]
)
def test_agrees_with_the_ellipsoid_within_a_tenth_of_a_percent(lat: float) -> None:
    """Seeded: points up to 10 km from a vertex, measured to that vertex."""
    rng = random.Random(7)
    lon0 = 5.73 if lat < 60 else 18.95
    fence = Fence.around([Point(lon0, lat)])
    assert fence is not None
    for _ in range(200):
        bearing = rng.uniform(0, 2 * math.pi)
        metres = rng.uniform(50, 10_000)
        dlat = metres * math.cos(bearing) / 111_320
        dlon = metres * math.sin(bearing) / (111_320 * math.cos(math.radians(lat)))
        lon, la = lon0 + dlon, lat + dlat
        truth = geodesic_distance_m(lon, la, lon0, lat)
        assert fence.distance_m(lon, la) == pytest.approx(truth, rel=1e-3)


def test_route_and_area_the_nearest_counts() -> None:
    route = LineString([(5.80, 58.85), (5.81, 58.85)])
    north = 58.85 + 500 / 111_320  # ~500 m north of the route, ~5 km east of the square
    d = distance_m(5.805, north, [SQUARE, route])
    assert d == pytest.approx(geodesic_distance_m(5.805, north, 5.805, 58.85), rel=1e-3)


def test_swapped() -> None:
    assert swapped(58.85, 5.73) == (5.73, 58.85)
    assert swapped(120.0, 10.0) is None  # 120 cannot be a latitude
    # The swapped point of a [lat, lon] mistake lies in the square.
    again = swapped(58.8517, 5.7352)
    assert again is not None
    assert distance_m(*again, [SQUARE]) == 0


@pytest.mark.parametrize("lat", [0.0, 58.85, 78.2])
def test_bbox_contains_its_circle(lat: float) -> None:
    minx, miny, maxx, maxy = bbox_around(10.0, lat, 250)
    for k in range(16):
        a = 2 * math.pi * k / 16
        dlat = 250 * math.cos(a) / 111_320 * 0.999
        dlon = 250 * math.sin(a) / (111_320 * math.cos(math.radians(lat))) * 0.999
        assert minx <= 10.0 + dlon <= maxx
        assert miny <= lat + dlat <= maxy
