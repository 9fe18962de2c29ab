"""GeoJSON geometry schemas for API bodies; ``geo.geojson`` does the geometric validation."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from geoalchemy2.elements import WKBElement, WKTElement
from geoalchemy2.shape import to_shape
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from shapely.geometry.base import BaseGeometry

from geo.geojson import to_geojson

_STRICT = ConfigDict(extra="ignore", allow_inf_nan=False)
Position = Annotated[list[float], Field(min_length=2, max_length=3)]


class PointGeometry(BaseModel):
    model_config = _STRICT
    type: Literal["Point"]
    coordinates: Position


class LineStringGeometry(BaseModel):
    model_config = _STRICT
    type: Literal["LineString"]
    coordinates: Annotated[list[Position], Field(min_length=2)]


class PolygonGeometry(BaseModel):
    model_config = _STRICT
    type: Literal["Polygon"]
    coordinates: Annotated[list[list[Position]], Field(min_length=1)]


class MultiPolygonGeometry(BaseModel):
    model_config = _STRICT
    type: Literal["MultiPolygon"]
    coordinates: Annotated[list[list[list[Position]]], Field(min_length=1)]


AreaGeometry = Annotated[PolygonGeometry | MultiPolygonGeometry, Field(discriminator="type")]


def _from_storage(value: Any) -> Any:
    """A geometry as a table row holds it (WKB from the database, or shapely) as GeoJSON, so
    read schemas come from ``model_validate(row)`` instead of hand-copied fields."""
    if isinstance(value, WKBElement | WKTElement):
        value = to_shape(value)
    if isinstance(value, BaseGeometry):
        return to_geojson(value)
    return value


# For read schemas: typed GeoJSON (RFC 7946, 6 decimals) filled from a stored geometry.
StoredPoint = Annotated[PointGeometry, BeforeValidator(_from_storage)]
StoredPointOrNone = Annotated[PointGeometry | None, BeforeValidator(_from_storage)]
StoredPolygonOrNone = Annotated[PolygonGeometry | None, BeforeValidator(_from_storage)]
