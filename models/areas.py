"""Areas: named polygons (districts, neighbourhoods, custom) that action lists are kept per."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlmodel import Field, SQLModel

from models.base import enum_column, geometry_column, new_id, ts_column, utcnow


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
