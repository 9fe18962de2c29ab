"""GeoJSON (RFC 7946) <-> shapely: validation, repair, orientation and 6-decimal output."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import shapely
from shapely.geometry import (
    LineString,
    MultiPolygon,
    Point,
    Polygon,
    mapping,
    shape,
)
from shapely.geometry.base import BaseGeometry
from shapely.geometry.polygon import orient

from geo.validity import Invalidity, explain

DECIMALS = 6
POLYGONAL = frozenset({"Polygon", "MultiPolygon"})


class GeometryError(ValueError):
    """A geometry that cannot be accepted; ``loc`` points into the GeoJSON object.

    ``message`` is English, for logs and import reports; ``key`` and ``params`` name the same
    message in the server's catalogues (``locale/``), so that the API answers in the reader's
    language without this module reading them."""

    def __init__(
        self, message: str, loc: Sequence[str | int] = (), *, key: str, **params: Any
    ) -> None:
        super().__init__(message)
        self.message = message
        self.loc = tuple(loc)
        self.key = key
        self.params = params


def _check_position(pos: Any, loc: tuple[str | int, ...]) -> None:
    if not isinstance(pos, list | tuple) or len(pos) < 2:
        raise GeometryError(
            "a position is an array of [longitude, latitude]", loc, key="error.geo_position"
        )
    for i, v in enumerate(pos[:3]):
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
            raise GeometryError(
                "coordinates must be finite numbers", (*loc, i), key="error.geo_finite"
            )
    lon, lat = float(pos[0]), float(pos[1])
    if not -180.0 <= lon <= 180.0:
        raise GeometryError(
            f"longitude {lon} is outside -180..180", (*loc, 0), key="error.geo_lon", lon=lon
        )
    if not -90.0 <= lat <= 90.0:
        raise GeometryError(
            f"latitude {lat} is outside -90..90", (*loc, 1), key="error.geo_lat", lat=lat
        )


def _check_ring(ring: Any, loc: tuple[str | int, ...]) -> None:
    if not isinstance(ring, list) or len(ring) < 4:
        raise GeometryError(
            "a linear ring needs at least 4 positions", loc, key="error.geo_ring_short"
        )
    for i, pos in enumerate(ring):
        _check_position(pos, (*loc, i))
    if list(ring[0][:2]) != list(ring[-1][:2]):
        raise GeometryError(
            "a linear ring must be closed (first position = last)",
            loc,
            key="error.geo_ring_open",
        )


def _check_structure(obj: Any) -> str:
    if not isinstance(obj, dict):
        raise GeometryError("a GeoJSON geometry object is required", key="error.geo_required")
    gtype = obj.get("type")
    coords = obj.get("coordinates")
    if not isinstance(gtype, str):
        raise GeometryError("missing geometry type", ("type",), key="error.geo_type_missing")
    if coords is None or not isinstance(coords, list):
        raise GeometryError(
            "missing or malformed coordinates", ("coordinates",), key="error.geo_coordinates"
        )
    base: tuple[str | int, ...] = ("coordinates",)
    if gtype == "Point":
        _check_position(coords, base)
    elif gtype == "LineString":
        if len(coords) < 2:
            raise GeometryError(
                "a LineString needs at least 2 positions", base, key="error.geo_line_short"
            )
        for i, pos in enumerate(coords):
            _check_position(pos, (*base, i))
    elif gtype == "Polygon":
        if not coords:
            raise GeometryError("a Polygon needs an exterior ring", base, key="error.geo_exterior")
        for i, ring in enumerate(coords):
            _check_ring(ring, (*base, i))
    elif gtype == "MultiPolygon":
        if not coords:
            raise GeometryError(
                "a MultiPolygon needs at least one polygon", base, key="error.geo_multi_empty"
            )
        for i, poly in enumerate(coords):
            if not isinstance(poly, list) or not poly:
                raise GeometryError(
                    "a polygon needs an exterior ring", (*base, i), key="error.geo_exterior"
                )
            for j, ring in enumerate(poly):
                _check_ring(ring, (*base, i, j))
    else:
        raise GeometryError(
            f"unsupported geometry type {gtype!r}",
            ("type",),
            key="error.geo_type_unsupported",
            type=gtype,
        )
    return gtype


def _polygonal_part(geom: BaseGeometry) -> Polygon | MultiPolygon | None:
    if isinstance(geom, Polygon | MultiPolygon):
        return geom
    if isinstance(geom, shapely.GeometryCollection):
        polys: list[Polygon] = []
        for part in geom.geoms:
            if isinstance(part, Polygon):
                polys.append(part)
            elif isinstance(part, MultiPolygon):
                polys.extend(part.geoms)
        if len(polys) == 1:
            return polys[0]
        if polys:
            return MultiPolygon(polys)
    return None


def orient_polygonal(geom: Polygon | MultiPolygon) -> Polygon | MultiPolygon:
    """RFC 7946 winding: exterior rings counter-clockwise, holes clockwise."""
    if isinstance(geom, Polygon):
        return orient(geom, 1.0)
    return MultiPolygon([orient(p, 1.0) for p in geom.geoms])


def parse_geometry(obj: Any, allowed: Iterable[str]) -> BaseGeometry:
    """Validate a GeoJSON geometry and return it as shapely.

    Invalid polygons (self-intersections, bow-ties) are repaired with ``make_valid`` when the
    result is still polygonal; otherwise they are refused with the reason.
    """
    return parse_geometry_explained(obj, allowed)[0]


def parse_geometry_explained(
    obj: Any, allowed: Iterable[str]
) -> tuple[BaseGeometry, Invalidity | None]:
    """``parse_geometry``, with what GEOS found wrong in a polygon it repaired (None when the
    polygon was valid as it came)."""
    allowed = frozenset(allowed)
    gtype = _check_structure(obj)
    if gtype not in allowed:
        raise GeometryError(
            f"geometry type {gtype} is not allowed here; expected {' or '.join(sorted(allowed))}",
            ("type",),
            key="error.geo_type_not_allowed",
            type=gtype,
            allowed=" / ".join(sorted(allowed)),
        )
    geom = shape(obj)
    if geom.has_z:
        geom = shapely.force_2d(geom)
    fault: Invalidity | None = None
    if gtype in POLYGONAL:
        fault = explain(geom)
        if fault is not None:
            repaired = _polygonal_part(shapely.make_valid(geom))
            if repaired is None or repaired.is_empty or repaired.area == 0:
                raise GeometryError(
                    f"invalid polygon that cannot be repaired: {fault.reason}",
                    key="error.geo_unrepairable",
                    reason=fault,
                )
            geom = repaired
        if geom.area == 0:
            raise GeometryError("polygon has no area", key="error.geo_no_area")
        geom = orient_polygonal(geom)
    elif gtype == "LineString" and geom.length == 0:
        raise GeometryError(
            "a LineString needs two distinct positions",
            ("coordinates",),
            key="error.geo_line_degenerate",
        )
    return geom, fault


def _round(coords: Any) -> Any:
    if isinstance(coords, list | tuple) and coords and isinstance(coords[0], int | float):
        return [round(float(c), DECIMALS) for c in coords[:2]]
    return [_round(c) for c in coords]


def to_geojson(geom: BaseGeometry) -> dict[str, Any]:
    """A GeoJSON geometry with 6 decimals and RFC 7946 winding."""
    if isinstance(geom, Polygon | MultiPolygon):
        geom = orient_polygonal(geom)
    gj = mapping(geom)
    return {"type": gj["type"], "coordinates": _round(gj["coordinates"])}


def point(lon: float, lat: float) -> Point:
    return Point(lon, lat)


def line(coords: Sequence[tuple[float, float]]) -> LineString:
    return LineString(coords)
