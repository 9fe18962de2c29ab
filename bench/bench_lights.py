"""Street lights, pure (no database): snapping 10,000 observations against 50,000 lamps, and
the dark gaps of a 5 km route against 50,000 lamps, each against a brute-force anchor in the
same run (every lamp against every observation, every lamp against every route segment).

Run: .venv/bin/python bench/bench_lights.py [--lamps 50000] [--observations 10000]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from geo.lights import dark_gaps, dark_intervals, snap_points
from geo.projection import local_transformer

SANDNES = (5.7352, 58.8517)
SNAP_M = 15.0
GAP_M = 25.0
REPEATS = 3


def lamps_and_points(n_lamps: int, n_obs: int, seed: int = 25) -> tuple[list, list]:
    """Lamps on a 10 × 10 km grid of streets (about 30 m apart along them), observations
    scattered near streets, as reports of lighting are."""
    rng = np.random.default_rng(seed)
    t = local_transformer(*SANDNES)
    streets = rng.integers(0, 100, size=n_lamps) * 100.0  # every 100 m
    along = rng.uniform(-5000, 5000, size=n_lamps)
    horizontal = rng.random(n_lamps) < 0.5
    x = np.where(horizontal, along, streets - 5000)
    y = np.where(horizontal, streets - 5000, along)
    lon, lat = t.inverse(x, y)
    lamps = list(zip(lon.tolist(), lat.tolist(), strict=True))
    pick = rng.integers(0, n_lamps, size=n_obs)
    ox = x[pick] + rng.normal(0, 12, size=n_obs)
    oy = y[pick] + rng.normal(0, 12, size=n_obs)
    olon, olat = t.inverse(ox, oy)
    return lamps, list(zip(olon.tolist(), olat.tolist(), strict=True))


def brute_snap(points: list, lamps: list) -> list[int | None]:
    t = local_transformer(*np.mean(np.array(points), axis=0))
    px, py = t.forward([p[0] for p in points], [p[1] for p in points])
    lx, ly = t.forward([q[0] for q in lamps], [q[1] for q in lamps])
    out: list[int | None] = []
    for i in range(len(points)):
        d2 = (lx - px[i]) ** 2 + (ly - py[i]) ** 2
        j = int(np.argmin(d2))
        out.append(j if d2[j] <= SNAP_M**2 else None)
    return out


def route_5km(seed: int = 7) -> list[tuple[float, float]]:
    """A 5 km walk along the street grid: 50 legs of 100 m, turning now and then."""
    rng = np.random.default_rng(seed)
    t = local_transformer(*SANDNES)
    x, y, pts = 0.0, 0.0, [(0.0, 0.0)]
    dx, dy = 100.0, 0.0
    for _ in range(50):
        if rng.random() < 0.3:
            dx, dy = (-dy, dx) if rng.random() < 0.5 else (dy, -dx)
        x, y = x + dx, y + dy
        pts.append((x, y))
    lon, lat = t.inverse([p[0] for p in pts], [p[1] for p in pts])
    return list(zip(lon.tolist(), lat.tolist(), strict=True))


def best(fn, repeats: int = REPEATS) -> tuple[float, object]:  # type: ignore[no-untyped-def]
    timings, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        timings.append(time.perf_counter() - start)
    return min(timings), result


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lamps", type=int, default=50_000)
    ap.add_argument("--observations", type=int, default=10_000)
    args = ap.parse_args()
    lamps, points = lamps_and_points(args.lamps, args.observations)

    fast_s, snaps = best(lambda: snap_points(points, lamps, SNAP_M))
    brute_s, brute = best(lambda: brute_snap(points, lamps), repeats=1)
    same = sum(1 for s, b in zip(snaps, brute, strict=True) if s.index == b)  # type: ignore[attr-defined]
    linked = sum(1 for b in brute if b is not None)
    print(
        f"snapping {len(points):,} observations to {len(lamps):,} lamps: {fast_s:.3f} s "
        f"(brute force {brute_s:.2f} s, {brute_s / fast_s:.0f}x); "
        f"{same:,}/{len(points):,} identical picks, {linked:,} within {SNAP_M:.0f} m"
    )

    route = route_5km()
    t = local_transformer(*np.mean(np.array(route), axis=0))
    xs, ys = t.forward([p[0] for p in route], [p[1] for p in route])
    lx, ly = t.forward([q[0] for q in lamps], [q[1] for q in lamps])
    length = float(np.hypot(np.diff(xs), np.diff(ys)).sum())
    gaps_s, gaps = best(lambda: dark_gaps(route, lamps, GAP_M))
    brute_gaps_s, brute_gaps = best(
        lambda: dark_gaps(route, lamps, GAP_M, use_index=False), repeats=1
    )
    pieces = dark_intervals(xs.tolist(), ys.tolist(), lx, ly, GAP_M)
    brute_pieces = dark_intervals(xs.tolist(), ys.tolist(), lx, ly, GAP_M, use_index=False)
    dark = sum(g.length_m for g in gaps)  # type: ignore[attr-defined]
    print(
        f"dark gaps of a {length / 1000:.1f} km route among {len(lamps):,} lamps: "
        f"{gaps_s * 1000:.1f} ms (every lamp against every segment {brute_gaps_s * 1000:.0f} ms, "
        f"{brute_gaps_s / gaps_s:.0f}x); {len(gaps)} gaps, {dark:.0f} m dark; "  # type: ignore[arg-type]
        f"same pieces as brute force: {pieces == brute_pieces and gaps == brute_gaps}"
    )


if __name__ == "__main__":
    main()
