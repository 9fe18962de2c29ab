"""The generalised location of a sensitive observation: stable, coarse, and consistent with H3."""

from __future__ import annotations

import math
import random

import h3
import pytest

from geo.sensitive import GENERAL_RESOLUTION, generalise, generalised_cell


def _metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    dlat = math.radians(b[1] - a[1])
    dlon = math.radians(b[0] - a[0]) * math.cos(math.radians((a[1] + b[1]) / 2))
    return 6_371_000 * math.hypot(dlat, dlon)


def _points(n: int) -> list[tuple[float, float]]:
    rng = random.Random(16)  # seeded: the same points on every run
    return [(rng.uniform(4.5, 31.0), rng.uniform(57.5, 71.0)) for _ in range(n)]


def test_generalised_point_is_the_cell_centre_and_stays_near() -> None:
    for lon, lat in _points(500):
        glon, glat = generalise(lon, lat)
        cell = h3.latlng_to_cell(lat, lon, GENERAL_RESOLUTION)
        assert h3.latlng_to_cell(glat, glon, GENERAL_RESOLUTION) == cell
        # A resolution-8 cell's centre is under about 600 m from any point in it.
        assert _metres((lon, lat), (glon, glat)) < 650
        assert generalise(lon, lat) == (glon, glat)  # the same answer every time


def test_nearby_points_in_one_cell_give_one_location() -> None:
    lon, lat = 5.7352, 58.8517
    cell = h3.latlng_to_cell(lat, lon, GENERAL_RESOLUTION)
    clat, clon = h3.cell_to_latlng(cell)
    assert generalise(lon, lat) == generalise(clon + 1e-5, clat + 1e-5)


@pytest.mark.parametrize("resolution", [5, 6, 7, 8, 9, 10, 11, 12])
def test_generalised_cell_holds_the_generalised_point(resolution: int) -> None:
    for lon, lat in _points(200):
        cell_r8 = h3.latlng_to_cell(lat, lon, GENERAL_RESOLUTION)
        glon, glat = generalise(lon, lat)
        assert generalised_cell(cell_r8, resolution) == h3.latlng_to_cell(glat, glon, resolution)
