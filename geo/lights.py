"""Street lights as geometry: the nearest lamp of a point, and the stretches of a route that no
lamp lights.

Both work in metres on the local azimuthal equidistant plane of ``geo.projection`` (never Web
Mercator). Snapping asks an STRtree for the nearest lamp within the distance. Dark gaps are
exact, not sampled: for each segment of the route, each lamp near it lights the interval of the
segment where the distance to the lamp is at most ``max_gap_m`` (a quadratic in the segment's
parameter); what the union of those intervals leaves is dark.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry import LineString

from geo.projection import LocalTransformer, local_transformer
from geo.units import bbox_around

__all__ = [
    "DarkGap",
    "Snap",
    "dark_gaps",
    "dark_intervals",
    "snap_points",
]

FloatArray = npt.NDArray[np.float64]
Coord = tuple[float, float]


@dataclass(frozen=True, slots=True)
class Snap:
    """The lamp (its index in the input) nearest a point, and how far it is; None: none within."""

    index: int | None
    distance_m: float | None


def _centre(lons: Sequence[float], lats: Sequence[float]) -> LocalTransformer:
    return local_transformer(float(np.mean(lons)), float(np.mean(lats)))


def snap_points(points: Sequence[Coord], lamps: Sequence[Coord], max_m: float) -> list[Snap]:
    """For each (lon, lat) point, the nearest lamp within ``max_m`` metres (ties: the lower
    index), else ``Snap(None, None)``."""
    if not points:
        return []
    if not lamps or max_m < 0:
        return [Snap(None, None) for _ in points]
    t = _centre([p[0] for p in points], [p[1] for p in points])
    px, py = t.forward([p[0] for p in points], [p[1] for p in points])
    lx, ly = t.forward([q[0] for q in lamps], [q[1] for q in lamps])
    tree = shapely.STRtree(shapely.points(lx, ly))
    (src, dst), dist = tree.query_nearest(
        shapely.points(px, py), max_distance=max_m, return_distance=True, all_matches=True
    )
    found: dict[int, tuple[float, int]] = {}
    for s, d, m in zip(src.tolist(), dst.tolist(), dist.tolist(), strict=True):
        best = found.get(s)
        if best is None or (m, d) < best:
            found[s] = (m, d)
    out: list[Snap] = []
    for i in range(len(points)):
        hit = found.get(i)
        out.append(Snap(None, None) if hit is None else Snap(hit[1], round(hit[0], 3)))
    return out


def _lit_spans(
    ax: float, ay: float, bx: float, by: float, lx: FloatArray, ly: FloatArray, r: float
) -> list[tuple[float, float]]:
    """Parameter intervals [t0, t1] of segment a→b within ``r`` of any lamp (lx, ly)."""
    dx, dy = bx - ax, by - ay
    a = dx * dx + dy * dy
    fx, fy = ax - lx, ay - ly
    if a == 0.0:
        near = bool(np.any(fx * fx + fy * fy <= r * r))
        return [(0.0, 1.0)] if near else []
    # |a + t·d - l|² = r²  ⇔  a·t² + b·t + c = 0
    b = 2.0 * (fx * dx + fy * dy)
    c = fx * fx + fy * fy - r * r
    disc = b * b - 4.0 * a * c
    hit = disc >= 0.0
    if not np.any(hit):
        return []
    root = np.sqrt(disc[hit])
    t0 = np.clip((-b[hit] - root) / (2.0 * a), 0.0, 1.0)
    t1 = np.clip((-b[hit] + root) / (2.0 * a), 0.0, 1.0)
    keep = t1 > t0
    return sorted(zip(t0[keep].tolist(), t1[keep].tolist(), strict=True))


def _at(ax: float, ay: float, bx: float, by: float, t: float) -> Coord:
    # The vertices themselves at the ends, so a gap running over a vertex joins up exactly.
    if t == 0.0:
        return (ax, ay)
    if t == 1.0:
        return (bx, by)
    return (ax + (bx - ax) * t, ay + (by - ay) * t)


def _complement(spans: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """The parts of [0, 1] that sorted ``spans`` leave uncovered."""
    gaps: list[tuple[float, float]] = []
    at = 0.0
    for s0, s1 in spans:
        if s0 > at:
            gaps.append((at, s0))
        at = max(at, s1)
    if at < 1.0:
        gaps.append((at, 1.0))
    return gaps


def dark_intervals(
    xs: Sequence[float], ys: Sequence[float], lx: FloatArray, ly: FloatArray, r: float,
    *, use_index: bool = True,
) -> list[list[Coord]]:  # fmt: skip
    """Planar core of ``dark_gaps``: the polylines (x/y metres) of the route (xs, ys) farther
    than ``r`` from every lamp. ``use_index=False`` tests every lamp against every segment (the
    brute-force anchor of the benchmark)."""
    tree = shapely.STRtree(shapely.points(lx, ly)) if use_index and len(lx) else None
    pieces: list[list[Coord]] = []
    current: list[Coord] = []

    def close() -> None:
        nonlocal current
        if len(current) >= 2:
            pieces.append(current)
        current = []

    for i in range(len(xs) - 1):
        ax, ay, bx, by = xs[i], ys[i], xs[i + 1], ys[i + 1]
        if tree is not None:
            box = shapely.box(min(ax, bx) - r, min(ay, by) - r, max(ax, bx) + r, max(ay, by) + r)
            near = tree.query(box)
            sx, sy = lx[near], ly[near]
        else:
            sx, sy = lx, ly
        gaps = _complement(_lit_spans(ax, ay, bx, by, sx, sy, r))
        for g0, g1 in gaps:
            start, end = _at(ax, ay, bx, by, g0), _at(ax, ay, bx, by, g1)
            if current and g0 == 0.0 and current[-1] == start:
                current.append(end)  # the gap runs on from the previous segment
            else:
                close()
                current = [start, end]
            if g1 < 1.0:
                close()
        if not gaps:
            close()
    close()
    return pieces


@dataclass(frozen=True, slots=True)
class DarkGap:
    """A dark stretch of a route: its (lon, lat) polyline and its length in metres."""

    coordinates: list[Coord]
    length_m: float

    @property
    def line(self) -> LineString:
        return LineString(self.coordinates)


def dark_gaps(
    route: Sequence[Coord],
    lamps: Sequence[Coord],
    max_gap_m: float,
    *,
    min_length_m: float = 0.0,
    use_index: bool = True,
) -> list[DarkGap]:
    """The stretches of ``route`` (lon, lat vertices) farther than ``max_gap_m`` metres from
    every lamp (lon, lat), in route order; stretches shorter than ``min_length_m`` are dropped.
    ``use_index=False`` is the brute-force anchor: every lamp against every segment."""
    if len(route) < 2:
        return []
    if not (math.isfinite(max_gap_m) and max_gap_m >= 0):
        raise ValueError("max_gap_m must be a non-negative number")
    t = _centre([p[0] for p in route], [p[1] for p in route])
    xs, ys = t.forward([p[0] for p in route], [p[1] for p in route])
    lamp_array = np.asarray(lamps, dtype=np.float64).reshape(-1, 2)
    if use_index and len(lamp_array):
        # Only lamps in the route's box widened by the distance can light it: projecting and
        # indexing a whole municipality's register for one walk would cost more than the walk.
        lo = bbox_around(min(p[0] for p in route), min(p[1] for p in route), max_gap_m * 1.01)
        hi = bbox_around(max(p[0] for p in route), max(p[1] for p in route), max_gap_m * 1.01)
        inside = (
            (lamp_array[:, 0] >= lo[0]) & (lamp_array[:, 0] <= hi[2])
            & (lamp_array[:, 1] >= lo[1]) & (lamp_array[:, 1] <= hi[3])
        )  # fmt: skip
        lamp_array = lamp_array[inside]
    if len(lamp_array):
        lx, ly = t.forward(lamp_array[:, 0], lamp_array[:, 1])
    else:
        lx, ly = np.empty(0), np.empty(0)
    out: list[DarkGap] = []
    for piece in dark_intervals(xs.tolist(), ys.tolist(), lx, ly, max_gap_m, use_index=use_index):
        length = float(LineString(piece).length)
        if length <= 0.0 or length < min_length_m:
            continue
        lons, lats = t.inverse([p[0] for p in piece], [p[1] for p in piece])
        coords = [(round(float(x), 7), round(float(y), 7)) for x, y in zip(lons, lats, strict=True)]
        out.append(DarkGap(coords, round(length, 2)))
    return out
