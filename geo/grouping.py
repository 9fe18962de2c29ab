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
from scipy.sparse import coo_array
from scipy.sparse.csgraph import connected_components
from shapely.geometry import Polygon
from shapely.geometry.polygon import orient

from geo.projection import FloatArray, geodesic_distance_m, local_transformer

__all__ = [
    "Candidate",
    "GroupPoint",
    "centroid",
    "footprint",
    "group_points",
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
    transformer = local_transformer(float(lons.mean()), float(lats.mean()))
    xs, ys = transformer.forward(lons, lats)
    c_lons, c_lats = transformer.inverse(xs.mean(), ys.mean())
    return round(float(c_lons[0]), _COORD_DECIMALS), round(float(c_lats[0]), _COORD_DECIMALS)


def footprint(points: Sequence[tuple[float, float]], buffer_m: float = 5.0) -> Polygon:
    """The area an action item covers, as a lon/lat Polygon.

    Convex hull of the points in metres, buffered by ``buffer_m`` so that one point or a line of
    points still gives an area, then transformed back to lon/lat. The result is always a valid
    Polygon with a counter-clockwise exterior ring (as RFC 7946 asks) and coordinates rounded to
    7 decimals.
    """
    if not (math.isfinite(buffer_m) and buffer_m >= _MIN_BUFFER_M):
        raise ValueError(f"buffer_m must be finite and >= {_MIN_BUFFER_M}")
    lons, lats = _coordinate_arrays(points)
    transformer = local_transformer(float(lons.mean()), float(lats.mean()))
    xs, ys = transformer.forward(lons, lats)
    area = shapely.multipoints(np.column_stack([xs, ys])).convex_hull.buffer(buffer_m)
    lonlat = shapely.transform(area, transformer.inverse, interleaved=False)
    # set_precision rounds to the grid and, unlike plain rounding, guarantees a valid result.
    rounded = shapely.set_precision(lonlat, 10.0**-_COORD_DECIMALS)
    if not isinstance(rounded, Polygon) or rounded.is_empty or not rounded.is_valid:
        raise RuntimeError("footprint did not produce a valid polygon")
    return orient(rounded, 1.0)


def _coordinate_arrays(points: Sequence[tuple[float, float]]) -> tuple[FloatArray, FloatArray]:
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
