"""Benchmark: the "far from its walk?" check that every captured observation now passes.

A `geo.nearness.Fence` scales the walk's area (and route) into metres once, then each point costs
one shapely distance. Timed for a walk-sized area drawn by hand (5 vertices), an imported
district (500) and a detailed municipal boundary (5,000): building the fence (once per request,
or per batch), checking one point, and, for comparison, projecting the shape with pyproj around
each point (the first version of this check), each against the rest of a capture's pure work
on the same point (sun position for `is_dark` and the H3 cell), as ratios measured in this run.

    python bench/bench_plausibility.py
"""

from __future__ import annotations

import math
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import shapely  # noqa: E402
from shapely.geometry import Polygon  # noqa: E402

from geo.hotspots import cell_r15  # noqa: E402
from geo.nearness import Fence  # noqa: E402
from geo.projection import local_transformer  # noqa: E402
from geo.sun import is_dark  # noqa: E402

LON0, LAT0 = 5.7352, 58.8517
RUNS = 2000
X, Y = LON0 + 0.2, LAT0  # ~11 km east of the area: the whole shape is measured


def ring(vertices: int, radius_deg: float = 0.02) -> Polygon:
    """A wobbly circle of ``vertices`` points around Sandnes (like a digitised boundary)."""
    pts = []
    for i in range(vertices):
        a = 2 * math.pi * i / vertices
        r = radius_deg * (1 + 0.05 * math.sin(7 * a))
        pts.append((LON0 + r * math.cos(a) * 2, LAT0 + r * math.sin(a)))
    return Polygon(pts)


def per_call_us(fn, runs: int = RUNS) -> float:  # type: ignore[no-untyped-def]
    samples = []
    for _ in range(5):
        t = time.perf_counter()
        for i in range(runs):
            fn(i)
        samples.append((time.perf_counter() - t) / runs * 1e6)
    return statistics.median(samples)


def main() -> None:
    when = datetime(2026, 11, 3, 18, 42, tzinfo=UTC)

    def baseline(i: int) -> None:
        lon, lat = LON0 + i * 1e-6, LAT0
        is_dark(lat, lon, when)
        cell_r15(lat, lon)

    base = per_call_us(baseline)
    print(f"sun position + H3 cell (the rest of capture's pure work): {base:8.1f} µs")
    for n in (5, 500, 5000):
        area = ring(n)
        fence = Fence.around([area])
        assert fence is not None
        few = RUNS if n < 5000 else RUNS // 10

        def build(i: int, area: Polygon = area) -> None:
            Fence.around([area])

        def check(i: int, fence: Fence = fence) -> None:
            fence.distance_m(X + i * 1e-6, Y)

        def pyproj_each(i: int, area: Polygon = area) -> None:
            tr = local_transformer(X + i * 1e-6, Y)

            def project(coords: np.ndarray) -> np.ndarray:
                xs, ys = tr.forward(coords[:, 0], coords[:, 1])
                return np.column_stack([xs, ys])

            shapely.transform(area, project).distance(shapely.Point(*tr.forward([X], [Y])))

        t_build, t_check = per_call_us(build, few), per_call_us(check)
        t_pyproj = per_call_us(pyproj_each, few)
        print(
            f"area of {n:>5,} vertices: build fence {t_build:8.1f} µs "
            f"({t_build / base:6.2f}×), check a point {t_check:6.1f} µs "
            f"({t_check / base:5.2f}×), pyproj per point {t_pyproj:8.1f} µs "
            f"({t_pyproj / base:7.2f}×, {t_pyproj / t_check:5.0f}× the check)"
        )


if __name__ == "__main__":
    main()
