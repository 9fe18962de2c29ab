"""Walks and their pseudonymous participants."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AwareDatetime, ConfigDict
from pydantic import Field as PydanticField
from sqlalchemy import Column, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.base import NotNull, enum_column, geometry_column, new_id, ts_column, utcnow
from models.geojson import LineStringGeometry


class WalkStatus(StrEnum):
    planned = "planned"
    active = "active"
    completed = "completed"
    cancelled = "cancelled"


# The only moves a walk may make; a walk is joinable while planned or active.
WALK_TRANSITIONS: dict[WalkStatus, frozenset[WalkStatus]] = {
    WalkStatus.planned: frozenset({WalkStatus.active, WalkStatus.cancelled}),
    WalkStatus.active: frozenset({WalkStatus.completed, WalkStatus.cancelled}),
    WalkStatus.completed: frozenset(),
    WalkStatus.cancelled: frozenset(),
}
JOINABLE = frozenset({WalkStatus.planned, WalkStatus.active})


class ParticipantGroup(StrEnum):
    resident = "resident"
    youth = "youth"
    police = "police"
    municipality = "municipality"
    housing = "housing"
    business = "business"
    other = "other"


class Walk(SQLModel, table=True):
    __tablename__ = "walk"
    __table_args__ = (UniqueConstraint("join_code"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    organization_id: uuid.UUID = Field(
        foreign_key="organization.id", index=True, ondelete="CASCADE"
    )
    area_id: uuid.UUID | None = Field(
        default=None, foreign_key="area.id", ondelete="SET NULL", index=True
    )
    follow_up_of_id: uuid.UUID | None = Field(
        default=None, foreign_key="walk.id", ondelete="SET NULL"
    )
    title: str = Field(max_length=200)
    route: Any = Field(default=None, sa_column=geometry_column("LINESTRING", nullable=True))
    starts_at: datetime | None = Field(default=None, sa_column=ts_column(nullable=True))
    ends_at: datetime | None = Field(default=None, sa_column=ts_column(nullable=True))
    status: WalkStatus = Field(default=WalkStatus.planned, sa_column=enum_column(WalkStatus))
    join_code: str = Field(sa_column=Column(String(16), nullable=False))
    # Conditions: dark or daylight from the sun at the start, weather as told by the coordinator.
    is_dark: bool | None = None
    weather: str | None = Field(default=None, max_length=120)
    created_by_id: uuid.UUID | None = Field(
        default=None, foreign_key="user_account.id", ondelete="SET NULL"
    )
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())
    # The report back (/public/{slug}/walks/{id}) is shown from this moment; None: not shown.
    report_back_published_at: datetime | None = Field(
        default=None, sa_column=ts_column(nullable=True)
    )


class Participant(SQLModel, table=True):
    """A pseudonymous member of one walk: no email, no phone, maybe a display name."""

    __tablename__ = "participant"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    organization_id: uuid.UUID = Field(
        foreign_key="organization.id", index=True, ondelete="CASCADE"
    )
    walk_id: uuid.UUID = Field(foreign_key="walk.id", index=True, ondelete="CASCADE")
    display_name: str | None = Field(default=None, max_length=60)
    group: ParticipantGroup = Field(sa_column=enum_column(ParticipantGroup))
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())
    # Set by an erasure: the token stops working, so nothing new is tied to an erased person.
    erased_at: datetime | None = Field(default=None, sa_column=ts_column(nullable=True))


# --- API schemas -------------------------------------------------------------------------


class WalkCreate(SQLModel):
    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    title: str = Field(min_length=1, max_length=200)
    area_id: uuid.UUID | None = None
    route: LineStringGeometry | None = None
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None
    weather: str | None = Field(default=None, max_length=120)
    follow_up_of_id: uuid.UUID | None = None


class WalkUpdate(SQLModel):
    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    title: Annotated[str | None, NotNull] = Field(default=None, min_length=1, max_length=200)
    status: Annotated[WalkStatus | None, NotNull] = None
    area_id: uuid.UUID | None = None
    route: LineStringGeometry | None = None
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None
    weather: str | None = Field(default=None, max_length=120)


class WalkRead(SQLModel):
    id: uuid.UUID
    title: str
    area_id: uuid.UUID | None
    follow_up_of_id: uuid.UUID | None
    route: dict[str, Any] | None
    starts_at: datetime | None
    ends_at: datetime | None
    status: WalkStatus
    join_code: str
    is_dark: bool | None
    weather: str | None
    participant_count: int = 0
    created_at: datetime
    updated_at: datetime
    report_back_published_at: datetime | None = None


class JoinRequest(SQLModel):
    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    code: str = Field(min_length=4, max_length=32)
    display_name: str | None = Field(default=None, max_length=60)
    group: ParticipantGroup


class JoinResponse(SQLModel):
    participant_id: uuid.UUID
    walk_id: uuid.UUID
    access_token: str
    token_type: str = "bearer"
    expires_at: datetime
    walk_title: str


class ReportBackRequest(SQLModel):
    """Publish the walk's report back, or withdraw it with ``{"published": false}``."""

    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    # Strict: "no" or 0 is a 422, never read as a withdrawal.
    published: Annotated[bool, NotNull, PydanticField(strict=True)] = True


class ReportBackState(SQLModel):
    walk_id: uuid.UUID
    published: bool
    published_at: datetime | None
    # The unlisted page, for anyone with the link (absolute, to print or share).
    url: str
