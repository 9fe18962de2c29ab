"""The earth's size as the code uses it, checked against the WGS84 ellipsoid (pyproj)."""

from __future__ import annotations

import math

import pytest
from pyproj import Geod

from geo.units import EARTH_RADIUS_M, METRES_PER_DEGREE, bbox_around, metres_per_degree

WGS84 = Geod(ellps="WGS84")


def test_the_radius_is_the_wgs84_semi_major_axis() -> None:
    assert pytest.approx(WGS84.a, abs=1e-6) == EARTH_RADIUS_M


def test_a_degree_is_a_degree_of_that_sphere() -> None:
    assert pytest.approx(2 * math.pi * EARTH_RADIUS_M / 360, abs=1.0) == METRES_PER_DEGREE


@pytest.mark.parametrize("lat", [0.0, 45.0, 58.85, 69.65, 78.2])
def test_metres_per_degree_on_the_ellipsoid(lat: float) -> None:
    per_lon, per_lat = metres_per_degree(lat)
    # One hundredth of a degree each way, scaled up: the ellipsoid's own lengths there.
    _, _, east = WGS84.inv(10.0, lat, 10.01, lat)
    _, _, north = WGS84.inv(10.0, lat - 0.005, 10.0, lat + 0.005)
    assert per_lon == pytest.approx(east * 100, rel=1e-4)
    assert per_lat == pytest.approx(north * 100, rel=1e-4)


@pytest.mark.parametrize(
    ("lon", "lat"),
    [
        pytest.param(5.7352, 58.8517, id="sandnes"),
        pytest.param(18.95, 69.65, id="tromso"),
        pytest.param(15.63, 78.22, id="longyearbyen"),
        pytest.param(-0.1, 51.5, id="west-of-greenwich"),
    ],
)
def test_bbox_around_holds_the_circle(lon: float, lat: float) -> None:
    minx, miny, maxx, maxy = bbox_around(lon, lat, 250 * 1.01)
    for azimuth in range(0, 360, 15):
        x, y, _ = WGS84.fwd(lon, lat, azimuth, 250)
        assert minx <= x <= maxx
        assert miny <= y <= maxy
    # ... and not much more: under 5 % wider than the circle in either direction.
    _, _, height = WGS84.inv(lon, miny, lon, maxy)
    _, _, width = WGS84.inv(minx, lat, maxx, lat)
    assert height < 500 * 1.05
    assert width < 500 * 1.05


@pytest.mark.parametrize(
    ("lon", "lat"),
    [
        pytest.param(179.9999, 0.0, id="antimeridian-east"),
        pytest.param(-179.9999, 0.0, id="antimeridian-west"),
        pytest.param(0.0, 89.9999, id="north-pole"),
        pytest.param(0.0, -89.9999, id="south-pole"),
    ],
)
def test_bbox_around_stays_a_valid_envelope(lon: float, lat: float) -> None:
    minx, miny, maxx, maxy = bbox_around(lon, lat, 1000)
    assert -180.0 <= minx < lon < maxx <= 180.0
    assert -90.0 <= miny < lat < maxy <= 90.0
