"""Coordinate reference systems of OGC API – Features Part 2: which, and in what axis order.

Storage is always WGS84 lon/lat (SRID 4326). Output in another CRS is reprojected by the
database (``ST_Transform`` on both PostGIS and SpatiaLite); bounding boxes and filter
geometries sent in another CRS are brought back to WGS84 here with pyproj, imported by the
first request that names a CRS.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np
from shapely import transform as shapely_transform
from shapely.geometry.base import BaseGeometry

from api.core.errors import DomainError

if TYPE_CHECKING:
    from pyproj import Transformer

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG_URI = "http://www.opengis.net/def/crs/EPSG/0/{code}"
# WGS84 (lat/lon), the Nordic projected systems (UTM 32/33/35 N, SWEREF99 TM, ETRS-TM35FIN)
# and Web Mercator.
EPSG_CODES = (4326, 25832, 25833, 25835, 3006, 3067, 3857)


class BadParameter(DomainError):
    """An OGC query parameter that cannot be used: 400, naming the parameter."""

    status, slug, title = 400, "bad-parameter", "Bad parameter"

    @classmethod
    def at(cls, name: str, key: str, /, **params: Any) -> BadParameter:
        """The query parameter ``name`` is wrong; ``key`` is the catalogue message saying why."""
        return cls(key=key, params=params, loc=["query", name])

    def detail_in(self, lang: str) -> str:
        # OGC clients see the parameter as they sent it ("bbox: ..."), not its location.
        where = self.loc[-1] if self.loc else None
        return f"{where}: {self.message_in(lang)}" if where is not None else self.message_in(lang)


@dataclass(frozen=True)
class OutputCrs:
    uri: str
    srid: int
    # True when the CRS's first axis is northing/latitude (EPSG:4326, EPSG:3006).
    swap_axes: bool
    # Coordinate decimals: 6 for degrees (~0.1 m), 4 for metres (0.1 mm).
    decimals: int

    @property
    def is_wgs84_lonlat(self) -> bool:
        return self.srid == 4326 and not self.swap_axes


def _first_axis_is_north(code: int) -> bool:
    from pyproj import CRS

    return CRS.from_epsg(code).axis_info[0].direction.lower() in ("north", "south")


@lru_cache(maxsize=1)
def supported() -> dict[str, OutputCrs]:
    from pyproj import CRS

    out = {CRS84: OutputCrs(CRS84, 4326, False, 6)}
    for code in EPSG_CODES:
        geographic = CRS.from_epsg(code).is_geographic
        uri = EPSG_URI.format(code=code)
        out[uri] = OutputCrs(uri, code, _first_axis_is_north(code), 6 if geographic else 4)
    return out


_EPSG_SHORT = re.compile(r"^\[?EPSG:(\d+)\]?$", re.IGNORECASE)


def parse(value: str | None, param: str) -> OutputCrs:
    """The CRS named by a ``crs``/``bbox-crs``/``filter-crs`` value (URI, or ``EPSG:n``)."""
    if value is None or value == "":
        return supported()[CRS84]
    value = value.strip()
    if value.startswith("https://"):
        value = "http://" + value[len("https://") :]
    m = _EPSG_SHORT.match(value)
    if m:
        value = EPSG_URI.format(code=m.group(1))
    if value in ("OGC:CRS84", "[OGC:CRS84]"):
        value = CRS84
    crs = supported().get(value)
    if crs is None:
        raise BadParameter.at(
            param, "error.unsupported_crs", value=value, supported=list(supported())
        )
    return crs


@lru_cache(maxsize=16)
def _to_wgs84(srid: int) -> Transformer:
    from pyproj import CRS, Transformer

    return Transformer.from_crs(CRS.from_epsg(srid), CRS.from_epsg(4326), always_xy=True)


def bbox_to_wgs84(bbox: tuple[float, float, float, float], crs: OutputCrs) -> tuple[float, ...]:
    """A bbox given in ``crs`` (in its axis order) as lon/lat degrees, densified at the edges."""
    a, b, c, d = bbox
    minx, miny, maxx, maxy = (b, a, d, c) if crs.swap_axes else (a, b, c, d)
    if crs.srid == 4326:
        return (minx, miny, maxx, maxy)
    return tuple(_to_wgs84(crs.srid).transform_bounds(minx, miny, maxx, maxy, densify_pts=21))


def geometry_to_wgs84(geom: BaseGeometry, crs: OutputCrs) -> BaseGeometry:
    """A filter geometry given in ``crs`` as lon/lat."""
    if crs.is_wgs84_lonlat:
        return geom
    if crs.swap_axes:
        geom = shapely_transform(geom, lambda xy: xy[:, ::-1])
    if crs.srid == 4326:
        return geom
    t = _to_wgs84(crs.srid)
    return shapely_transform(geom, lambda xy: np.column_stack(t.transform(xy[:, 0], xy[:, 1])))
