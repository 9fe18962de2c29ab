"""Below z15 an observation tile is counts per cell of CLUSTER_PIXELS screen pixels: each
cell's count equals the points that fall in it (brute force in Python), the counts add up to
the points inside the tile, and each cluster lies in its cell. On both databases (PostGIS'
ST_AsMVT; SpatiaLite's rows encoded with mapbox-vector-tile)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import mapbox_vector_tile
import pytest

from api.outputs.tiles.service import CLUSTER_PIXELS, CLUSTER_ZOOM, EXTENT
from geo import mercator
from tests.factories.readers import Readers
from tests.factories.seed import MAX_LAT, MAX_LON, MIN_LAT, MIN_LON, tile_of

UNITS_PER_CELL = EXTENT * CLUSTER_PIXELS // mercator.TILE_PIXELS


def _layer(readers: Readers, z: int, x: int, y: int) -> list[dict[str, Any]]:
    r = readers.get(f"/tiles/observations/{z}/{x}/{y}.mvt")
    decoded = mapbox_vector_tile.decode(r.content, default_options={"y_coord_down": True})
    return list(decoded["observations"]["features"])


def _expected(readers: Readers, z: int, x: int, y: int) -> Counter[tuple[int, int]]:
    """Cell (within the tile) -> observations in it, from each observation's own position."""
    cells: Counter[tuple[int, int]] = Counter()
    per_tile = mercator.TILE_PIXELS // CLUSTER_PIXELS
    for o in readers.data.observations.values():  # none sensitive here
        cx, cy = mercator.pixel_cell(o["lon"], o["lat"], z, CLUSTER_PIXELS)
        if (cx // per_tile, cy // per_tile) == (x, y):
            cells[(cx % per_tile, cy % per_tile)] += 1
    return cells


@pytest.mark.parametrize("z", [11, 13, 14])
def test_cluster_counts_equal_the_points_of_each_cell(readers: Readers, z: int) -> None:
    x, y = tile_of((MIN_LON + MAX_LON) / 2, (MIN_LAT + MAX_LAT) / 2, z)
    features = _layer(readers, z, x, y)
    expected = _expected(readers, z, x, y)
    assert sum(expected.values()) > 20
    got: Counter[tuple[int, int]] = Counter()
    for f in features:
        assert set(f["properties"]) == {"count"}
        assert f["geometry"]["type"] == "Point"
        gx, gy = f["geometry"]["coordinates"]
        # The mean of the cell's points lies in the cell (give or take the snap to units).
        cell = (min(int(gx) // UNITS_PER_CELL, EXTENT // UNITS_PER_CELL - 1),
                min(int(gy) // UNITS_PER_CELL, EXTENT // UNITS_PER_CELL - 1))  # fmt: skip
        got[cell] += f["properties"]["count"]
    assert got == expected
    assert len(features) == len(expected)  # one feature per occupied cell
    assert sum(f["properties"]["count"] for f in features) == sum(expected.values())


def test_clusters_shrink_a_dense_tile(readers: Readers) -> None:
    """At the lowest zooms every observation is in one or a few cells: far fewer features
    than points, and the counts still add up."""
    z = 9
    x, y = tile_of((MIN_LON + MAX_LON) / 2, (MIN_LAT + MAX_LAT) / 2, z)
    features = _layer(readers, z, x, y)
    total = sum(_expected(readers, z, x, y).values())
    assert total == len(readers.data.observations)
    assert len(features) < total / 5
    assert sum(f["properties"]["count"] for f in features) == total


def test_points_from_the_cluster_zoom_on(readers: Readers) -> None:
    x, y = tile_of((MIN_LON + MAX_LON) / 2, (MIN_LAT + MAX_LAT) / 2, CLUSTER_ZOOM)
    features = _layer(readers, CLUSTER_ZOOM, x, y)
    assert features
    assert all("count" not in f["properties"] for f in features)


def test_clusters_follow_the_callers_walls(readers: Readers) -> None:
    z = 13
    x, y = tile_of((MIN_LON + MAX_LON) / 2, (MIN_LAT + MAX_LAT) / 2, z)
    readers.get(f"/tiles/observations/{z}/{x}/{y}.mvt", who="foreign_admin", status=204)
