"""Tests for geo.hotspots: H3 parent bit masks, Gi* against PySAL, FDR classes.

Regenerate the stored Gi* reference (needs esda): `python -m tests.geo.test_hotspots`.
"""

from __future__ import annotations

import json
import math
import sqlite3
from collections import Counter
from pathlib import Path
from typing import Any

import h3
import numpy as np
import pytest

from geo.hotspots import (
    MIN_CELLS,
    GiResult,
    benjamini_hochberg,
    cell_id,
    cell_r15,
    gi_star,
    parent_mask,
)

REFERENCE = Path(__file__).parent / "data" / "gi_reference.json"
OSLO = (59.9139, 10.7522)
M_PER_DEG_LAT = 111_320.0
INT64_MAX = 2**63 - 1
CLASSES = {
    "hot_99",
    "hot_95",
    "hot_90",
    "cold_99",
    "cold_95",
    "cold_90",
    "not_significant",
}

# libpysal warns about disconnected regions (scattered cells are islands of cells) from inside
# its own code when esda fills the diagonal; that is expected here, not a problem.
ESDA_WARNINGS = pytest.mark.filterwarnings(
    "ignore:The weights matrix is not fully connected:UserWarning"
)


# ---------------------------------------------------------------- data builders


def _counts(lats: np.ndarray, lons: np.ndarray, res: int) -> dict[str, float]:
    cells = Counter(
        h3.latlng_to_cell(float(a), float(b), res) for a, b in zip(lats, lons, strict=True)
    )
    return {cell: float(n) for cell, n in cells.items()}


def _disc(
    rng: np.random.Generator, n: int, centre: tuple[float, float], radius_m: float
) -> tuple[np.ndarray, np.ndarray]:
    """n points uniform in a disc of radius_m metres around centre (lat, lon)."""
    r = radius_m * np.sqrt(rng.uniform(0, 1, n))
    theta = rng.uniform(0, 2 * np.pi, n)
    lat = centre[0] + r * np.cos(theta) / M_PER_DEG_LAT
    lon = centre[1] + r * np.sin(theta) / (M_PER_DEG_LAT * math.cos(math.radians(centre[0])))
    return lat, lon


def _box(
    rng: np.random.Generator, n: int, centre: tuple[float, float], side_m: float
) -> tuple[np.ndarray, np.ndarray]:
    """n points uniform in a square of side_m metres around centre (lat, lon)."""
    half_lat = side_m / 2 / M_PER_DEG_LAT
    half_lon = half_lat / math.cos(math.radians(centre[0]))
    lat = centre[0] + rng.uniform(-half_lat, half_lat, n)
    lon = centre[1] + rng.uniform(-half_lon, half_lon, n)
    return lat, lon


def oslo_scatter(seed: int = 7) -> dict[str, float]:
    """About 2,000 points scattered around Oslo, binned at resolution 9."""
    rng = np.random.default_rng(seed)
    lat = OSLO[0] + rng.normal(0, 0.02, 2_000)
    lon = OSLO[1] + rng.normal(0, 0.04, 2_000)
    return _counts(lat, lon, 9)


def cluster_and_noise(
    seed: int = 11, cluster: int = 300, background: int = 1_000, side_m: float = 10_000.0
) -> dict[str, float]:
    """A dense cluster (within 100 m) amid uniform background points, resolution 9."""
    rng = np.random.default_rng(seed)
    clat, clon = _disc(rng, cluster, OSLO, 100.0)
    blat, blon = _box(rng, background, OSLO, side_m)
    return _counts(np.concatenate([clat, blat]), np.concatenate([clon, blon]), 9)


def around_pentagon(seed: int = 3) -> dict[str, float]:
    """Random counts on cells around a resolution-7 pentagon (its disk has 6 cells, not 7)."""
    rng = np.random.default_rng(seed)
    pentagon = h3.get_pentagons(7)[4]
    counts = {cell: float(rng.poisson(2.0)) for cell in h3.grid_disk(pentagon, 6)}
    counts[pentagon] = 25.0
    return {cell: n for cell, n in counts.items() if n > 0}


