"""Hotspot maps: H3 binning helpers and the Getis-Ord Gi* statistic with FDR classes.

The database keeps every observation's H3 cell at resolution 15 as a signed 64-bit integer
(`h3_r15`). `parent_mask` gives two integers so that SQL can compute the parent cell at any
coarser resolution with `(h3_r15 & and_mask) | or_bits` and GROUP BY it; Python then only sees
one count per non-empty cell. `gi_star` turns those counts into a Gi* z-score, a two-sided
p-value and a `hotspot_class` per cell.

Pure data in, pure data out: no FastAPI, no database.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import chain
from typing import Any

import h3
import numpy as np
import numpy.typing as npt

__all__ = [
    "MIN_CELLS",
    "GiResult",
    "benjamini_hochberg",
    "cell_id",
    "STORED_RESOLUTIONS",
    "cell_r15",
    "cells_at",
    "gi_star",
    "parent_mask",
]

#: Below this many non-empty cells the statistic says nothing useful; we do not invent
#: significance from a handful of cells.
MIN_CELLS: int = 30

# (label suffix, FDR q), strongest first: a cell gets the first level at which it is significant.
_FDR_LEVELS: tuple[tuple[str, float], ...] = (("99", 0.01), ("95", 0.05), ("90", 0.10))

_NOT_SIGNIFICANT = "not_significant"
_INSUFFICIENT_DATA = "insufficient_data"

# H3 index layout (64 bits, most significant first): 1 reserved bit (always 0), 4 mode bits,
# 3 reserved bits, 4 resolution bits, 7 base-cell bits, then 15 digits of 3 bits each; digits
# finer than the cell's resolution are all ones (7).
_MAX_RES = 15
_RES_OFFSET = 52
_RES_MASK = 0xF << _RES_OFFSET
_DIGIT_BITS = 3
_INT64_MAX = (1 << 63) - 1


@dataclass(frozen=True, slots=True)
class GiResult:
    """Gi* for one cell; `z` and `p` are None when there were too few cells to test."""

    z: float | None
    p: float | None
    hotspot_class: str


def parent_mask(resolution: int) -> tuple[int, int]:
    """Return `(and_mask, or_bits)` mapping a resolution-15 cell to its parent at `resolution`.

    For every valid resolution-15 cell `c`, `(c & and_mask) | or_bits` is the integer index of
    `h3.cell_to_parent(c, resolution)`: the resolution field is rewritten and the digits below
    the parent's resolution are set to 7. Both values are non-negative and below 2**63, so they
    bind as signed 64-bit parameters (PostgreSQL bigint, SQLite integer); H3 keeps its top bit
    at 0, so clearing it in the mask loses nothing.
    """
    if isinstance(resolution, bool) or not 0 <= resolution <= _MAX_RES:
        raise ValueError(f"H3 resolution must be an integer in 0..15, got {resolution!r}")
    unused_digits = (1 << (_DIGIT_BITS * (_MAX_RES - resolution))) - 1
    and_mask = _INT64_MAX & ~_RES_MASK & ~unused_digits
    or_bits = (resolution << _RES_OFFSET) | unused_digits
    return and_mask, or_bits


def cell_r15(lat: float, lon: float) -> int:
    """Return the integer H3 index of the resolution-15 cell containing (lat, lon) in degrees."""
    return int(h3.str_to_int(h3.latlng_to_cell(lat, lon, _MAX_RES)))


#: The resolutions whose cells each observation stores (columns ``h3_r5`` .. ``h3_r12``) and
#: the hotspot map offers: from a city district (5, ~250 km²) down to a street corner
#: (12, ~300 m²). A cell at resolution r is `h3.latlng_to_cell(lat, lon, r)`, not the bitwise
#: parent of the resolution-15 cell: H3 children do not tile their parent exactly, and a few
#: per cent of points lie in a parent other than the cell that holds them.
STORED_RESOLUTIONS: range = range(5, 13)


def cells_at(lat: float, lon: float) -> dict[int, int]:
    """The integer H3 cell holding (lat, lon) at each of `STORED_RESOLUTIONS`."""
    return {r: int(h3.str_to_int(h3.latlng_to_cell(lat, lon, r))) for r in STORED_RESOLUTIONS}


def cell_id(cell: int) -> str:
    """Return the hexadecimal string form of an integer H3 cell index."""
    if not 0 <= cell <= _INT64_MAX:
        raise ValueError(f"not an H3 cell index: {cell!r}")
    text = str(h3.int_to_str(cell))
    if not h3.is_valid_cell(text):
        raise ValueError(f"not an H3 cell index: {cell!r}")
    return text


def benjamini_hochberg(pvalues: Sequence[float], q: float) -> list[bool]:
    """Benjamini-Hochberg step-up procedure: which hypotheses are rejected at FDR `q`.

    With m p-values sorted ascending, find the largest rank k with p_(k) <= k * q / m and reject
    the k smallest. Results are returned in input order.
    """
    if not 0.0 < q < 1.0:
        raise ValueError(f"FDR level q must lie in (0, 1), got {q!r}")
    p = np.asarray(pvalues, dtype=np.float64)
    if p.ndim != 1:
        raise ValueError("pvalues must be a flat sequence")
    m = p.size
    if m == 0:
        return []
    # NaN fails both comparisons, so this also rejects NaN.
    if not bool(np.all((p >= 0.0) & (p <= 1.0))):
        raise ValueError("p-values must lie in [0, 1]")
    order = np.argsort(p, kind="stable")
    ranks = np.arange(1, m + 1, dtype=np.float64)
    passed = np.flatnonzero(p[order] <= ranks * q / m)
    rejected = np.zeros(m, dtype=bool)
    if passed.size:
        # Step-up: everything up to the largest passing rank is rejected, even ranks that
        # failed their own threshold on the way.
        rejected[order[: int(passed[-1]) + 1]] = True
    return [bool(r) for r in rejected]


def gi_star(counts: Mapping[str, float]) -> dict[str, GiResult]:
    """Getis-Ord Gi* z-scores, p-values and FDR hotspot classes for H3 cell counts.

    `counts` maps each non-empty H3 cell (hex string, all at one resolution) to its count;
    counts must be finite and non-negative.

    Study region: every input cell plus its ring-1 neighbours; neighbours that are not in the
    input count as zero. Weights are binary with a self-weight (w_ij = 1 when j is in
    `h3.grid_disk(i, 1)`, i included). Over the region's n cells with mean X and
    S = sqrt(sum x_j^2 / n - X^2):

        Gi* = (sum_j w_ij x_j - X W_i) / (S sqrt((n W_i - W_i^2) / (n - 1))),  W_i = sum_j w_ij

    (binary weights, so sum_j w_ij^2 = W_i). This equals PySAL's
    `esda.G_Local(..., transform="B", star=True).Zs`. The p-value is two-sided from the
    standard normal, p = 2 (1 - Phi(|z|)).

    Classes: the Benjamini-Hochberg step-up procedure is run on the two-sided p-values of the
    returned cells, separately at q = 0.01, 0.05 and 0.10. A cell is `hot_99` / `hot_95` /
    `hot_90` when z > 0 and it is rejected at q = 0.01 / 0.05 / 0.10 (strongest level that
    holds), `cold_*` likewise when z < 0, else `not_significant`.

    Only input cells are returned. With fewer than `MIN_CELLS` input cells every class is
    `insufficient_data` with z and p None. When every region cell has the same value
    (S == 0) every z is 0 and p is 1.

    Raises ValueError for an invalid cell, mixed resolutions, or a negative or non-finite count.
    """
    cells = list(counts)
    _check_cells(cells)
    values = np.fromiter((counts[c] for c in cells), dtype=np.float64, count=len(cells))
    if not bool(np.all(np.isfinite(values) & (values >= 0.0))):
        raise ValueError("counts must be finite and non-negative")
    if len(cells) < MIN_CELLS:
        return {cell: GiResult(None, None, _INSUFFICIENT_DATA) for cell in cells}

    # Index the region once: input cells first (0..m-1), new neighbours appended after them.
    # For each input cell, record the region index of every disk member (self included).
    index = {cell: i for i, cell in enumerate(cells)}
    rows: list[int] = []
    members: list[int] = []
    for i, cell in enumerate(cells):
        for neighbour in h3.grid_disk(cell, 1):
            j = index.setdefault(neighbour, len(index))
            rows.append(i)
            members.append(j)

    m = len(cells)
    n = len(index)
    x = np.zeros(n, dtype=np.float64)
    x[:m] = values
    row_idx = np.asarray(rows, dtype=np.intp)
    local_sum = np.bincount(row_idx, weights=x[np.asarray(members, dtype=np.intp)], minlength=m)
    # W_i is 7, or 6 at a pentagon.
    w_sum = np.bincount(row_idx, minlength=m).astype(np.float64)

    z: npt.NDArray[np.float64]
    # Compare extremes rather than testing S == 0: a variance computed in floating point need
    # not come out exactly zero for equal values.
    if x.max() == x.min():
        z = np.zeros(m, dtype=np.float64)
        p = np.ones(m, dtype=np.float64)
    else:
        mean = float(x.mean())
        # Two-pass variance: sum x^2 / n - mean^2 cancels badly when counts are large.
        s = math.sqrt(float(np.mean((x - mean) ** 2)))
        z = (local_sum - mean * w_sum) / (s * np.sqrt((n * w_sum - w_sum**2) / (n - 1)))
        # 2 * Phi(-|z|) keeps precision far into the tail, where 1 - Phi(|z|) rounds to 0.
        from scipy.special import ndtr  # loaded on the first hotspot map, not at start-up

        p = np.asarray(2.0 * ndtr(-np.abs(z)), dtype=np.float64)

    classes = _classify(z, p)
    return {cell: GiResult(float(z[i]), float(p[i]), classes[i]) for i, cell in enumerate(cells)}


def _check_cells(cells: Sequence[str]) -> None:
    resolution: int | None = None
    for cell in cells:
        if not h3.is_valid_cell(cell):
            raise ValueError(f"not an H3 cell: {cell!r}")
        res = int(h3.get_resolution(cell))
        if resolution is None:
            resolution = res
        elif res != resolution:
            raise ValueError(
                f"all cells must share one resolution: {cell!r} is at {res}, not {resolution}"
            )


def _classify(z: npt.NDArray[np.float64], p: npt.NDArray[np.float64]) -> list[str]:
    pvalues = p.tolist()
    classes = [_NOT_SIGNIFICANT] * len(pvalues)
    # Weakest level first so that stronger levels overwrite; BH rejection sets are nested
    # (a smaller q rejects a subset), so the last write is the strongest level that holds.
    for suffix, q in reversed(_FDR_LEVELS):
        for i, rejected in enumerate(benjamini_hochberg(pvalues, q)):
            if rejected and z[i] != 0.0:
                classes[i] = f"{'hot' if z[i] > 0.0 else 'cold'}_{suffix}"
    return classes


# GeoJSON positions: 6 decimals, about 0.1 m.
COORDINATE_DECIMALS = 6


def cell_polygons(cells: Sequence[str]) -> list[dict[str, Any]]:
    """Each cell's outline as a GeoJSON Polygon: [lon, lat], closed, counter-clockwise, rounded
    to 6 decimals (~0.1 m). Vectorized: a map at resolution 9 has tens of thousands of cells.

    Cells crossing the antimeridian are not split (RFC 7946 3.1.9); no organization's area is
    anywhere near it.
    """
    return [{"type": "Polygon", "coordinates": [ring]} for ring in _rings(cells)]


# Outlines as JSON text by cell. A cell's outline never changes and a planner's map asks for
# the same cells again and again, so the text is kept; bounded, then started afresh.
_OUTLINE_TEXTS: dict[str, str] = {}
_OUTLINE_CACHE_MAX = 250_000  # ~ 50 MB at resolution 9
_encode = json.JSONEncoder().encode


def cell_polygon_texts(cells: Sequence[str]) -> list[str]:
    """`cell_polygons` as JSON text, exactly as `json.dumps` writes each one."""
    cache = _OUTLINE_TEXTS
    missing = [c for c in dict.fromkeys(cells) if c not in cache]
    if missing:
        if len(cache) + len(missing) > _OUTLINE_CACHE_MAX:
            cache.clear()
        for cell, ring in zip(missing, _rings(missing), strict=True):
            cache[cell] = f'{{"type": "Polygon", "coordinates": [{_encode(ring)}]}}'
    return [cache[c] for c in cells]


def _rings(cells: Sequence[str]) -> list[list[list[float]]]:
    if not cells:
        return []
    boundaries = [h3.cell_to_boundary(c) for c in cells]  # ((lat, lon), ...), 5 to 10 vertices
    sizes = np.fromiter(map(len, boundaries), dtype=np.intp, count=len(boundaries))
    flat = np.fromiter(
        chain.from_iterable(chain.from_iterable(boundaries)),
        dtype=np.float64,
        count=2 * int(sizes.sum()),
    )
    lonlat = np.round(flat.reshape(-1, 2)[:, ::-1], COORDINATE_DECIMALS)
    starts = np.cumsum(sizes) - sizes
    following = np.arange(len(lonlat)) + 1
    following[starts + sizes - 1] = starts
    x, y = lonlat[:, 0], lonlat[:, 1]
    # Shoelace per ring, on the rounded positions: negative means clockwise.
    twice_area = np.add.reduceat(x * y[following] - x[following] * y, starts)
    coords = lonlat.tolist()
    rings = []
    for start, size, area in zip(starts.tolist(), sizes.tolist(), twice_area.tolist(), strict=True):
        ring = coords[start : start + size]
        if area < 0:
            ring.reverse()
        ring.append(ring[0][:])
        rings.append(ring)
    return rings
