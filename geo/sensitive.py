"""Generalising the location of observations in sensitive categories (an `incident`, say).

Outside the coordinators' and admins' view, such an observation is shown at the centre of its
H3 resolution-8 cell (about 0.74 km², edges about 530 m), never at the point where it was made.
The centre is a function of the cell, so every request gives the same answer and averaging many
answers reveals nothing more than one.

Pure data in, pure data out: no FastAPI, no database.
"""

from __future__ import annotations

import h3
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

#: H3 resolution whose cell centre stands in for a sensitive location.
GENERAL_RESOLUTION = 8
COORDINATE_DECIMALS = 6

__all__ = [
    "COORDINATE_DECIMALS",
    "GENERAL_RESOLUTION",
    "general_point",
    "generalise",
    "generalised_cell",
]


def generalise(lon: float, lat: float) -> tuple[float, float]:
    """The (lon, lat) of the centre of the resolution-8 cell holding the point."""
    return _centre(h3.latlng_to_cell(lat, lon, GENERAL_RESOLUTION))


def general_point(geom: BaseGeometry) -> BaseGeometry:
    """The generalised stand-in of a point (or of a geometry's centroid)."""
    p = geom if geom.geom_type == "Point" else geom.centroid
    return Point(*generalise(p.x, p.y))


def _centre(cell_r8: str) -> tuple[float, float]:
    clat, clon = h3.cell_to_latlng(cell_r8)
    return round(float(clon), COORDINATE_DECIMALS), round(float(clat), COORDINATE_DECIMALS)


def generalised_cell(cell_r8: str, resolution: int) -> str:
    """The cell at `resolution` that holds the generalised location of anything in `cell_r8`.

    Finer than 8 this is the centre child (it shares the parent's centre); at 8 or coarser it
    is the cell holding that centre, which is not always the bitwise parent. The centre is the
    rounded one that `generalise` publishes, so a point near a coarse edge lands where it is shown.
    """
    if resolution > GENERAL_RESOLUTION:
        return str(h3.cell_to_center_child(cell_r8, resolution))
    clon, clat = _centre(cell_r8)
    return str(h3.latlng_to_cell(clat, clon, resolution))