def reference_counts() -> dict[str, float]:
    """The small data set stored in the JSON fixture."""
    return cluster_and_noise(seed=5, cluster=60, background=70, side_m=3_000.0)


def esda_gi(counts: dict[str, float]) -> dict[str, tuple[float, float]]:
    """Gi* z and two-sided p from PySAL, on the region and weights gi_star documents."""
    esda = pytest.importorskip("esda")
    weights = pytest.importorskip("libpysal.weights")
    region: set[str] = set(counts)
    for cell in counts:
        region.update(h3.grid_disk(cell, 1))
    ids = sorted(region)
    neighbours = {c: [d for d in h3.grid_disk(c, 1) if d != c and d in region] for c in ids}
    w = weights.W(neighbours, id_order=ids, silence_warnings=True)
    y = np.array([counts.get(c, 0.0) for c in ids])
    g = esda.G_Local(y, w, transform="B", star=True, permutations=0)
    # star=True on a W without self-weights: esda fills the diagonal with 1 (binary transform).
    assert np.all(g.w.sparse.diagonal() == 1.0)
    # p_norm is one-sided, norm.sf(|Zs|); the two-sided p is twice that.
    return {c: (float(g.Zs[i]), float(2.0 * g.p_norm[i])) for i, c in enumerate(ids) if c in counts}


# ---------------------------------------------------------------- H3 helpers


@pytest.fixture(scope="module")
def r15_cells() -> list[int]:
    rng = np.random.default_rng(2024)
    # Uniform on the sphere, plus a dense patch around Oslo.
    lat = np.degrees(np.arcsin(rng.uniform(-1, 1, 3_000)))
    lon = rng.uniform(-180, 180, 3_000)
    olat, olon = _box(rng, 500, OSLO, 2_000.0)
    cells = [cell_r15(float(a), float(b)) for a, b in zip(lat, lon, strict=True)]
    cells += [cell_r15(float(a), float(b)) for a, b in zip(olat, olon, strict=True)]
    # Pentagons: the res-15 pentagons, every res-15 descendant of res-12 pentagons (their digit
    # paths skip the deleted subsequence), and points right next to the pentagon centres.
    cells += [h3.str_to_int(p) for p in h3.get_pentagons(15)]
    for pentagon in h3.get_pentagons(12):
        cells += [h3.str_to_int(c) for c in h3.cell_to_children(pentagon, 15)]
    for pentagon in h3.get_pentagons(0):
        plat, plon = h3.cell_to_latlng(pentagon)
        cells += [cell_r15(plat + d, plon + d) for d in (-1e-6, 0.0, 1e-6)]
    return cells


@pytest.mark.parametrize("resolution", [pytest.param(r, id=f"res-{r}") for r in range(16)])
def test_parent_mask_matches_cell_to_parent(r15_cells: list[int], resolution: int) -> None:
    and_mask, or_bits = parent_mask(resolution)
    for cell in r15_cells:
        expected = h3.str_to_int(h3.cell_to_parent(h3.int_to_str(cell), resolution))
        assert (cell & and_mask) | or_bits == expected, h3.int_to_str(cell)


@pytest.mark.parametrize("resolution", [pytest.param(r, id=f"res-{r}") for r in range(16)])
def test_parent_mask_in_signed_int64(r15_cells: list[int], resolution: int) -> None:
    and_mask, or_bits = parent_mask(resolution)
    assert 0 <= and_mask <= INT64_MAX
    assert 0 <= or_bits <= INT64_MAX
    # The same arithmetic on signed 64-bit integers, as PostgreSQL bigint would do it.
    assert all(0 <= c <= INT64_MAX for c in r15_cells)
    signed = np.asarray(r15_cells, dtype=np.int64)
    parents = (signed & np.int64(and_mask)) | np.int64(or_bits)
    expected = [h3.str_to_int(h3.cell_to_parent(h3.int_to_str(c), resolution)) for c in r15_cells]
    assert parents.tolist() == expected


