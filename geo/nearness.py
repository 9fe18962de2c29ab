"""How far a point is from a shape, in metres.

Used to tell a plausible observation from one far from its walk (and one whose longitude and
latitude were swapped).

A :class:`Fence` scales the walk's area and route once into metres on a plane tangent at their
centre (an equirectangular frame with the ellipsoid's degree lengths there), so each point then
costs one shapely distance. Within a few kilometres of the centre the scale error stays under
0.1 % (the change of cos(latitude) across the span), which is plenty for a threshold of a few
kilometres; farther away distances are distorted, but a point hundreds of kilometres off is
still hundreds of kilometres off.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

from geo.units import metres_per_degree

__all__ = ["Fence", "distance_m", "swapped"]


@dataclass(frozen=True, slots=True)
class Fence:
    """Shapes in metres around their centre, to measure many points against."""

    lon0: float
    lat0: float
    kx: float
    ky: float
    shapes: tuple[BaseGeometry, ...]

    @classmethod
    def around(cls, shapes: Iterable[BaseGeometry | None]) -> Fence | None:
        """A fence for the non-empty ``shapes``, or None when there is nothing to compare with."""
        kept = [s for s in shapes if s is not None and not s.is_empty]
        if not kept:
            return None
        minx, miny, maxx, maxy = shapely.total_bounds(kept)
        lon0, lat0 = (minx + maxx) / 2, (miny + maxy) / 2
        kx, ky = metres_per_degree(lat0)

        centre = np.array([lon0, lat0])
        scale = np.array([kx, ky])

        def to_metres(coords: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
            out: npt.NDArray[np.float64] = (coords - centre) * scale
            return out

        scaled = tuple(shapely.transform(s, to_metres) for s in kept)
        for s in scaled:
            shapely.prepare(s)
        return cls(lon0, lat0, kx, ky, scaled)

    def distance_m(self, lon: float, lat: float) -> float:
        """Metres from (lon, lat) to the nearest shape (0 inside a polygon)."""
        here = Point((lon - self.lon0) * self.kx, (lat - self.lat0) * self.ky)
        return min(float(s.distance(here)) for s in self.shapes)


def distance_m(lon: float, lat: float, shapes: Iterable[BaseGeometry | None]) -> float | None:
    """Metres from (lon, lat) to the nearest of ``shapes`` (0 inside a polygon); None if none."""
    fence = Fence.around(shapes)
    return fence.distance_m(lon, lat) if fence is not None else None


def swapped(lon: float, lat: float) -> tuple[float, float] | None:
    """The point with longitude and latitude exchanged, if that is still a valid position."""
    if -90.0 <= lon <= 90.0:
        return lat, lon
    return None
