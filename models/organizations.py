"""Organizations (tenants: one municipality each) and staff user accounts."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Final, Literal

from pydantic import ConfigDict
from pydantic import Field as PydanticField
from sqlalchemy import Boolean, Column, Integer, String, UniqueConstraint, false, text
from sqlmodel import Field, SQLModel

from models.base import NotNull, enum_column, new_id, ts_column, utcnow


class Role(StrEnum):
    admin = "admin"
    coordinator = "coordinator"
    engineer = "engineer"
    planner = "planner"


class Language(StrEnum):
    """The languages people-facing text comes in: Norwegian Bokmål and English."""

    nb = "nb"
    en = "en"


class ModerationMode(StrEnum):
    # post: accepted on arrival and grouped at once; pre: every observation waits for review.
    post = "post"
    pre = "pre"


# Finite by default, as a data protection officer expects for material that may show minors;
# nothing is deleted until `safewalk purge` runs (or SAFEWALK_PURGE_DAILY=1 runs it).
DEFAULT_PHOTO_RETENTION_DAYS: Final = 365
DEFAULT_NOTE_RETENTION_DAYS: Final = 730
DEFAULT_ANONYMIZE_AFTER_DAYS: Final = 90
# A hundred years: past that a date overflows, and "keep forever" is null.
MAX_RETENTION_DAYS: Final = 36_500

# Strict: "30", 30.0 and true are refused with a 422 naming the field, not read as 30 or 1.
RetentionDays = Annotated[int, PydanticField(strict=True, ge=0, le=MAX_RETENTION_DAYS)] | None


class Organization(SQLModel, table=True):
    __tablename__ = "organization"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    slug: str = Field(max_length=64, unique=True)
    name: str = Field(max_length=200)
    timezone: str = Field(default="Europe/Oslo", max_length=64)
    # The published follow-up (/public/{slug}/): off until an admin turns it on.
    public_followup: bool = False
    # Item titles, exports and (without Accept-Language) error messages speak this language.
    language: Language = Field(
        default=Language.nb,
        sa_column=Column(String(8), nullable=False, server_default=text("'nb'")),
    )
    # When set, an item can only be resolved with a resolution note.
    require_resolution_note: bool = Field(
        default=False, sa_column=Column(Boolean, nullable=False, server_default=false())
    )
    # The walk's report back shows the photos of each fix: off until an admin turns it on.
    report_back_photos: bool = Field(
        default=False, sa_column=Column(Boolean, nullable=False, server_default=false())
    )
    # The NS-EN 13201 P class the organization aims at (geo.exposure.LIGHTING_CLASSES): items
    # whose photos measure less are flagged below_target.
    lighting_target_class: str | None = Field(default=None, max_length=4)
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())
    moderation_mode: ModerationMode = Field(
        default=ModerationMode.post, sa_column=enum_column(ModerationMode)
    )
    # Retention, applied by `safewalk purge` (api/privacy/retention.py); None keeps
    # forever. Photos: days after their action item closed (or after recording, for an
    # observation in no item). Notes: days after recording, once the item is no longer open.
    # Display names: days after the walk ended (the group is kept).
    photo_retention_days: int | None = Field(
        default=DEFAULT_PHOTO_RETENTION_DAYS,
        sa_column=Column(Integer, nullable=True, server_default=str(DEFAULT_PHOTO_RETENTION_DAYS)),
    )
    note_retention_days: int | None = Field(
        default=DEFAULT_NOTE_RETENTION_DAYS,
        sa_column=Column(Integer, nullable=True, server_default=str(DEFAULT_NOTE_RETENTION_DAYS)),
    )
    anonymize_participants_after_days: int | None = Field(
        default=DEFAULT_ANONYMIZE_AFTER_DAYS,
        sa_column=Column(Integer, nullable=True, server_default=str(DEFAULT_ANONYMIZE_AFTER_DAYS)),
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
    language: Language = Language.nb


class OrganizationSettingsRead(SQLModel):
    id: uuid.UUID
    slug: str
    name: str
    timezone: str
    language: Language
    require_resolution_note: bool
    moderation_mode: ModerationMode
    # The published follow-up at /public/{slug}/.
    public_followup: bool = False
    # Fix photos on walks' report backs.
    report_back_photos: bool = False
    lighting_target_class: str | None = None
    # Retention in days; null keeps forever.
    photo_retention_days: int | None = DEFAULT_PHOTO_RETENTION_DAYS
    note_retention_days: int | None = DEFAULT_NOTE_RETENTION_DAYS
    anonymize_participants_after_days: int | None = DEFAULT_ANONYMIZE_AFTER_DAYS


class OrganizationUpdate(SQLModel):
    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    name: Annotated[str | None, NotNull] = Field(default=None, min_length=1, max_length=200)
    language: Annotated[Language | None, NotNull] = None
    require_resolution_note: Annotated[bool | None, NotNull] = None
    moderation_mode: Annotated[ModerationMode | None, NotNull] = None
    public_followup: Annotated[bool | None, NotNull] = None
    report_back_photos: Annotated[bool | None, NotNull] = None
    # P1..P6 (NS-EN 13201: 15, 10, 7.5, 5, 3, 2 lux), or null for none.
    lighting_target_class: Literal["P1", "P2", "P3", "P4", "P5", "P6"] | None = None
    # Whole days (0..36500), or null to keep forever.
    photo_retention_days: RetentionDays = None
    note_retention_days: RetentionDays = None
    anonymize_participants_after_days: RetentionDays = None


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