def test_parent_mask_in_sqlite(r15_cells: list[int]) -> None:
    sample = r15_cells[::50]
    with sqlite3.connect(":memory:") as db:
        for resolution in range(16):
            and_mask, or_bits = parent_mask(resolution)
            for cell in sample:
                (parent,) = db.execute("SELECT (? & ?) | ?", (cell, and_mask, or_bits)).fetchone()
                assert cell_id(parent) == h3.cell_to_parent(h3.int_to_str(cell), resolution)


@pytest.mark.parametrize(
    "resolution",
    [
        pytest.param(-1, id="negative"),
        pytest.param(16, id="finer-than-15"),
        pytest.param(True, id="bool"),
    ],
)
def test_parent_mask_rejects_bad_resolution(resolution: int) -> None:
    with pytest.raises(ValueError, match="resolution"):
        parent_mask(resolution)


def test_cell_r15_and_cell_id_round_trip() -> None:
    cell = cell_r15(*OSLO)
    text = cell_id(cell)
    assert text == h3.latlng_to_cell(*OSLO, 15)
    assert h3.get_resolution(text) == 15
    assert h3.str_to_int(text) == cell
    assert h3.cell_to_parent(text, 9) == h3.latlng_to_cell(*OSLO, 9)


@pytest.mark.parametrize(
    "cell",
    [
        pytest.param(-1, id="negative"),
        pytest.param(0, id="zero"),
        pytest.param(2**63, id="above-int64"),
    ],
)
def test_cell_id_rejects_non_cells(cell: int) -> None:
    with pytest.raises(ValueError, match="not an H3 cell"):
        cell_id(cell)


# ---------------------------------------------------------------- Gi* against PySAL


@ESDA_WARNINGS
@pytest.mark.parametrize(
    "counts",
    [
        pytest.param(oslo_scatter(), id="oslo-scatter"),
        pytest.param(cluster_and_noise(), id="cluster-and-noise"),
        pytest.param(around_pentagon(), id="around-pentagon"),
    ],
)
def test_gi_star_matches_esda(counts: dict[str, float]) -> None:
    pytest.importorskip("esda")
    assert len(counts) >= MIN_CELLS
    expected = esda_gi(counts)
    got = gi_star(counts)
    assert got.keys() == counts.keys()
    for cell, (z, p) in expected.items():
        assert got[cell].z == pytest.approx(z, rel=1e-9, abs=1e-9), cell
        assert got[cell].p == pytest.approx(p, rel=1e-9, abs=1e-12), cell


def _load_reference() -> dict[str, Any]:
    reference: dict[str, Any] = json.loads(REFERENCE.read_text())
    return reference


def test_gi_star_matches_stored_reference() -> None:
    reference = _load_reference()
    counts = dict(zip(reference["cells"], reference["counts"], strict=True))
    got = gi_star(counts)
    assert len(got) == len(reference["cells"]) >= MIN_CELLS
    for cell, z, p in zip(reference["cells"], reference["z"], reference["p"], strict=True):
        assert got[cell].z == pytest.approx(z, rel=1e-9, abs=1e-9), cell
        assert got[cell].p == pytest.approx(p, rel=1e-9, abs=1e-12), cell


@ESDA_WARNINGS
def test_stored_reference_is_current() -> None:
    # Guards against a fixture drifting from what esda computes on the same data.
    pytest.importorskip("esda")
    reference = _load_reference()
    counts = dict(zip(reference["cells"], reference["counts"], strict=True))
    assert counts == reference_counts()
    expected = esda_gi(counts)
    for cell, z in zip(reference["cells"], reference["z"], strict=True):
        assert expected[cell][0] == pytest.approx(z, rel=1e-9, abs=1e-9), cell


# ---------------------------------------------------------------- classes


