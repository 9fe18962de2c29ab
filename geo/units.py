"""The earth's size in the units the code works in: each constant defined here, once.

``EARTH_RADIUS_M`` is WGS84's semi-major axis, the sphere that Web Mercator (EPSG:3857)
projects. ``METRES_PER_DEGREE`` is a degree of latitude rounded up from that sphere's
(111,319.5 m); longitude degrees shrink with cos(latitude). Good for boxes, grids and scales;
exact distances use the ellipsoid (``geo.projection``), and ``metres_per_degree`` gives the
ellipsoid's degree lengths at a latitude.
"""

from __future__ import annotations

import math

__all__ = ["EARTH_RADIUS_M", "METRES_PER_DEGREE", "bbox_around", "metres_per_degree"]

EARTH_RADIUS_M = 6_378_137.0
METRES_PER_DEGREE = 111_320.0

# Longitude degrees shrink with cos(latitude); this floor keeps a box finite at the poles.
_MIN_COS = 0.01


def metres_per_degree(lat: float) -> tuple[float, float]:
    """(metres per degree of longitude, of latitude) on the WGS84 ellipsoid at ``lat``."""
    phi = math.radians(lat)
    per_lat = 111_132.92 - 559.82 * math.cos(2 * phi) + 1.175 * math.cos(4 * phi)
    per_lon = 111_412.84 * math.cos(phi) - 93.5 * math.cos(3 * phi)
    return per_lon, per_lat


def bbox_around(lon: float, lat: float, metres: float) -> tuple[float, float, float, float]:
    """(min lon, min lat, max lon, max lat) of a box that contains every point within
    ``metres`` of (lon, lat): a cheap prefilter for the spatial index, exact distances are
    checked afterwards.

    The box is clamped to the valid range of longitude and latitude: no stored point lies
    outside it, so the rows found are the same, and the box stays a valid WGS84 envelope that
    either database (and PROJ, should it be reprojected) takes as it is."""
    dlat = metres / METRES_PER_DEGREE
    dlon = metres / (METRES_PER_DEGREE * max(_MIN_COS, math.cos(math.radians(lat))))
    return (
        max(-180.0, lon - dlon),
        max(-90.0, lat - dlat),
        min(180.0, lon + dlon),
        min(90.0, lat + dlat),
    )
