"""The one module that hides the differences between SpatiaLite and PostGIS.

Geometry travels as shapely inside the service layer and as WKB to the database. Where the SQL
itself differs (distance in metres, bounding boxes through the spatial index, GeoJSON output),
the functions below pick the dialect's spelling:

| need                 | PostGIS                        | SpatiaLite 5.0                          |
|----------------------|--------------------------------|-----------------------------------------|
| within N metres      | ST_DWithin(geography)          | PtDistWithin(a, b, m, 1)                |
| bbox via the index   | geom && ST_MakeEnvelope(...)   | rowid IN (SELECT FROM SpatialIndex ...) |
| GeoJSON              | ST_AsGeoJSON(g, 6)             | AsGeoJSON(g, 6)                         |
"""

from __future__ import annotations

from typing import Any

from geoalchemy2.shape import from_shape, to_shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import ColumnElement, and_, func, literal, select, text
from sqlalchemy.orm import InstrumentedAttribute

from models.base import SRID


def to_db(geom: BaseGeometry | None) -> Any:
    return None if geom is None else from_shape(geom, srid=SRID)


def from_db(value: Any) -> BaseGeometry | None:
    if value is None:
        return None
    if isinstance(value, BaseGeometry):
        return value
    return to_shape(value)


def point(lon: float, lat: float) -> BaseGeometry:
    from shapely.geometry import Point

    return Point(lon, lat)


def rowid(table: str) -> Any:
    """SQLite's implicit row id, which SpatiaLite's SpatialIndex returns (unused on PostGIS)."""
    from sqlalchemy import literal_column

    return literal_column(f"{table}.rowid")


def geom_literal(geom: BaseGeometry) -> ColumnElement[Any]:
    return func.ST_GeomFromText(literal(geom.wkt), SRID)


def contains_point(dialect: str, area_col: Any, geom: BaseGeometry) -> ColumnElement[bool]:
    """Area covers the point, border included (a point on a shared border is in both)."""
    pt = geom_literal(geom)
    if dialect == "sqlite":
        return func.ST_Covers(area_col, pt) == 1
    return func.ST_Covers(area_col, pt)


def bbox_filter(
    dialect: str,
    table_name: str,
    geom_col: InstrumentedAttribute[Any],
    rowid_col: Any,
    bbox: tuple[float, float, float, float],
) -> ColumnElement[bool]:
    """Rows whose geometry's bounding box meets ``bbox``, answered by the spatial index."""
    minx, miny, maxx, maxy = bbox
    if dialect == "sqlite":
        # SpatiaLite only uses its R*Tree through the SpatialIndex virtual table.
        idx = (
            select(text("ROWID"))
            .select_from(text("SpatialIndex"))
            .where(
                text(
                    "f_table_name = :sx_table AND f_geometry_column = :sx_col "
                    "AND search_frame = BuildMbr(:sx_minx, :sx_miny, :sx_maxx, :sx_maxy, 4326)"
                ).bindparams(
                    sx_table=table_name,
                    sx_col=geom_col.key,
                    sx_minx=minx,
                    sx_miny=miny,
                    sx_maxx=maxx,
                    sx_maxy=maxy,
                )
            )
        )
        envelope = func.BuildMbr(minx, miny, maxx, maxy, SRID)
        return and_(rowid_col.in_(idx), func.MbrIntersects(geom_col, envelope) == 1)
    envelope = func.ST_MakeEnvelope(minx, miny, maxx, maxy, SRID)
    return geom_col.op("&&")(envelope)


def as_geojson(dialect: str, geom_col: Any, decimals: int = 6) -> ColumnElement[str]:
    if dialect == "sqlite":
        return func.AsGeoJSON(geom_col, decimals)
    return func.ST_AsGeoJSON(geom_col, decimals)
