"""Exchange with other systems: integration keys for Open311 callers, the organization's own
case system (an Open311 endpoint we send to) and the outbox of items on their way there."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import AnyHttpUrl, ConfigDict
from sqlalchemy import JSON, Column, String, Text
from sqlmodel import Field, SQLModel

from models.base import enum_column, new_id, ts_column, utcnow


class IntegrationKey(SQLModel, table=True):
    """An organization's key for systems that post to its Open311 endpoint. Stored hashed:
    the secret is shown once, at creation."""

    __tablename__ = "integration_key"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    organization_id: uuid.UUID = Field(
        foreign_key="organization.id", index=True, ondelete="CASCADE"
    )
    name: str = Field(max_length=120)
    # The first characters of the secret, so people can tell their keys apart.
    prefix: str = Field(max_length=16)
    # sha256 of the whole secret: the secret is random (256 bits), so a fast hash is enough.
    key_hash: str = Field(sa_column=Column(String(64), nullable=False, unique=True))
    created_by_id: uuid.UUID | None = Field(
        default=None, foreign_key="user_account.id", ondelete="SET NULL"
    )
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())
    last_used_at: datetime | None = Field(default=None, sa_column=ts_column(nullable=True))
    revoked_at: datetime | None = Field(default=None, sa_column=ts_column(nullable=True))


class Open311Endpoint(SQLModel, table=True):
    """The organization's case system: where items of some departments or categories go."""

    __tablename__ = "open311_endpoint"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    organization_id: uuid.UUID = Field(
        foreign_key="organization.id", unique=True, ondelete="CASCADE"
    )
    # The GeoReport v2 base, e.g. https://case.example.org/open311/v2/
    url: str = Field(max_length=500)
    # The key the case system gave us. It must be sent in clear, so it cannot be hashed; it is
    # never shown again through the API.
    api_key: str = Field(max_length=200)
    jurisdiction_id: str | None = Field(default=None, max_length=120)
    departments: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    categories: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # Our category code -> their service_code, where they differ.
    service_codes: dict[str, str] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False)
    )
    enabled: bool = True
    # servicerequestupdates are read from here on.
    updates_since: datetime | None = Field(default=None, sa_column=ts_column(nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())


class DispatchState(StrEnum):
    pending = "pending"  # waiting for its (next) attempt
    sent = "sent"  # the case system took it; its id is known (or a token)


class Open311Dispatch(SQLModel, table=True):
    """One item on its way to (or at) the case system. Never deleted on failure: the row keeps
    its attempts, last error and next attempt time, and coordinators see it."""

    __tablename__ = "open311_dispatch"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    organization_id: uuid.UUID = Field(
        foreign_key="organization.id", index=True, ondelete="CASCADE"
    )
    action_item_id: uuid.UUID = Field(foreign_key="action_item.id", unique=True, ondelete="CASCADE")
    # Set for an item referred to an asset's owner: sent to the owner's endpoint, not ours.
    route_id: uuid.UUID | None = Field(
        default=None, foreign_key="asset_owner_route.id", ondelete="CASCADE", index=True
    )
    state: DispatchState = Field(
        default=DispatchState.pending, sa_column=enum_column(DispatchState, index=True)
    )
    reason: str = Field(default="triaged", max_length=16)  # triaged | manual
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())
    last_attempt_at: datetime | None = Field(default=None, sa_column=ts_column(nullable=True))
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    service_request_id: str | None = Field(default=None, max_length=120, index=True)
    token: str | None = Field(default=None, max_length=120)
    remote_status: str | None = Field(default=None, max_length=32)
    sent_at: datetime | None = Field(default=None, sa_column=ts_column(nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())


# --- API schemas -------------------------------------------------------------------------


class IntegrationKeyCreate(SQLModel):
    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    name: str = Field(min_length=1, max_length=120)


class IntegrationKeyRead(SQLModel):
    id: uuid.UUID
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class IntegrationKeyCreated(IntegrationKeyRead):
    # Shown once; only its hash is kept.
    api_key: str


class Open311EndpointIn(SQLModel):
    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    url: AnyHttpUrl
    api_key: str = Field(min_length=1, max_length=200)
    jurisdiction_id: str | None = Field(default=None, min_length=1, max_length=120)
    departments: list[str] = Field(default_factory=list, max_length=100)
    categories: list[str] = Field(default_factory=list, max_length=100)
    service_codes: dict[str, str] = Field(default_factory=dict)
    enabled: bool = True


class Open311EndpointRead(SQLModel):
    url: str
    jurisdiction_id: str | None
    departments: list[str]
    categories: list[str]
    service_codes: dict[str, str]
    enabled: bool
    updates_since: datetime | None
    # Never the key itself.
    api_key_set: bool = True


class DispatchRead(SQLModel):
    action_item_id: uuid.UUID
    title: str | None = None
    state: DispatchState
    reason: str
    attempts: int
    next_attempt_at: datetime
    last_attempt_at: datetime | None
    last_error: str | None
    service_request_id: str | None
    token: str | None
    remote_status: str | None
    sent_at: datetime | None
    failing: bool


def dispatch_read(d: Open311Dispatch, title: str | None) -> DispatchRead:
    data: dict[str, Any] = {f: getattr(d, f) for f in DispatchRead.model_fields if hasattr(d, f)}
    failing = d.state == DispatchState.pending and d.attempts > 0
    return DispatchRead.model_validate({**data, "title": title, "failing": failing})
