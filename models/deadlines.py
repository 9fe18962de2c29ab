"""Response-time rules: how many (working) days an item of a category, department and
priority may stay open. Per organization; the most specific matching rule sets an item's due
date (``api/deadlines/rules.py``)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import ConfigDict
from pydantic import Field as PydanticField
from sqlalchemy import Boolean, Column, Index, false
from sqlmodel import Field, SQLModel

from models.base import new_id, ts_column, utcnow

# Ten years: a longer response time is a typo, not a rule.
MAX_RESPONSE_DAYS = 3650
# A list someone can still read and reason about; far more than categories × departments.
MAX_RULES = 500


class ResponseTimeRule(SQLModel, table=True):
    __tablename__ = "response_time_rule"
    __table_args__ = (Index("ix_response_time_rule_org_position", "organization_id", "position"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    organization_id: uuid.UUID = Field(
        foreign_key="organization.id", index=True, ondelete="CASCADE"
    )
    # None matches every category / department / priority.
    category_id: uuid.UUID | None = Field(
        default=None, foreign_key="category.id", ondelete="CASCADE"
    )
    department: str | None = Field(default=None, max_length=64)
    priority_min: float | None = None
    days: int
    working_days: bool = Field(
        default=False, sa_column=Column(Boolean, nullable=False, server_default=false())
    )
    # The order the admin wrote the list in, kept for reading it back.
    position: int = 0
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())


# --- API schemas -------------------------------------------------------------------------


class ResponseTimeIn(SQLModel):
    """One rule of ``PUT /response-times``; unset fields match everything."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)  # type: ignore[assignment]

    category: str | None = Field(default=None, min_length=1, max_length=40)
    department: str | None = Field(default=None, min_length=1, max_length=64)
    priority_min: float | None = Field(default=None, ge=0, le=100)
    # Strict: "30", 30.5 and true are refused with a 422 naming the field.
    days: Annotated[int, PydanticField(strict=True, ge=0, le=MAX_RESPONSE_DAYS)]
    working_days: Annotated[bool, PydanticField(strict=True)]


class ResponseTimeRead(SQLModel):
    category: str | None
    department: str | None
    priority_min: float | None
    days: int
    working_days: bool


class ApplyResult(SQLModel):
    """How many open items got a new due date."""

    changed: int
