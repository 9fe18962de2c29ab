"""Retention and erasure: the record of what was erased, and the daily purge's claim.

Neither row holds personal data: an erasure record says which walk, who asked (a staff
account) and how many notes, photos and names went, never whose.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, Integer, String
from sqlmodel import Field, SQLModel

from models.base import enum_column, new_id, ts_column, utcnow


class ErasureKind(StrEnum):
    participant = "participant"  # one participant, on request
    walk = "walk"  # every participant of one walk, on request
    purge = "purge"  # the retention settings, applied by `safewalk purge`


class ErasureRecord(SQLModel, table=True):
    """One erasure or purge pass that changed something, for the data protection log."""

    __tablename__ = "erasure_record"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    organization_id: uuid.UUID = Field(
        foreign_key="organization.id", index=True, ondelete="CASCADE"
    )
    kind: ErasureKind = Field(sa_column=enum_column(ErasureKind))
    walk_id: uuid.UUID | None = Field(default=None, foreign_key="walk.id", ondelete="SET NULL")
    actor_user_id: uuid.UUID | None = Field(
        default=None, foreign_key="user_account.id", ondelete="SET NULL"
    )
    participants: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    notes: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    photos: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())


class MaintenanceRun(SQLModel, table=True):
    """The last start of a periodic job shared by every replica (no tenant: one row per job).

    A replica runs the job only after it moved ``started_at`` forward with a conditional UPDATE,
    so of several replicas waking at once exactly one wins, on both databases.
    """

    __tablename__ = "maintenance_run"

    name: str = Field(sa_column=Column(String(32), primary_key=True))
    started_at: datetime | None = Field(default=None, sa_column=ts_column(nullable=True))
    finished_at: datetime | None = Field(default=None, sa_column=ts_column(nullable=True))


# --- API schemas -------------------------------------------------------------------------


class ErasureRead(SQLModel):
    """What an erasure did: counts only. Files are removed once the change is committed."""

    walk_id: uuid.UUID
    participants: int
    notes: int
    photos: int
    files: int
