"""Organizations (tenants: one municipality each) and staff user accounts."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from pydantic import ConfigDict
from sqlalchemy import Column, Integer, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.base import enum_column, new_id, ts_column, utcnow


class Role(StrEnum):
    admin = "admin"
    coordinator = "coordinator"
    engineer = "engineer"
    planner = "planner"


class ModerationMode(StrEnum):
    # post: accepted on arrival and grouped at once; pre: every observation waits for review.
    post = "post"
    pre = "pre"


class Organization(SQLModel, table=True):
    __tablename__ = "organization"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    slug: str = Field(max_length=64, unique=True)
    name: str = Field(max_length=200)
    timezone: str = Field(default="Europe/Oslo", max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())
    moderation_mode: ModerationMode = Field(
        default=ModerationMode.post, sa_column=enum_column(ModerationMode)
    )


class User(SQLModel, table=True):
    __tablename__ = "user_account"
    __table_args__ = (UniqueConstraint("email"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    organization_id: uuid.UUID = Field(
        foreign_key="organization.id", index=True, ondelete="CASCADE"
    )
    email: str = Field(max_length=254)
    password_hash: str = Field(max_length=255)
    role: Role = Field(sa_column=enum_column(Role))
    department: str | None = Field(default=None, max_length=64)
    display_name: str | None = Field(default=None, max_length=120)
    is_active: bool = True
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())
    # Carried in every staff token as "ver": a password change or a deactivation bumps it, so
    # tokens issued before stop working at once (also after a later reactivation).
    token_version: int = Field(
        default=0, sa_column=Column(Integer, nullable=False, server_default="0")
    )


# --- API schemas -------------------------------------------------------------------------


class OrganizationRead(SQLModel):
    id: uuid.UUID
    slug: str
    name: str


class OrganizationSettings(SQLModel):
    """The organization as its admins see and set it."""

    id: uuid.UUID
    slug: str
    name: str
    timezone: str
    moderation_mode: ModerationMode


class OrganizationSettingsUpdate(SQLModel):
    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    name: str | None = Field(default=None, min_length=1, max_length=200)
    moderation_mode: ModerationMode | None = None


class UserCreate(SQLModel):
    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    email: str = Field(min_length=3, max_length=254)
    password: str = Field(min_length=1, max_length=256)
    role: Role
    department: str | None = Field(default=None, max_length=64)
    display_name: str | None = Field(default=None, max_length=120)


class UserUpdate(SQLModel):
    """PATCH /users/{id} (admins): unset fields are left alone."""

    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    role: Role | None = None
    department: str | None = Field(default=None, max_length=64)
    display_name: str | None = Field(default=None, max_length=120)
    active: bool | None = None


class PasswordChange(SQLModel):
    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    current_password: str = Field(min_length=1, max_length=256)
    new_password: str = Field(min_length=1, max_length=256)


class UserRead(SQLModel):
    id: uuid.UUID
    organization_id: uuid.UUID
    email: str
    role: Role
    department: str | None
    display_name: str | None
    is_active: bool
    created_at: datetime


class TokenResponse(SQLModel):
    access_token: str
    token_type: str = "bearer"
    expires_at: datetime


class MeRead(SQLModel):
    kind: str
    id: uuid.UUID
    role: str
    organization: OrganizationRead
    email: str | None = None
    department: str | None = None
    display_name: str | None = None
    walk_id: uuid.UUID | None = None
    group: str | None = None
