"""Grouping observations into action items: which observations describe the same fixable thing.

Observations of the same category within that category's distance threshold are linked
(single linkage, so a chain of dark lamp posts along a path becomes one item) and each connected
component is one action item. Everything is measured in metres on a local azimuthal equidistant
plane (`geo.projection`) centred on the input, never in degrees or Web Mercator; within 40 km of
the centre (a municipality) the plane's distance error is below 1e-5.

The functions here take and return plain data; the database service decides which observations
are eligible (accepted, actionable category, one area) and stores the result.
"""

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry import Polygon

from geo.projection import (
    _CENTRE_GRID_DEG,
    FloatArray,
    LocalTransformer,
    geodesic_distance_m,
    local_transformer,
)

__all__ = [
    "Candidate",
    "GroupPoint",
    "GroupShapes",
    "centroid",
    "footprint",
    "group_points",
    "group_shapes",
    "nearest_within",
]

# Thresholds are inclusive. Projection and float rounding move a 30 m distance by far less than
# a millimetre, so this slack keeps a pair at exactly the threshold linked; GPS error is metres.
_LINK_SLACK_M = 1e-3

# Output coordinates are rounded to 1e-7° (about 1 cm); with a footprint buffer much smaller
# than half a metre that rounding could collapse the ring, so smaller buffers are refused.
_COORD_DECIMALS = 7
_MIN_BUFFER_M = 0.5


@dataclass(frozen=True, slots=True)
class GroupPoint:
    """One observation as grouping sees it."""

    id: str  # observation id (UUID as string)
    category: str  # category code
    lon: float
    lat: float


@dataclass(frozen=True, slots=True)
class Candidate:
    """An existing open action item that a new observation might join."""

    key: str  # action item id
    lon: float
    lat: float


