"""GeoJSON geometry schemas for API bodies; ``geo.geojson`` does the geometric validation."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

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