def test_cluster_is_hot_and_background_is_not() -> None:
    counts = cluster_and_noise()
    result = gi_star(counts)
    cluster_cells = {c for c, n in counts.items() if n >= 20}
    assert cluster_cells, "the 300-point cluster must produce dense cells"
    assert h3.latlng_to_cell(*OSLO, 9) in cluster_cells
    for cell in cluster_cells:
        assert result[cell].hotspot_class in {"hot_99", "hot_95"}, cell
    near_cluster = {n for c in cluster_cells for n in h3.grid_disk(c, 1)}
    background = [r.hotspot_class for c, r in result.items() if c not in near_cluster]
    assert len(background) > 500
    share = background.count("not_significant") / len(background)
    assert share >= 0.95


def test_hole_in_dense_field_is_cold() -> None:
    centre = h3.latlng_to_cell(*OSLO, 7)
    counts = {cell: 20.0 for cell in h3.grid_disk(centre, 10)}
    counts.update({cell: 1.0 for cell in h3.grid_disk(centre, 2)})
    result = gi_star(counts)[centre]
    assert result.z is not None
    assert result.z < 0
    assert result.hotspot_class == "cold_99"


def test_classes_follow_bh_levels() -> None:
    result = gi_star(oslo_scatter())
    cells = list(result)
    z = [result[c].z or 0.0 for c in cells]
    p = [result[c].p or 0.0 for c in cells]
    assert all(result[c].z is not None and result[c].p is not None for c in cells)
    levels = {q: benjamini_hochberg(p, q) for q in (0.01, 0.05, 0.10)}
    for i, cell in enumerate(cells):
        expected = "not_significant"
        for q, suffix in ((0.10, "90"), (0.05, "95"), (0.01, "99")):
            if levels[q][i] and z[i] != 0:
                expected = f"{'hot' if z[i] > 0 else 'cold'}_{suffix}"
        assert result[cell].hotspot_class == expected, cell
    # The scatter's dense centre spans all three levels, so every level is exercised.
    assert (
        {"hot_99", "hot_95", "hot_90", "not_significant"}
        <= {r.hotspot_class for r in result.values()}
        <= CLASSES
    )


@pytest.mark.parametrize(
    "n_cells",
    [
        pytest.param(0, id="empty"),
        pytest.param(1, id="one-cell"),
        pytest.param(29, id="one-below-minimum"),
    ],
)
def test_too_few_cells_is_insufficient_data(n_cells: int) -> None:
    cells = h3.grid_disk(h3.latlng_to_cell(*OSLO, 9), 4)[:n_cells]
    # Even an extreme count earns no class from so few cells.
    counts = {cell: 500.0 if i == 0 else 1.0 for i, cell in enumerate(cells)}
    result = gi_star(counts)
    assert result.keys() == counts.keys()
    assert all(r == GiResult(None, None, "insufficient_data") for r in result.values())


def test_minimum_cells_is_tested() -> None:
    assert MIN_CELLS == 30
    cells = h3.grid_disk(h3.latlng_to_cell(*OSLO, 9), 4)[:30]
    counts = {cell: float(i % 5 + 1) for i, cell in enumerate(cells)}
    result = gi_star(counts)
    assert all(r.z is not None and r.p is not None for r in result.values())
    assert all(r.hotspot_class != "insufficient_data" for r in result.values())


@pytest.mark.parametrize(
    "value",
    [pytest.param(5.0, id="integer-counts"), pytest.param(0.1, id="fractional-counts")],
)
def test_all_equal_region_gives_zero(value: float) -> None:
    # Every resolution-0 cell: the region adds no zero neighbours, so all values are equal.
    counts = {cell: value for cell in h3.get_res0_cells()}
    result = gi_star(counts)
    assert len(result) == 122
    assert all(r == GiResult(0.0, 1.0, "not_significant") for r in result.values())