def group_points(points: Sequence[GroupPoint], distance_m: Mapping[str, float]) -> list[list[str]]:
    """Group observation ids into action items.

    Only points whose category is a key of ``distance_m`` take part; others are left out of the
    result entirely. Two points are linked when they share a category and lie within that
    category's distance (inclusive); groups are the connected components of those links, so
    every participating point is in exactly one group (possibly alone).

    The result does not depend on input order: ids are sorted within each group and groups are
    sorted by their first id. Raises ValueError on duplicate ids, bad coordinates or a negative
    or non-finite distance.
    """
    for category, distance in distance_m.items():
        if not (math.isfinite(distance) and distance >= 0.0):
            raise ValueError(f"distance for category {category!r} must be finite and >= 0")

    members = [p for p in points if p.category in distance_m]
    if not members:
        return []
    ids = [p.id for p in members]
    if len(set(ids)) != len(ids):
        raise ValueError("duplicate observation ids in input")

    lons, lats = _coordinate_arrays([(p.lon, p.lat) for p in members])
    transformer = local_transformer(float(lons.mean()), float(lats.mean()))
    xs, ys = transformer.forward(lons, lats)
    geoms = shapely.points(xs, ys)

    codes, category_index = np.unique([p.category for p in members], return_inverse=True)
    sources: list[npt.NDArray[np.intp]] = []
    targets: list[npt.NDArray[np.intp]] = []
    for code_index, code in enumerate(codes.tolist()):
        subset = np.flatnonzero(category_index == code_index)
        tree = shapely.STRtree(geoms[subset])
        # One vectorised query yields every pair within the distance, including (i, i).
        left, right = tree.query(
            geoms[subset], predicate="dwithin", distance=distance_m[code] + _LINK_SLACK_M
        )
        keep = left < right
        sources.append(subset[left[keep]])
        targets.append(subset[right[keep]])

    n = len(members)
    rows = np.concatenate(sources)
    cols = np.concatenate(targets)
    # scipy costs a worker ~40 MB at start-up; only a regroup needs it.
    from scipy.sparse import coo_array
    from scipy.sparse.csgraph import connected_components

    graph = coo_array((np.ones(rows.size, dtype=np.int8), (rows, cols)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)

    # Walking the points in id order fills each group in sorted order and creates the groups in
    # order of their smallest id, which is the required output order.
    label_list: list[int] = labels.tolist()
    groups: dict[int, list[str]] = {}
    for i in sorted(range(n), key=ids.__getitem__):
        groups.setdefault(label_list[i], []).append(ids[i])
    return list(groups.values())


def nearest_within(
    lon: float, lat: float, candidates: Sequence[Candidate], distance_m: float
) -> Candidate | None:
    """The candidate nearest to (lon, lat) within ``distance_m`` metres (geodesic, inclusive).

    Ties go to the smaller key so repeated runs pick the same item. None if nothing is in reach.
    """
    if not (math.isfinite(distance_m) and distance_m >= 0.0):
        raise ValueError("distance_m must be finite and >= 0")
    _validate_lon_lat(lon, lat)
    best: Candidate | None = None
    best_distance = math.inf
    for candidate in candidates:
        distance = geodesic_distance_m(lon, lat, candidate.lon, candidate.lat)
        # Written as "not <=" so a NaN distance (bad candidate coordinates) never wins.
        if not distance <= distance_m:
            continue
        if (
            best is None
            or distance < best_distance
            or (distance == best_distance and candidate.key < best.key)
        ):
            best, best_distance = candidate, distance
    return best


def centroid(points: Sequence[tuple[float, float]]) -> tuple[float, float]:
    """Mean position of (lon, lat) points, averaged in metres, rounded to 7 decimals."""
    lons, lats = _coordinate_arrays(points)
    return _centroids(_project(lons, lats, np.zeros(len(lons), dtype=np.intp), 1), 1)[0]


def footprint(points: Sequence[tuple[float, float]], buffer_m: float = 5.0) -> Polygon:
    """The area an action item covers, as a lon/lat Polygon.

    Convex hull of the points in metres, buffered by ``buffer_m`` so that one point or a line of
    points still gives an area, then transformed back to lon/lat. The result is always a valid
    Polygon with a counter-clockwise exterior ring (as RFC 7946 asks) and coordinates rounded to
    7 decimals.
    """
    _check_buffer(buffer_m)
    lons, lats = _coordinate_arrays(points)
    projected = _project(lons, lats, np.zeros(len(lons), dtype=np.intp), 1)
    shape: Polygon = _footprints(projected, 1, buffer_m)[0]
    return shape


@dataclass(frozen=True, slots=True)
class GroupShapes:
    """Centroid and footprint of every group, in group order."""

    centroids: list[tuple[float, float]]
    footprints: npt.NDArray[np.object_]  # shapely Polygons


def group_shapes(
    lons: npt.ArrayLike,
    lats: npt.ArrayLike,
    group: npt.ArrayLike,
    n_groups: int,
    buffer_m: float = 5.0,
) -> GroupShapes:
    """``centroid`` and ``footprint`` of many groups at once (a regroup's thousands of items).

    ``group[i]`` is the group (0 .. n_groups - 1) of point i; every group needs a point. The
    result for each group is exactly what ``centroid`` and ``footprint`` return for its points
    in the order given: both run this same code, with the projections and GEOS operations done
    on whole arrays instead of one item at a time.
    """
    _check_buffer(buffer_m)
    lon_arr, lat_arr = _coordinate_arrays(
        np.column_stack([np.asarray(lons, dtype=np.float64), np.asarray(lats, dtype=np.float64)])
    )
    groups = np.asarray(group, dtype=np.intp)
    if groups.shape != lon_arr.shape:
        raise ValueError("one group index per point is required")
    if n_groups < 1 or groups.min() < 0 or groups.max() >= n_groups:
        raise ValueError("group indices must lie in 0 .. n_groups - 1")
    if np.bincount(groups, minlength=n_groups).min() == 0:
        raise ValueError("every group needs at least one point")
    projected = _project(lon_arr, lat_arr, groups, n_groups)
    return GroupShapes(
        centroids=_centroids(projected, n_groups),
        footprints=_footprints(projected, n_groups, buffer_m),
    )


def _check_buffer(buffer_m: float) -> None:
    if not (math.isfinite(buffer_m) and buffer_m >= _MIN_BUFFER_M):
        raise ValueError(f"buffer_m must be finite and >= {_MIN_BUFFER_M}")


def _group_mean(values: FloatArray, groups: npt.NDArray[np.intp], n_groups: int) -> FloatArray:
    """Mean of each group's values (NaN for a group without any here). bincount sums in input
    order, so a group's mean is the same alone as among thousands."""
    sums: FloatArray = np.bincount(groups, weights=values, minlength=n_groups).astype(np.float64)
    counts = np.bincount(groups, minlength=n_groups)
    means: FloatArray = np.full(n_groups, np.nan)
    np.divide(sums, counts, out=means, where=counts > 0)
    return means


@dataclass(frozen=True, slots=True)
class _Projected:
    """The groups sharing one local transformer, with their points in metres."""

    transformer: LocalTransformer
    members: npt.NDArray[np.intp]  # the groups, ascending
    groups: npt.NDArray[np.intp]  # group of each point below
    xs: FloatArray
    ys: FloatArray


def _project(
    lons: FloatArray, lats: FloatArray, groups: npt.NDArray[np.intp], n_groups: int
) -> list[_Projected]:
    """Each group is projected around its own mean. local_transformer snaps that centre to a
    grid; snapping here too (np.rint rounds half to even like Python's round) projects the
    groups of one grid cell in one call."""
    snap = 1.0 / _CENTRE_GRID_DEG
    keys = np.column_stack(
        [
            np.rint(_group_mean(lons, groups, n_groups) * snap) / snap,
            np.rint(_group_mean(lats, groups, n_groups) * snap) / snap,
        ]
    )
    cells, cell_of_group = np.unique(keys, axis=0, return_inverse=True)
    cell_of_group = cell_of_group.reshape(-1)
    out = []
    for c, (lon0, lat0) in enumerate(cells.tolist()):
        chosen = cell_of_group == c
        mask = np.ones(len(lons), dtype=np.bool_) if len(cells) == 1 else chosen[groups]
        transformer = local_transformer(lon0, lat0)
        xs, ys = transformer.forward(lons[mask], lats[mask])
        out.append(_Projected(transformer, np.flatnonzero(chosen), groups[mask], xs, ys))
    return out


def _centroids(projected: list[_Projected], n_groups: int) -> list[tuple[float, float]]:
    c_lons = np.empty(n_groups)
    c_lats = np.empty(n_groups)
    for p in projected:
        mx = _group_mean(p.xs, p.groups, n_groups)[p.members]
        my = _group_mean(p.ys, p.groups, n_groups)[p.members]
        c_lons[p.members], c_lats[p.members] = p.transformer.inverse(mx, my)
    # Python's round (correctly rounded), not numpy's scaled one.
    return [
        (round(lon, _COORD_DECIMALS), round(lat, _COORD_DECIMALS))
        for lon, lat in zip(c_lons.tolist(), c_lats.tolist(), strict=True)
    ]


def _footprints(
    projected: list[_Projected], n_groups: int, buffer_m: float
) -> npt.NDArray[np.object_]:
    shapes = np.empty(n_groups, dtype=object)
    for p in projected:
        # multipoints wants part numbers 0..k-1 in ascending order; a stable sort keeps each
        # group's points in the order given (and ``members`` is ascending, like the parts).
        _, part = np.unique(p.groups, return_inverse=True)
        order = np.argsort(part, kind="stable")
        multi = shapely.multipoints(np.column_stack([p.xs, p.ys])[order], indices=part[order])
        # 16 segments a quarter circle, as BaseGeometry.buffer draws them.
        area = shapely.buffer(shapely.convex_hull(multi), buffer_m, quad_segs=16)
        shapes[p.members] = shapely.transform(area, p.transformer.inverse, interleaved=False)
    # Rounding each vertex to the grid is enough for a buffered convex polygon: its vertices lie
    # at least 5 cm apart, the grid is 1 cm. set_precision's overlay, which guarantees a valid
    # result, costs ten times as much and runs only where plain rounding broke a polygon.
    rounded = shapely.set_precision(shapes, 10.0**-_COORD_DECIMALS, mode="pointwise")
    broken = ~shapely.is_valid(rounded)
    if broken.any():
        rounded[broken] = shapely.set_precision(shapes[broken], 10.0**-_COORD_DECIMALS)
    if not (
        (shapely.get_type_id(rounded) == shapely.GeometryType.POLYGON).all()
        and not shapely.is_empty(rounded).any()
        and shapely.is_valid(rounded[broken]).all()
    ):
        raise RuntimeError("footprint did not produce a valid polygon")
    oriented: npt.NDArray[np.object_] = shapely.orient_polygons(rounded, exterior_cw=False)
    return oriented


def _coordinate_arrays(
    points: Sequence[tuple[float, float]] | npt.NDArray[np.float64],
) -> tuple[FloatArray, FloatArray]:
    if len(points) == 0:
        raise ValueError("at least one point is required")
    coords = np.asarray(points, dtype=np.float64)
    if coords.ndim != 2 or coords.shape[1] != 2:
        raise ValueError("points must be (lon, lat) pairs")
    lons, lats = coords[:, 0], coords[:, 1]
    if not np.isfinite(coords).all():
        raise ValueError("coordinates must be finite numbers")
    if not (np.abs(lons) <= 180.0).all():
        raise ValueError("longitudes must be within [-180, 180]")
    if not (np.abs(lats) <= 90.0).all():
        raise ValueError("latitudes must be within [-90, 90]")
    return lons, lats


def _validate_lon_lat(lon: float, lat: float) -> None:
    if not (math.isfinite(lon) and math.isfinite(lat)):
        raise ValueError("lon and lat must be finite")
    if not (-180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0):
        raise ValueError(f"coordinates out of range: lon={lon}, lat={lat}")
