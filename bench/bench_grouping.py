"""Benchmark for geo.grouping: STRtree grouping against a naive all-pairs check.

Usage: python bench/bench_grouping.py [N]   (default 100000)

Generates N synthetic observations over a 5 km x 5 km area around Sandnes in 6 categories, as
clusters of 1-10 points within 20 m of a centre (one category per cluster, as when several
participants report the same dark path). Everything is seeded, so runs are comparable.
"""

import random
import sys
import time
import uuid
from collections.abc import Callable
from typing import TypeVar

import numpy as np
from scipy.sparse import coo_array
from scipy.sparse.csgraph import connected_components

from geo.grouping import Candidate, GroupPoint, group_points, nearest_within
from geo.projection import local_transformer

T = TypeVar("T")

CENTRE = (5.73, 58.85)  # Sandnes
SIDE_M = 5_000.0
CLUSTER_RADIUS_M = 20.0
DISTANCES = {
    "lighting": 35.0,
    "vegetation": 25.0,
    "graffiti": 20.0,
    "fence": 20.0,
    "litter": 30.0,
    "path_surface": 30.0,
}
NAIVE_SUBSET = 5_000
NEAREST_CANDIDATES = 50
NEAREST_CALLS = 20_000
SEED = 20261215


def synthetic_points(n: int, seed: int = SEED) -> list[GroupPoint]:
    rng = np.random.default_rng(seed)
    id_rng = random.Random(seed)
    sizes: list[int] = []
    while sum(sizes) < n:
        sizes.append(int(rng.integers(1, 11)))
    sizes[-1] -= sum(sizes) - n
    n_clusters = len(sizes)
    centres = rng.uniform(-SIDE_M / 2, SIDE_M / 2, size=(n_clusters, 2))
    categories = rng.choice(sorted(DISTANCES), size=n_clusters)
    cluster_of = np.repeat(np.arange(n_clusters), sizes)
    # Uniform in a disc: radius ~ sqrt(u) keeps the density flat.
    radius = CLUSTER_RADIUS_M * np.sqrt(rng.uniform(0.0, 1.0, n))
    angle = rng.uniform(0.0, 2 * np.pi, n)
    xs = centres[cluster_of, 0] + radius * np.cos(angle)
    ys = centres[cluster_of, 1] + radius * np.sin(angle)
    lons, lats = local_transformer(*CENTRE).inverse(xs, ys)
    return [
        GroupPoint(
            id=str(uuid.UUID(int=id_rng.getrandbits(128), version=4)),
            category=str(categories[cluster_of[i]]),
            lon=float(lons[i]),
            lat=float(lats[i]),
        )
        for i in range(n)
    ]


def naive_group_points(points: list[GroupPoint], distances: dict[str, float]) -> list[list[str]]:
    """All pairs in numpy, O(n^2): the same answer as group_points without a spatial index."""
    members = [p for p in points if p.category in distances]
    n = len(members)
    lons = np.array([p.lon for p in members])
    lats = np.array([p.lat for p in members])
    xs, ys = local_transformer(float(lons.mean()), float(lats.mean())).forward(lons, lats)
    codes, cat = np.unique([p.category for p in members], return_inverse=True)
    limit = np.array([distances[c] + 1e-3 for c in codes.tolist()])[cat]
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    block = 500  # rows at a time, so memory stays at block x n instead of n x n
    for start in range(0, n, block):
        stop = min(start + block, n)
        dx = xs[start:stop, None] - xs[None, :]
        dy = ys[start:stop, None] - ys[None, :]
        linked = (dx * dx + dy * dy <= (limit[start:stop, None]) ** 2) & (
            cat[start:stop, None] == cat[None, :]
        )
        r, c = np.nonzero(linked)
        rows.append(r + start)
        cols.append(c)
    row_idx, col_idx = np.concatenate(rows), np.concatenate(cols)
    graph = coo_array((np.ones(row_idx.size, dtype=np.int8), (row_idx, col_idx)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    groups: dict[int, list[str]] = {}
    for i in sorted(range(n), key=lambda k: members[k].id):
        groups.setdefault(int(labels[i]), []).append(members[i].id)
    return list(groups.values())


def best_of(repeats: int, fn: Callable[[], T]) -> tuple[float, T]:
    best = float("inf")
    result: T | None = None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    assert result is not None
    return best, result


def nearest_candidates(seed: int = SEED) -> tuple[tuple[float, float], list[Candidate]]:
    """50 open items within ~150 m of a query point, like a bounding-box pre-filter returns."""
    rng = np.random.default_rng(seed + 1)
    xs, ys = rng.uniform(-150.0, 150.0, size=(2, NEAREST_CANDIDATES))
    lons, lats = local_transformer(*CENTRE).inverse(xs, ys)
    candidates = [
        Candidate(key=f"item-{i:03d}", lon=float(lon), lat=float(lat))
        for i, (lon, lat) in enumerate(zip(lons, lats, strict=True))
    ]
    return CENTRE, candidates


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    points = synthetic_points(n)

    full_s, groups = best_of(3, lambda: group_points(points, DISTANCES))
    multi = sum(1 for g in groups if len(g) > 1)
    largest = max(len(g) for g in groups)

    subset = points[: min(NAIVE_SUBSET, n)]
    tree_s, tree_groups = best_of(3, lambda: group_points(subset, DISTANCES))
    naive_s, naive_groups = best_of(3, lambda: naive_group_points(subset, DISTANCES))
    agree = "yes" if tree_groups == naive_groups else "NO"
    naive_full_est_s = naive_s * (n / len(subset)) ** 2

    (lon, lat), candidates = nearest_candidates()
    radius = DISTANCES["lighting"]

    def nearest_loop() -> int:
        hits = 0
        for _ in range(NEAREST_CALLS):
            hits += nearest_within(lon, lat, candidates, radius) is not None
        return hits

    nearest_s, _ = best_of(3, nearest_loop)

    rows = [
        ("points", f"{n:,}"),
        ("categories", f"{len(DISTANCES)}"),
        ("group_points, best of 3", f"{full_s:.3f} s"),
        ("throughput", f"{n / full_s:,.0f} points/s"),
        ("groups (action items)", f"{len(groups):,}"),
        ("groups with >1 point", f"{multi:,}"),
        ("largest group", f"{largest:,} points"),
        (f"group_points on {len(subset):,}", f"{tree_s * 1e3:.1f} ms"),
        (f"naive O(n^2) numpy on {len(subset):,}", f"{naive_s * 1e3:.1f} ms"),
        ("naive / STRtree, same subset", f"{naive_s / tree_s:.1f}x"),
        ("same groups on subset", agree),
        (f"naive on {n:,}, extrapolated n^2", f"{naive_full_est_s:.1f} s"),
        (
            f"nearest_within, {NEAREST_CANDIDATES} candidates",
            f"{nearest_s / NEAREST_CALLS * 1e6:.1f} us/call",
        ),
    ]
    width = max(len(label) for label, _ in rows)
    print("geo.grouping benchmark")
    print("-" * (width + 20))
    for label, value in rows:
        print(f"{label:<{width}}  {value:>16}")


if __name__ == "__main__":
    main()
