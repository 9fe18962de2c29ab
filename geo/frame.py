"""Lon/lat fitted into a drawing: a local equirectangular projection, for maps on paper.

Longitude is scaled by cos(latitude) at the middle of the data, so shapes keep their
proportions at a neighbourhood's scale (a few kilometres), where that is good enough to draw
by; measuring is ``geo.projection``'s work.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from geo.units import METRES_PER_DEGREE

__all__ = ["Frame"]


class Frame:
    """``bounds`` (lon/lat) fitted and centred into ``width`` × ``height`` drawing units."""

    def __init__(
        self, bounds: tuple[float, float, float, float], width: float, height: float
    ) -> None:
        minx, miny, maxx, maxy = bounds
        self.k = math.cos(math.radians((miny + maxy) / 2))
        span_x = max((maxx - minx) * self.k, 1e-6)
        span_y = max(maxy - miny, 1e-6)
        pad = 8.0
        self.scale = min((width - 2 * pad) / span_x, (height - 2 * pad) / span_y)
        self.ox = pad + ((width - 2 * pad) - span_x * self.scale) / 2 - minx * self.k * self.scale
        self.oy = pad + ((height - 2 * pad) - span_y * self.scale) / 2 - miny * self.scale

    def xy(self, lon: float, lat: float) -> tuple[float, float]:
        return self.ox + lon * self.k * self.scale, self.oy + lat * self.scale

    def flat(self, coords: Iterable[Sequence[float]]) -> list[float]:
        """Coordinates as one flat list x0, y0, x1, y1, ... (what drawing libraries take)."""
        out: list[float] = []
        for c in coords:
            out.extend(self.xy(c[0], c[1]))
        return out

    def metres_per_point(self) -> float:
        """Metres on the ground per drawing unit (for a scale bar)."""
        return METRES_PER_DEGREE / self.scale
