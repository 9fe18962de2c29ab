"""Coarsening locations before they are published: a fixed grid of about N metres.

Snapping to a grid (rather than adding noise) gives the same answer on every request, so
averaging many answers reveals nothing more than one.
"""

from __future__ import annotations

import math

from geo.units import METRES_PER_DEGREE


def snap(lon: float, lat: float, metres: float = 50.0) -> tuple[float, float]:
    """The centre of the grid cell (about ``metres`` on a side) that holds the point."""
    dlat = metres / METRES_PER_DEGREE
    row = math.floor(lat / dlat)
    clat = (row + 0.5) * dlat
    # Cells keep their width in metres: the longitude step follows the row's latitude.
    dlon = metres / (METRES_PER_DEGREE * max(0.01, math.cos(math.radians(clat))))
    clon = (math.floor(lon / dlon) + 0.5) * dlon
    return round(clon, 6), round(clat, 6)
