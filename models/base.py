"""Shared column types, naming convention and helpers for every table."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from geoalchemy2 import Geometry
from pydantic import BaseModel, BeforeValidator
from sqlalchemy import Column, DateTime, MetaData, String
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator
from sqlmodel import SQLModel

# Deterministic constraint names, so migrations can drop and alter them on both databases.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
SQLModel.metadata.naming_convention = NAMING_CONVENTION
metadata: MetaData = SQLModel.metadata

SRID = 4326


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> uuid.UUID:
    return uuid.uuid4()


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware timestamps on both databases.

    SQLite has no timezone type and hands back naive values; we store UTC and attach it again
    on the way out, so application code only ever sees aware datetimes. SQLite's DATETIME
    writes only the wall-clock fields of what it is given, so UTC goes in on both databases.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime stored; use an aware datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def ts_column(*, nullable: bool = False, index: bool = False) -> Any:
    return Column(UTCDateTime(), nullable=nullable, index=index)


def geometry_column(geometry_type: str, *, nullable: bool = False) -> Any:
    """A geometry in WGS84 with a spatial index (GiST on PostGIS, R*Tree on SpatiaLite)."""
    return Column(
        Geometry(geometry_type=geometry_type, srid=SRID, spatial_index=True),
        nullable=nullable,
    )


def enum_column(enum: type[StrEnum], *, nullable: bool = False, index: bool = False) -> Any:
    # Plain strings, not native enums: the same DDL on both databases and simple migrations.
    width = max(len(m.value) for m in enum)
    return Column(String(max(width, 16)), nullable=nullable, index=index)


def _refuse_null(value: Any) -> Any:
    if value is None:
        raise ValueError("may be left out, but may not be null")
    return value


# For PATCH fields that may be omitted but never cleared: an explicit null is a 422 naming the
# field (a validator only runs on values that were sent, so leaving the field out stays fine).
NotNull = BeforeValidator(_refuse_null)


def columns_for(row: Any, schema: type[BaseModel]) -> dict[str, Any]:
    """The attributes of ``row`` that ``schema`` has fields for, as they are (no serialization),
    so a read schema is filled from its row with only the computed fields added by hand."""
    return {name: getattr(row, name) for name in schema.model_fields if hasattr(row, name)}
