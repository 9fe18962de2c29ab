"""The follow-up rollup: item counts per group, kept as items change, so that today's
follow-up figures (`api.action_items.figures`) read a few thousand rows instead of every item.

`FollowUpCount` holds one counter per (organization, grouping, group, kind, class, day, flag);
`api.action_items.follow_up_rollup` says what each kind counts. `FollowUpMember` remembers what
each item contributes now, so that the next change to the item (a status move, a new
department, a merge, a deleted area) takes exactly that contribution out again.

The group is text, so that one column holds an area's or a category's id and a department's
code; a key column cannot be NULL on PostgreSQL, so an item without one has ''.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Column, SmallInteger
from sqlmodel import Field, SQLModel

from models.base import ts_column


class FollowUpCount(SQLModel, table=True):
    __tablename__ = "follow_up_count"

    organization_id: uuid.UUID = Field(
        primary_key=True, foreign_key="organization.id", ondelete="CASCADE"
    )
    # Key order serves the reads: one grouping, one kind, a range of days.
    dim: int = Field(sa_column=Column(SmallInteger, primary_key=True))  # area, department, category
    kind: str = Field(primary_key=True, max_length=1)
    day: date = Field(primary_key=True)
    status: str = Field(primary_key=True, max_length=32)
    flag: int = Field(sa_column=Column(SmallInteger, primary_key=True))
    key: str = Field(primary_key=True, max_length=64)
    n: int = 0


class FollowUpMember(SQLModel, table=True):
    """The item as the rollup last counted it."""

    __tablename__ = "follow_up_member"

    action_item_id: uuid.UUID = Field(primary_key=True)
    organization_id: uuid.UUID = Field(
        foreign_key="organization.id", ondelete="CASCADE", index=True
    )
    area: str = Field(max_length=64)
    department: str = Field(max_length=64)
    category: str = Field(max_length=64)
    status: str = Field(max_length=32)
    created_at: datetime = Field(sa_column=ts_column())
    due_date: date | None = None
    resolved_at: datetime | None = Field(default=None, sa_column=ts_column(nullable=True))
