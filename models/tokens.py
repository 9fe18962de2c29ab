"""Personal access tokens: long-lived, read-only secrets for desktop GIS (QGIS, GDAL, ArcGIS).

Only a hash of the secret is stored; the secret itself is shown once, when the token is made.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import ConfigDict
from sqlalchemy import Column, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.base import new_id, ts_column, utcnow


class PersonalAccessToken(SQLModel, table=True):
    __tablename__ = "personal_access_token"
    __table_args__ = (UniqueConstraint("token_hash"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    organization_id: uuid.UUID = Field(
        foreign_key="organization.id", index=True, ondelete="CASCADE"
    )
    user_id: uuid.UUID = Field(foreign_key="user_account.id", index=True, ondelete="CASCADE")
    name: str = Field(max_length=120)
    scope: str = Field(default="read", max_length=16)
    # sha256 of a 256-bit random secret: a fast hash is enough when the secret is not guessable.
    token_hash: str = Field(sa_column=Column(String(64), nullable=False))
    # The first characters of the secret, so a person can tell their tokens apart.
    prefix: str = Field(max_length=16)
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())
    last_used_at: datetime | None = Field(default=None, sa_column=ts_column(nullable=True))
    revoked_at: datetime | None = Field(default=None, sa_column=ts_column(nullable=True))


# --- API schemas -------------------------------------------------------------------------


class TokenCreate(SQLModel):
    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    name: str = Field(min_length=1, max_length=120)
    scope: Literal["read"] = "read"


class TokenRead(SQLModel):
    id: uuid.UUID
    name: str
    scope: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenCreated(TokenRead):
    """Returned once, when the token is made: the only time the secret is shown."""

    secret: str
