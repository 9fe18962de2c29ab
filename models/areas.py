"""Areas: named polygons (districts, neighbourhoods, custom) that action lists are kept per."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import ConfigDict
from sqlmodel import Field, SQLModel

from models.base import enum_column, geometry_column, new_id, ts_column, utcnow
from models.geojson import AreaGeometry


class AreaKind(StrEnum):
    district = "district"
    neighbourhood = "neighbourhood"
    custom = "custom"


class Area(SQLModel, table=True):
    __tablename__ = "area"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    organization_id: uuid.UUID = Field(
        foreign_key="organization.id", index=True, ondelete="CASCADE"
    )
    name: str = Field(max_length=200)
    code: str | None = Field(default=None, max_length=64)
    kind: AreaKind = Field(default=AreaKind.custom, sa_column=enum_column(AreaKind))
    parent_id: uuid.UUID | None = Field(default=None, foreign_key="area.id", ondelete="SET NULL")
    # Polygon or MultiPolygon, kept as sent (after repair), exterior rings counter-clockwise.
    geometry: Any = Field(sa_column=geometry_column("GEOMETRY"))
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())


# --- API schemas -------------------------------------------------------------------------


class AreaCreate(SQLModel):
    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    name: str = Field(min_length=1, max_length=200)
    code: str | None = Field(default=None, min_length=1, max_length=64)
    kind: AreaKind = AreaKind.custom
    parent_id: uuid.UUID | None = None
    geometry: AreaGeometry


class AreaUpdate(SQLModel):
    """Only the fields sent change; ``parent_id: null`` detaches, ``name: null`` is refused."""

    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    name: str | None = Field(default=None, min_length=1, max_length=200)
    code: str | None = Field(default=None, min_length=1, max_length=64)
    kind: AreaKind | None = None
    parent_id: uuid.UUID | None = None
    geometry: AreaGeometry | None = None


class AreaRead(SQLModel):
    id: uuid.UUID
    name: str
    code: str | None
    kind: AreaKind
    parent_id: uuid.UUID | None
    # GeoJSON, 6 decimals, exterior rings counter-clockwise (RFC 7946).
    geometry: AreaGeometry
    created_at: datetime
    updated_at: datetime


class AreaImport(SQLModel):
    """A GeoJSON FeatureCollection as QGIS, GDAL or a GIS portal writes it.

    Features stay loosely typed on purpose: each one is checked by the import, which refuses or
    repairs it by index instead of failing the whole request at the first bad vertex. Foreign
    members (``name``, ``crs``, GDAL's ``xy_coordinate_resolution`` ...) are ignored rather than
    refused: the file comes from another program and nothing in it maps onto our columns.
    """

    model_config = ConfigDict(extra="ignore")  # type: ignore[assignment]

    type: Literal["FeatureCollection"]
    features: list[Any]
    crs: dict[str, Any] | None = None


class FeatureIssue(SQLModel):
    index: int  # from 0, the position in ``features``
    feature: int  # from 1, as a person counts the features of a file
    # not_a_feature | no_name | bad_geometry | repaired: the web app words it in the reader's
    # language; ``reason`` is the detail, in English (GEOS's own words for a polygon).
    code: str
    reason: str
    # The reason in the reader's language (Accept-Language), positions as its numbers; an
    # invalidity GEOS names that the catalogue does not know is left as a technical detail.
    detail: str
    # What GEOS found wrong with a polygon (self_intersection, ring_self_intersection,
    # too_few_points, hole_outside_shell, nested_holes, disconnected_interior, nested_shells,
    # duplicate_rings) and where, [longitude, latitude]; None when not known.
    problem: str | None = None
    at: list[float] | None = None


class AreaImportResult(SQLModel):
    created: int
    updated: int
    repaired: list[FeatureIssue]
    refused: list[FeatureIssue]
