"""Time geo.hotspots.gi_star on 5,000 and 20,000 non-empty H3 cells (no database).

Run: .venv/bin/python bench/bench_hotspots_pure.py
"""

from __future__ import annotations

import time

import h3
import numpy as np

from geo.hotspots import gi_star

OSLO = (59.9139, 10.7522)
REPEATS = 5


def make_counts(n_cells: int, seed: int = 0) -> dict[str, float]:
    """n_cells random cells out of a resolution-9 disk around Oslo, with skewed counts."""
    rng = np.random.default_rng(seed)
    # A disk of radius k holds 3k(k+1)+1 cells; take about twice what we need, then sample so
    # the region keeps many empty neighbours, as real data does.
    k = int(np.ceil(np.sqrt(2 * n_cells / 3))) + 1
    disk = h3.grid_disk(h3.latlng_to_cell(*OSLO, 9), k)
    chosen = rng.choice(len(disk), size=n_cells, replace=False)
    values = rng.geometric(0.3, size=n_cells)
    return {disk[i]: float(v) for i, v in zip(chosen, values, strict=True)}


def best_of(counts: dict[str, float]) -> float:
    timings = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        gi_star(counts)
        timings.append(time.perf_counter() - start)
    return min(timings)


def main() -> None:
    for n_cells in (5_000, 20_000):
        counts = make_counts(n_cells)
        seconds = best_of(counts)
        print(f"gi_star {n_cells:>6} non-empty cells: {seconds * 1000:7.1f} ms (best of {REPEATS})")


if __name__ == "__main__":
    main()