@pytest.mark.parametrize(
    ("counts", "message"),
    [
        pytest.param(
            {**cluster_and_noise(), h3.latlng_to_cell(*OSLO, 8): 1.0},
            "one resolution",
            id="mixed-resolution",
        ),
        pytest.param({**cluster_and_noise(), "not-a-cell": 1.0}, "not an H3 cell", id="bad-cell"),
        pytest.param({"8a2a1072b59ffff": -1.0}, "non-negative", id="negative-count"),
        pytest.param({"8a2a1072b59ffff": math.nan}, "finite", id="nan-count"),
    ],
)
def test_gi_star_rejects_bad_input(counts: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        gi_star(counts)


# ---------------------------------------------------------------- Benjamini-Hochberg


@pytest.mark.parametrize(
    ("pvalues", "q", "expected"),
    [
        # m = 5, thresholds k * 0.05 / 5 = .01 .02 .03 .04 .05; sorted .005 .01 .028 .039 .2:
        # ranks 1-4 pass, rank 5 fails.
        pytest.param(
            [0.01, 0.039, 0.028, 0.005, 0.2],
            0.05,
            [True, True, True, True, False],
            id="textbook",
        ),
        # m = 4, thresholds .0125 .025 .0375 .05; sorted .001 .029 .03 .5: rank 2 fails its own
        # threshold but rank 3 passes, and step-up rejects everything up to rank 3.
        pytest.param(
            [0.5, 0.03, 0.001, 0.029],
            0.05,
            [False, True, True, True],
            id="step-up-past-a-failure",
        ),
        # Bonferroni would keep .012 (> .05 / 4); BH rejects all four (.012 <= .0125 ... .04).
        pytest.param([0.04, 0.012, 0.03, 0.02], 0.05, [True, True, True, True], id="all"),
        pytest.param([0.02, 0.3, 0.9], 0.05, [False, False, False], id="none"),
        pytest.param([0.02, 0.3, 0.9], 0.10, [True, False, False], id="looser-q"),
        pytest.param([0.004, 0.004, 0.02], 0.01, [True, True, False], id="ties"),
        pytest.param([], 0.05, [], id="empty"),
    ],
)
def test_benjamini_hochberg(pvalues: list[float], q: float, expected: list[bool]) -> None:
    assert benjamini_hochberg(pvalues, q) == expected


@pytest.mark.parametrize(
    ("pvalues", "q"),
    [
        pytest.param([0.1], 0.0, id="q-zero"),
        pytest.param([0.1], 1.5, id="q-above-one"),
        pytest.param([1.2], 0.05, id="p-above-one"),
        pytest.param([-0.1], 0.05, id="p-negative"),
        pytest.param([math.nan], 0.05, id="p-nan"),
    ],
)
def test_benjamini_hochberg_rejects_bad_input(pvalues: list[float], q: float) -> None:
    with pytest.raises(ValueError, match="must lie in"):
        benjamini_hochberg(pvalues, q)


def _write_reference() -> None:
    counts = reference_counts()
    expected = esda_gi(counts)
    cells = sorted(counts)
    REFERENCE.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "source": "esda.G_Local(y, w, transform='B', star=True, permutations=0); "
        "p = 2 * p_norm; region = cells + ring-1 neighbours (zero); resolution 9",
        "cells": cells,
        "counts": [counts[c] for c in cells],
        "z": [expected[c][0] for c in cells],
        "p": [expected[c][1] for c in cells],
    }
    REFERENCE.write_text(json.dumps(payload, indent=1) + "\n")


if __name__ == "__main__":
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        _write_reference()


def test_cell_polygons_are_closed_counter_clockwise_rings() -> None:
    import h3

    from geo.hotspots import cell_polygons

    cells = [h3.latlng_to_cell(58.85, 5.73, 9), h3.latlng_to_cell(58.86, 5.74, 8)]
    polygons = cell_polygons(cells)
    assert len(polygons) == 2
    for poly in polygons:
        ring = poly["coordinates"][0]
        assert ring[0] == ring[-1]
        area2 = sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in zip(ring, ring[1:], strict=False))
        assert area2 > 0  # counter-clockwise (RFC 7946)
        assert all(5 < x < 6 and 58 < y < 59 for x, y in ring)
    assert cell_polygons([]) == []
