"""Web Mercator and XYZ tiles, checked against PROJ (pyproj) and the tile scheme's own formulas."""

from __future__ import annotations

import math

import pytest
from pyproj import Transformer
from shapely.geometry import LineString, Point

from geo import mercator
from geo.units import EARTH_RADIUS_M

TO_MERCATOR = Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True)
HALF = 20_037_508.342789244  # EPSG:3857's published extent


def _tile_lon(x: int, z: int) -> float:
    return x / 2**z * 360.0 - 180.0


def _tile_lat(y: int, z: int) -> float:
    n = math.pi - 2 * math.pi * y / 2**z
    return math.degrees(math.atan(0.5 * (math.exp(n) - math.exp(-n))))


def test_the_world_is_epsg_3857s() -> None:
    assert mercator.HALF_WORLD_M == pytest.approx(HALF, abs=1e-6)
    assert mercator.HALF_WORLD_M == math.pi * EARTH_RADIUS_M
    assert mercator.MAX_LATITUDE == pytest.approx(85.0511287798, abs=1e-9)


@pytest.mark.parametrize(
    ("lon", "lat"),
    [(0.0, 0.0), (5.7352, 58.8517), (18.95, 69.65), (-73.98, 40.75), (179.9, -85.0)],
)
def test_forward_matches_proj_and_comes_back(lon: float, lat: float) -> None:
    x, y = mercator.from_lonlat(lon, lat)
    assert (x, y) == pytest.approx(TO_MERCATOR.transform(lon, lat), abs=1e-6)
    assert mercator.to_lonlat(x, y) == pytest.approx((lon, lat), abs=1e-9)


def test_beyond_the_world_is_clamped_to_its_edge() -> None:
    assert mercator.from_lonlat(0.0, 90.0)[1] == pytest.approx(HALF, abs=1e-6)
    assert mercator.to_lonlat(3 * HALF, 3 * HALF) == pytest.approx((180.0, mercator.MAX_LATITUDE))
    assert mercator.to_lonlat(-3 * HALF, -3 * HALF) == pytest.approx(
        (-180.0, -mercator.MAX_LATITUDE)
    )


@pytest.mark.parametrize(
    ("z", "x", "y", "expected"),
    [
        pytest.param(0, 0, 0, (-HALF, -HALF, HALF, HALF), id="the-world"),
        pytest.param(1, 0, 0, (-HALF, 0.0, 0.0, HALF), id="north-west-quarter"),
        pytest.param(1, 1, 1, (0.0, -HALF, HALF, 0.0), id="south-east-quarter"),
        pytest.param(2, 3, 0, (HALF / 2, HALF / 2, HALF, HALF), id="z2-corner"),
    ],
)
def test_known_tile_bounds(z: int, x: int, y: int, expected: tuple[float, ...]) -> None:
    assert mercator.tile_bounds(z, x, y) == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize(("z", "x", "y"), [(10, 528, 303), (14, 8458, 4861), (18, 135_333, 77_787)])
def test_tile_bounds_in_degrees_follow_the_tile_scheme(z: int, x: int, y: int) -> None:
    west, south, east, north = mercator.to_lonlat_bounds(mercator.tile_bounds(z, x, y))
    expected = (_tile_lon(x, z), _tile_lat(y + 1, z), _tile_lon(x + 1, z), _tile_lat(y, z))
    assert (west, south, east, north) == pytest.approx(expected, abs=1e-9)


def test_a_padded_tile_grows_by_the_pad() -> None:
    bounds = mercator.tile_bounds(10, 528, 303)
    pad = (bounds[2] - bounds[0]) * 64 / 4096
    padded = mercator.to_lonlat_bounds(bounds, pad)
    plain = mercator.to_lonlat_bounds(bounds)
    assert padded[0] < plain[0]
    assert padded[1] < plain[1]
    assert padded[2] > plain[2]
    assert padded[3] > plain[3]
    assert mercator.from_lonlat(padded[0], padded[1]) == pytest.approx(
        (bounds[0] - pad, bounds[1] - pad), abs=1e-6
    )


def test_to_tile_units_snaps_to_the_grid_with_y_up() -> None:
    bounds = mercator.tile_bounds(10, 528, 303)
    minx, miny, maxx, maxy = bounds
    size = maxx - minx
    centre = Point(minx + size / 2, miny + size / 2)
    assert mercator.to_tile_units(centre, bounds, 4096).coords[0] == (2048.0, 2048.0)
    corner = Point(minx + size * 0.25001, maxy)
    assert mercator.to_tile_units(corner, bounds, 4096).coords[0] == (1024.0, 4096.0)
    line = LineString([(minx, miny), (maxx, maxy)])
    assert list(mercator.to_tile_units(line, bounds, 256).coords) == [(0.0, 0.0), (256.0, 256.0)]
