"""Slippy-map tile numbering (XYZ, y from the north), as web maps and basemap files use it."""

from __future__ import annotations

import math

TILE_SIZE = 256
MAX_LATITUDE = 85.05112878


def world_pixel(lon: float, lat: float, z: int) -> tuple[float, float]:
    """Where (lon, lat) falls on the zoom level's whole-world image of 256-pixel tiles."""
    lat = max(-MAX_LATITUDE, min(MAX_LATITUDE, lat))
    size = TILE_SIZE * (1 << z)
    x = (lon + 180.0) / 360.0 * size
    y = (1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * size
    return x, y


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    x, y = world_pixel(lon, lat, z)
    last = (1 << z) - 1
    return min(last, max(0, int(x // TILE_SIZE))), min(last, max(0, int(y // TILE_SIZE)))


def tiles_covering(bbox: tuple[float, float, float, float], z: int) -> list[tuple[int, int, int]]:
    """Every (z, x, y) tile that (west, south, east, north) touches at zoom ``z``."""
    west, south, east, north = bbox
    x0, y0 = tile_of(west, north, z)
    x1, y1 = tile_of(east, south, z)
    return [(z, x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]


def tile_bounds(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    """(west, south, east, north) of a tile, in degrees."""
    n = 1 << z

    def lat(row: int) -> float:
        return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * row / n))))

    return (x / n * 360.0 - 180.0, lat(y + 1), (x + 1) / n * 360.0 - 180.0, lat(y))
