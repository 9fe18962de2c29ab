"""Point assets (street lights first): the organization's register, whose they are, and where
items on another owner's asset are sent."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import AnyHttpUrl, ConfigDict
from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.base import enum_column, geometry_column, new_id, ts_column, utcnow
from models.geojson import StoredPoint

STREET_LIGHT = "street_light"
# Categories that name an asset kind by default: a lighting report is about a lamp.
DEFAULT_ASSET_KINDS: dict[str, str] = {"lighting": STREET_LIGHT}
DEFAULT_SNAP_M = 15.0
MAX_SNAP_M = 100.0
ASSET_KIND_PATTERN = r"^[a-z][a-z0-9_]{1,31}$"


class AssetOwner(StrEnum):
    municipality = "municipality"
    county = "county"
    state_roads = "state_roads"
    private = "private"
    other = "other"


class AssetStatus(StrEnum):
    in_service = "in_service"
    faulty = "faulty"
    removed = "removed"


class Asset(SQLModel, table=True):
    __tablename__ = "asset"
    __table_args__ = (
        # Re-imports update by the source's id; lists page by (kind, external_id, id).
        UniqueConstraint("organization_id", "kind", "external_id"),
        Index("ix_asset_org_kind_status", "organization_id", "kind", "status"),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    organization_id: uuid.UUID = Field(
        foreign_key="organization.id", index=True, ondelete="CASCADE"
    )
    kind: str = Field(max_length=32)
    # The lamp number, or the NVDB id of object type 87 "Belysningspunkt".
    external_id: str = Field(max_length=120)
    owner: AssetOwner = Field(default=AssetOwner.municipality, sa_column=enum_column(AssetOwner))
    owner_name: str | None = Field(default=None, max_length=200)
    status: AssetStatus = Field(default=AssetStatus.in_service, sa_column=enum_column(AssetStatus))
    location: Any = Field(sa_column=geometry_column("POINT"))
    # The source's other properties, as they came.
    properties: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())


class AssetOwnerRoute(SQLModel, table=True):
    """Where items on assets of another owner go: the owner's Open311 endpoint, or an e-mail
    address where the owner has no case system."""

    __tablename__ = "asset_owner_route"
    __table_args__ = (UniqueConstraint("organization_id", "owner"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    organization_id: uuid.UUID = Field(
        foreign_key="organization.id", index=True, ondelete="CASCADE"
    )
    owner: AssetOwner = Field(sa_column=enum_column(AssetOwner))
    # The owner's GeoReport v2 base (…/open311/v2/) and the key it gave us (never shown again).
    url: str | None = Field(default=None, max_length=500)
    api_key: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=254)
    jurisdiction_id: str | None = Field(default=None, max_length=120)
    service_codes: dict[str, str] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False)
    )
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())


# --- API schemas -------------------------------------------------------------------------


class AssetBrief(SQLModel):
    """What an item or an observation shows of its asset."""

    id: uuid.UUID
    kind: str
    external_id: str
    owner: AssetOwner
    owner_name: str | None


class AssetItem(SQLModel):
    """An item on the asset, for its history: when, what became of it, how it was fixed."""

    id: uuid.UUID
    title: str
    status: str
    created_at: datetime
    resolved_at: datetime | None
    resolution_note: str | None
    referred_to: str | None


class AssetRead(SQLModel):
    id: uuid.UUID
    kind: str
    external_id: str
    owner: AssetOwner
    owner_name: str | None
    status: AssetStatus
    location: StoredPoint
    properties: dict[str, Any]
    # Three or more items in twelve months.
    recurring: bool = False
    items: list[AssetItem] = []
    created_at: datetime
    updated_at: datetime


class ImportRefusal(SQLModel):
    feature: int  # 1-based, in the file's order
    reason: str


class AssetImportReport(SQLModel):
    created: int = 0
    updated: int = 0
    removed: int = 0
    refused: list[ImportRefusal] = []


class AssetOwnerRouteIn(SQLModel):
    """The owner's GeoReport v2 endpoint and the key it gave us, or (alone) an e-mail address."""

    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    url: AnyHttpUrl | None = None
    api_key: str | None = Field(default=None, min_length=1, max_length=200)
    email: str | None = Field(default=None, min_length=3, max_length=254)
    jurisdiction_id: str | None = Field(default=None, min_length=1, max_length=120)
    service_codes: dict[str, str] = Field(default_factory=dict)


class AssetOwnerRouteRead(SQLModel):
    owner: AssetOwner
    url: str | None
    email: str | None
    jurisdiction_id: str | None
    service_codes: dict[str, str]
    # Never the key itself.
    api_key_set: bool = True
