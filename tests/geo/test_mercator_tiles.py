"""XYZ tiles by longitude and latitude (geo/mercator.py), as the basemap's files and the web
maps number them: the conventions' formula, the corners of the world, and a box's cover."""

from __future__ import annotations

import math

import pytest

from geo.mercator import tile_lonlat_bounds, tile_of, tiles_covering, world_pixel


def _xyz(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    lat_r = math.radians(lat)
    return int((lon + 180) / 360 * n), int((1 - math.asinh(math.tan(lat_r)) / math.pi) / 2 * n)


@pytest.mark.parametrize("z", [0, 5, 14, 17])
def test_tile_of_a_place(z: int) -> None:
    assert tile_of(5.7352, 58.8517, z) == _xyz(5.7352, 58.8517, z)


def test_the_world_edges_stay_on_the_world() -> None:
    assert tile_of(-180.0, 89.9, 3) == (0, 0)
    assert tile_of(180.0, -89.9, 3) == (7, 7)
    assert world_pixel(0.0, 0.0, 0) == pytest.approx((128.0, 128.0))


def test_a_tile_holds_its_own_bounds() -> None:
    west, south, east, north = tile_lonlat_bounds(14, 8453, 4860)
    assert tile_of((west + east) / 2, (south + north) / 2, 14) == (8453, 4860)
    assert west < east
    assert south < north


def test_tiles_covering_a_box() -> None:
    tiles = tiles_covering((5.72, 58.84, 5.76, 58.86), 14)
    assert (14, *tile_of(5.7352, 58.8517, 14)) in tiles
    assert len(tiles) == len(set(tiles)) == 9
