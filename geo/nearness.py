"""How far a point is from a shape, in metres, and the bounding box of a circle around a point.

Used to tell a plausible observation from one far from its walk (and one whose longitude and
latitude were swapped), and to narrow "what is near me" down to the spatial index's box.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import shapely
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

from geo.projection import local_transformer

__all__ = ["bbox_around", "distance_m", "swapped"]

# Mean metres per degree of latitude; longitude degrees shrink with cos(latitude).
METRES_PER_DEGREE = 111_320.0


def distance_m(lon: float, lat: float, shapes: Iterable[BaseGeometry]) -> float | None:
    """Metres from (lon, lat) to the nearest of ``shapes`` (0 inside a polygon); None if none.

    Measured on an azimuthal equidistant plane centred at the point, where distances from the
    centre are true to well under a metre at walk scale and stay right in order of magnitude
    for a point hundreds of kilometres away, which is all a plausibility check needs.
    """
    shapes = [s for s in shapes if s is not None and not s.is_empty]
    if not shapes:
        return None
    tr = local_transformer(lon, lat)

    def project(coords: np.ndarray) -> np.ndarray:
        xs, ys = tr.forward(coords[:, 0], coords[:, 1])
        return np.column_stack([xs, ys])

    x0, y0 = tr.forward([lon], [lat])
    here = Point(float(x0[0]), float(y0[0]))
    return min(float(shapely.transform(s, project).distance(here)) for s in shapes)


def swapped(lon: float, lat: float) -> tuple[float, float] | None:
    """The point with longitude and latitude exchanged, if that is still a valid position."""
    if -90.0 <= lon <= 90.0:
        return lat, lon
    return None


def bbox_around(lon: float, lat: float, metres: float) -> tuple[float, float, float, float]:
    """(min lon, min lat, max lon, max lat) of a box that contains the circle of ``metres``."""
    dlat = metres / METRES_PER_DEGREE
    dlon = metres / (METRES_PER_DEGREE * max(0.01, math.cos(math.radians(lat))))
    return (
        max(-180.0, lon - dlon),
        max(-90.0, lat - dlat),
        min(180.0, lon + dlon),
        min(90.0, lat + dlat),
    )
