"""Geometry on its way to and from the database: shapely in the services, WKB in SQL.

Nothing here differs between SpatiaLite and PostGIS; what does is in ``api.core.dialect``."""

from __future__ import annotations

from typing import Any

from geoalchemy2.shape import from_shape, to_shape
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry
from sqlalchemy import ColumnElement, func, literal

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
    return Point(lon, lat)


def geom_literal(geom: BaseGeometry) -> ColumnElement[Any]:
    return func.ST_GeomFromText(literal(geom.wkt), SRID)
