"""Action items (one fixable thing in one area) and their append-only history."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from pydantic import ConfigDict
from sqlalchemy import JSON, Column, Index, Integer, Text
from sqlmodel import Field, SQLModel

from models.base import enum_column, geometry_column, new_id, ts_column, utcnow


class ActionStatus(StrEnum):
    new = "new"
    triaged = "triaged"
    planned = "planned"
    in_progress = "in_progress"
    resolved = "resolved"
    verified = "verified"
    reopened = "reopened"
    wont_fix = "wont_fix"
    referred = "referred"
    duplicate = "duplicate"
    # An item whose observations were all hidden or moved away.
    closed_empty = "closed_empty"


OPEN_STATUSES = frozenset(
    {
        ActionStatus.new,
        ActionStatus.triaged,
        ActionStatus.planned,
        ActionStatus.in_progress,
        ActionStatus.reopened,
    }
)


class OwnerType(StrEnum):
    municipality = "municipality"
    housing = "housing"
    road_authority = "road_authority"
    private = "private"


_VERSION = Column("version", Integer, nullable=False)


class ActionItem(SQLModel, table=True):
    __tablename__ = "action_item"
    __table_args__ = (Index("ix_action_item_org_status", "organization_id", "status"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    organization_id: uuid.UUID = Field(
        foreign_key="organization.id", index=True, ondelete="CASCADE"
    )
    area_id: uuid.UUID | None = Field(
        default=None, foreign_key="area.id", ondelete="SET NULL", index=True
    )
    category_id: uuid.UUID = Field(foreign_key="category.id", index=True, ondelete="RESTRICT")
    title: str = Field(max_length=200)
    location: Any = Field(sa_column=geometry_column("POINT"))
    footprint: Any = Field(default=None, sa_column=geometry_column("POLYGON", nullable=True))
    observation_count: int = 0
    first_seen_at: datetime | None = Field(default=None, sa_column=ts_column(nullable=True))
    last_seen_at: datetime | None = Field(default=None, sa_column=ts_column(nullable=True))
    participant_groups: list[str] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    priority_score: float = 0.0
    priority_override: float | None = None
    department: str | None = Field(default=None, max_length=64, index=True)
    owner_type: OwnerType = Field(default=OwnerType.municipality, sa_column=enum_column(OwnerType))
    assignee_id: uuid.UUID | None = Field(
        default=None, foreign_key="user_account.id", ondelete="SET NULL"
    )
    due_date: date | None = None
    status: ActionStatus = Field(default=ActionStatus.new, sa_column=enum_column(ActionStatus))
    resolution_note: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    referred_to: str | None = Field(default=None, max_length=200)
    duplicate_of_id: uuid.UUID | None = Field(
        default=None, foreign_key="action_item.id", ondelete="SET NULL"
    )
    recurrence_of_id: uuid.UUID | None = Field(
        default=None, foreign_key="action_item.id", ondelete="SET NULL"
    )
    resolved_at: datetime | None = Field(default=None, sa_column=ts_column(nullable=True))
    # Bumped by every UPDATE (optimistic locking: UPDATE ... WHERE version = old); the ETag.
    version: int = Field(default=1, sa_column=_VERSION)
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())

    __mapper_args__ = {"version_id_col": _VERSION}


class ActionEvent(SQLModel, table=True):
    """Append-only: who moved or changed what, when, with which comment."""

    __tablename__ = "action_event"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    organization_id: uuid.UUID = Field(
        foreign_key="organization.id", index=True, ondelete="CASCADE"
    )
    action_item_id: uuid.UUID = Field(foreign_key="action_item.id", index=True, ondelete="CASCADE")
    actor_user_id: uuid.UUID | None = Field(
        default=None, foreign_key="user_account.id", ondelete="SET NULL"
    )
    actor_participant_id: uuid.UUID | None = Field(
        default=None, foreign_key="participant.id", ondelete="SET NULL"
    )
    kind: str = Field(default="status", max_length=32)
    from_status: str | None = Field(default=None, max_length=16)
    to_status: str | None = Field(default=None, max_length=16)
    changes: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    comment: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())


# --- API schemas -------------------------------------------------------------------------


class ActionItemRead(SQLModel):
    id: uuid.UUID
    title: str
    category: str
    area_id: uuid.UUID | None
    location: dict[str, Any]
    footprint: dict[str, Any] | None
    observation_count: int
    first_seen_at: datetime | None
    last_seen_at: datetime | None
    participant_groups: list[str]
    priority_score: float
    priority_override: float | None
    priority: float
    department: str | None
    owner_type: OwnerType
    assignee_id: uuid.UUID | None
    due_date: date | None
    overdue: bool
    status: ActionStatus
    resolution_note: str | None
    referred_to: str | None
    duplicate_of_id: uuid.UUID | None
    recurrence_of_id: uuid.UUID | None
    resolved_at: datetime | None
    version: int
    created_at: datetime
    updated_at: datetime


class ActionItemUpdate(SQLModel):
    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    status: ActionStatus | None = None
    comment: str | None = Field(default=None, max_length=4000)
    department: str | None = Field(default=None, max_length=64)
    owner_type: OwnerType | None = None
    assignee_id: uuid.UUID | None = None
    due_date: date | None = None
    priority_override: float | None = Field(default=None, ge=0, le=100)
    resolution_note: str | None = Field(default=None, max_length=4000)
    referred_to: str | None = Field(default=None, max_length=200)
    duplicate_of: uuid.UUID | None = None
    title: str | None = Field(default=None, min_length=1, max_length=200)


class ActionEventRead(SQLModel):
    id: uuid.UUID
    kind: str
    from_status: str | None
    to_status: str | None
    changes: dict[str, Any]
    comment: str | None
    actor: str  # "user:<display or email>", "participant:<group>", "case_system" or "system"
    created_at: datetime


class MergeRequest(SQLModel):
    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    other_id: uuid.UUID
    comment: str | None = Field(default=None, max_length=4000)


class SplitRequest(SQLModel):
    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    observation_ids: list[uuid.UUID] = Field(min_length=1, max_length=500)
    comment: str | None = Field(default=None, max_length=4000)


class FollowUpRequest(SQLModel):
    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    outcome: ActionStatus
    comment: str | None = Field(default=None, max_length=2000)


class RegroupResult(SQLModel):
    observations: int
    items_kept: int
    items_created: int
    items_closed: int
