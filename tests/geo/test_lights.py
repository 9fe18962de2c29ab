"""Snapping and dark gaps against brute force, and EV/lux from an exposure."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

from geo.exposure import LIGHTING_CLASSES, ev100, lux_from_ev100
from geo.lights import dark_gaps, dark_intervals, snap_points
from geo.projection import geodesic_distance_m, local_transformer

BASE = (5.7352, 58.8517)
M_LAT = 1 / 111_320
M_LON = 1 / (111_320 * math.cos(math.radians(BASE[1])))


def at(east: float, north: float) -> tuple[float, float]:
    return BASE[0] + east * M_LON, BASE[1] + north * M_LAT


def test_snap_matches_brute_force_with_geodesic_distances() -> None:
    rng = random.Random(25)
    lamps = [at(rng.uniform(-400, 400), rng.uniform(-400, 400)) for _ in range(400)]
    points = [at(rng.uniform(-420, 420), rng.uniform(-420, 420)) for _ in range(300)]
    snaps = snap_points(points, lamps, 15.0)
    hits = 0
    for p, snap in zip(points, snaps, strict=True):
        dists = [geodesic_distance_m(p[0], p[1], q[0], q[1]) for q in lamps]
        best = min(range(len(lamps)), key=lambda i: dists[i])
        if dists[best] <= 15.0 - 0.01:
            hits += 1
            assert snap.index == best
            assert snap.distance_m == pytest.approx(dists[best], abs=0.01)
        elif dists[best] > 15.0 + 0.01:
            assert snap.index is None
            assert snap.distance_m is None
    assert hits > 20  # the case is exercised, not only the misses


def test_no_snap_beyond_the_distance_and_none_without_lamps() -> None:
    lamp = at(0, 0)
    assert snap_points([at(14.9, 0)], [lamp], 15.0)[0].index == 0
    assert snap_points([at(15.2, 0)], [lamp], 15.0)[0].index is None
    assert snap_points([at(1, 1)], [], 15.0)[0].index is None
    assert snap_points([], [lamp], 15.0) == []


def _sampled_dark_length(
    xs: list[float], ys: list[float], lx: np.ndarray, ly: np.ndarray, r: float, step: float
) -> float:
    """Brute force: sample the route every ``step`` metres, test every lamp."""
    dark = 0.0
    for i in range(len(xs) - 1):
        length = math.hypot(xs[i + 1] - xs[i], ys[i + 1] - ys[i])
        n = max(1, int(length / step))
        ts = (np.arange(n) + 0.5) / n
        px = xs[i] + (xs[i + 1] - xs[i]) * ts
        py = ys[i] + (ys[i + 1] - ys[i]) * ts
        d2 = (px[:, None] - lx[None, :]) ** 2 + (py[:, None] - ly[None, :]) ** 2
        far = d2.min(axis=1) > r * r if len(lx) else np.ones(n, dtype=bool)
        dark += float(far.sum()) * length / n
    return dark


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_dark_gaps_match_brute_force(seed: int) -> None:
    rng = random.Random(seed)
    route = [at(0, 0)]
    for _ in range(12):
        x, y = route[-1]
        route.append((x + rng.uniform(-60, 120) * M_LON, y + rng.uniform(-60, 120) * M_LAT))
    lamps = [at(rng.uniform(-50, 900), rng.uniform(-50, 900)) for _ in range(120)]
    gaps = dark_gaps(route, lamps, 25.0)
    t = local_transformer(*np.mean(np.array(route), axis=0))
    xs, ys = t.forward([p[0] for p in route], [p[1] for p in route])
    lx, ly = t.forward([q[0] for q in lamps], [q[1] for q in lamps])
    expected = _sampled_dark_length(xs.tolist(), ys.tolist(), lx, ly, 25.0, 0.05)
    assert sum(g.length_m for g in gaps) == pytest.approx(expected, abs=0.5)
    # The index changes nothing: every lamp against every segment gives the same pieces.
    indexed = dark_intervals(xs.tolist(), ys.tolist(), lx, ly, 25.0)
    brute = dark_intervals(xs.tolist(), ys.tolist(), lx, ly, 25.0, use_index=False)
    assert indexed == brute
    # Every point of a gap is farther than 25 m from every lamp (checked on its vertices
    # and midpoints, geodesically).
    for g in gaps:
        for a, b in zip(g.coordinates, g.coordinates[1:], strict=False):
            mid = ((a[0] + b[0]) / 2, (a[1] + b[1]) / 2)
            nearest = min(geodesic_distance_m(*mid, *q) for q in lamps)
            assert nearest > 25.0 - 0.05


def test_a_gap_runs_over_route_vertices_and_a_lit_route_has_none() -> None:
    route = [at(0, 0), at(100, 0), at(100, 100)]
    gaps = dark_gaps(route, [], 25.0)
    assert len(gaps) == 1
    along = sum(geodesic_distance_m(*a, *b) for a, b in zip(route, route[1:], strict=False))
    assert gaps[0].length_m == pytest.approx(along, abs=0.02)
    lamps = [at(x, 0) for x in range(0, 101, 20)] + [at(100, y) for y in range(0, 101, 20)]
    assert dark_gaps(route, lamps, 25.0) == []
    # One lamp at the corner: two dark ends, 75 m each, split by its 50 m of light.
    gaps = dark_gaps(route, [at(100, 0)], 25.0)
    assert [g.length_m for g in gaps] == [pytest.approx(along / 2 - 25, abs=0.5)] * 2


def test_ev100_and_lux() -> None:
    # f/1.8, 1/10 s, ISO 1600: log2(3.24 / 0.1) - log2(16) = 1.018...
    ev = ev100(0.1, 1.8, 1600)
    assert ev == pytest.approx(math.log2(1.8**2 / 0.1) - 4.0)
    assert lux_from_ev100(0.0) == 2.5
    assert lux_from_ev100(ev or 0) == pytest.approx(2.5 * 2**ev)  # type: ignore[operator]
    assert ev100(None, 1.8, 100) is None
    assert ev100(0.0, 1.8, 100) is None
    assert ev100(1 / 60, 1.8, -5) is None
    assert LIGHTING_CLASSES["P4"] == 5.0
