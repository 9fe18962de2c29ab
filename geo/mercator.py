"""Web Mercator (EPSG:3857) and its XYZ tiles: the projection of map tiles, never of distances.

The sphere is WGS84's semi-major axis (``geo.units.EARTH_RADIUS_M``); the square world runs
from ``-HALF_WORLD_M`` to ``HALF_WORLD_M`` on both axes, tile (0, 0) at its north-west corner
and y growing southwards, as XYZ tiles and PostGIS' ``ST_TileEnvelope`` number them.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import shapely

from geo.units import EARTH_RADIUS_M

__all__ = [
    "HALF_WORLD_M",
    "MAX_LATITUDE",
    "from_lonlat",
    "pixel_cell",
    "tile_bounds",
    "to_lonlat",
    "to_lonlat_bounds",
    "to_tile_units",
    "tile_lonlat_bounds",
    "tile_of",
    "tiles_covering",
    "world_pixel",
]

HALF_WORLD_M = math.pi * EARTH_RADIUS_M
# The latitude at the square world's top edge (about 85.0511°): the poles lie at infinity.
MAX_LATITUDE = math.degrees(math.atan(math.sinh(math.pi)))

Bounds = tuple[float, float, float, float]


def from_lonlat(lon: float, lat: float) -> tuple[float, float]:
    """Degrees -> metres; latitudes beyond ``MAX_LATITUDE`` land on the world's edge."""
    lat = max(-MAX_LATITUDE, min(MAX_LATITUDE, lat))
    x = math.radians(lon) * EARTH_RADIUS_M
    y = math.log(math.tan(math.pi / 4 + math.radians(lat) / 2)) * EARTH_RADIUS_M
    return x, y


def to_lonlat(x: float, y: float) -> tuple[float, float]:
    """Metres -> degrees, clamped to the world (a tile's buffer may reach past its edge)."""
    lon = max(-180.0, min(180.0, math.degrees(x / EARTH_RADIUS_M)))
    y = max(-HALF_WORLD_M, min(HALF_WORLD_M, y))
    lat = math.degrees(math.atan(math.sinh(y / EARTH_RADIUS_M)))
    return lon, lat


def tile_bounds(z: int, x: int, y: int) -> Bounds:
    """(min x, min y, max x, max y) in metres of XYZ tile ``z/x/y``."""
    size = 2 * HALF_WORLD_M / (1 << z)
    minx = -HALF_WORLD_M + x * size
    maxy = HALF_WORLD_M - y * size
    return (minx, maxy - size, minx + size, maxy)


def tile_lonlat_bounds(z: int, x: int, y: int) -> Bounds:
    """(west, south, east, north) of XYZ tile ``z/x/y``, in degrees."""
    return to_lonlat_bounds(tile_bounds(z, x, y))


TILE_PIXELS = 256


def world_pixel(lon: float, lat: float, z: int) -> tuple[float, float]:
    """Where (lon, lat) falls on zoom ``z``'s whole-world image of 256-pixel tiles, y down."""
    mx, my = from_lonlat(lon, lat)
    size = TILE_PIXELS * (1 << z)
    return (mx + HALF_WORLD_M) / (2 * HALF_WORLD_M) * size, (HALF_WORLD_M - my) / (
        2 * HALF_WORLD_M
    ) * size


def pixel_cell(lon: float, lat: float, z: int, pixels: int) -> tuple[int, int]:
    """The square of ``pixels`` x ``pixels`` screen pixels holding (lon, lat) at zoom ``z``,
    numbered over the whole world from its north-west corner (``pixels`` divides 256, so a
    square lies in one tile)."""
    px, py = world_pixel(lon, lat, z)
    return int(px // pixels), int(py // pixels)


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    """The XYZ tile (x, y) holding (lon, lat) at zoom ``z``."""
    px, py = world_pixel(lon, lat, z)
    last = (1 << z) - 1
    return min(last, max(0, int(px // TILE_PIXELS))), min(last, max(0, int(py // TILE_PIXELS)))


def tiles_covering(bbox: Bounds, z: int) -> list[tuple[int, int, int]]:
    """Every (z, x, y) tile that (west, south, east, north) in degrees touches at zoom ``z``."""
    west, south, east, north = bbox
    x0, y0 = tile_of(west, north, z)
    x1, y1 = tile_of(east, south, z)
    return [(z, x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]


def to_lonlat_bounds(bounds: Bounds, pad: float = 0.0) -> Bounds:
    """A Web Mercator box, grown by ``pad`` metres on every side, in degrees."""
    minx, miny, maxx, maxy = bounds
    west, south = to_lonlat(minx - pad, miny - pad)
    east, north = to_lonlat(maxx + pad, maxy + pad)
    return (west, south, east, north)


def to_tile_units(shape: Any, bounds: Bounds, extent: int) -> Any:
    """A shape in Web Mercator metres -> integer tile units of a tile ``extent`` wide, y up
    (an MVT encoder flips it), snapped as ``ST_AsMVTGeom`` snaps. shapely 2's vectorised
    transform, not an encoder's per-point one."""
    minx, miny, maxx, maxy = bounds
    scale = np.array([extent / (maxx - minx), extent / (maxy - miny)])
    origin = np.array([minx, miny])
    return shapely.transform(shape, lambda xy: np.rint((xy - origin) * scale))
