"""Notices: the outbox of mail to staff and of webhook deliveries to integrators, each row
written in the transaction of the change that caused it, and the settings that shape them.

Nothing here holds participant identity: a notice names staff recipients (users) or an
outside address (an asset's owner), and a webhook's body carries items, observations and walks
without who reported them.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import ConfigDict
from sqlalchemy import JSON, Boolean, Column, Index, Integer, String, Text, UniqueConstraint, true
from sqlmodel import Field, SQLModel

from models.base import NotNull, enum_column, new_id, ts_column, utcnow
from models.organizations import Language


class NoticeKind(StrEnum):
    item_created = "item_created"  # an item in my department
    assigned = "assigned"  # an item assigned to me
    comment = "comment"  # a comment on my item
    reopened = "reopened"  # my item was reopened
    due_soon = "due_soon"  # my item is due within a few days
    overdue = "overdue"  # my item (or, for coordinators, any item) is past its due date
    # To the admins, always at once: an endpoint failed for days and was switched off.
    webhook_disabled = "webhook_disabled"
    # To an asset's owner, at the address the organization gave: an item was referred to them.
    referred = "referred"


#: The kinds a person chooses for (GET/PUT /me/notifications); the rest always go at once.
PREFERENCE_KINDS: tuple[NoticeKind, ...] = (
    NoticeKind.item_created,
    NoticeKind.assigned,
    NoticeKind.comment,
    NoticeKind.reopened,
    NoticeKind.due_soon,
    NoticeKind.overdue,
)


class Delivery(StrEnum):
    off = "off"
    immediate = "immediate"
    digest = "digest"  # once a day, every waiting notice in one mail


#: What a person who never chose gets: what needs them now at once, the rest once a day.
DEFAULT_DELIVERY: dict[NoticeKind, Delivery] = {
    NoticeKind.item_created: Delivery.digest,
    NoticeKind.assigned: Delivery.immediate,
    NoticeKind.comment: Delivery.immediate,
    NoticeKind.reopened: Delivery.immediate,
    NoticeKind.due_soon: Delivery.digest,
    NoticeKind.overdue: Delivery.digest,
}


class OutboxState(StrEnum):
    pending = "pending"  # waiting for its (next) attempt
    sent = "sent"  # the mail server or the receiver took it
    failed = "failed"  # given up: too old, refused for good, or its endpoint was disabled


class Notice(SQLModel, table=True):
    """One mail-to-be for one staff member, or (``email``, no user) for an outside address such
    as an asset's owner. The payload is what the mail says, fixed when the change happened
    (the item may change or go before the mail leaves)."""

    __tablename__ = "notice"
    __table_args__ = (
        # The sender's two questions: what is due now, and whose digest is waiting.
        Index("ix_notice_due", "state", "delivery", "next_attempt_at"),
        Index("ix_notice_user_waiting", "user_id", "state", "delivery"),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    organization_id: uuid.UUID = Field(
        foreign_key="organization.id", index=True, ondelete="CASCADE"
    )
    user_id: uuid.UUID | None = Field(
        default=None, foreign_key="user_account.id", ondelete="CASCADE"
    )
    # An outside recipient's address; mail to it goes at once in the organization's language.
    email: str | None = Field(default=None, max_length=254)
    kind: NoticeKind = Field(sa_column=enum_column(NoticeKind))
    delivery: Delivery = Field(sa_column=enum_column(Delivery))
    action_item_id: uuid.UUID | None = Field(
        default=None, foreign_key="action_item.id", ondelete="SET NULL", index=True
    )
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    state: OutboxState = Field(default=OutboxState.pending, sa_column=enum_column(OutboxState))
    attempts: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    sent_at: datetime | None = Field(default=None, sa_column=ts_column(nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())


class NoticePreference(SQLModel, table=True):
    """A staff member's choices; no row: the defaults in the organization's language."""

    __tablename__ = "notice_preference"

    user_id: uuid.UUID = Field(foreign_key="user_account.id", primary_key=True, ondelete="CASCADE")
    organization_id: uuid.UUID = Field(
        foreign_key="organization.id", index=True, ondelete="CASCADE"
    )
    # kind -> off | immediate | digest, for the kinds the person changed.
    kinds: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    language: Language | None = Field(default=None, sa_column=Column(String(8), nullable=True))
    # When this person's last digest left: one a day.
    digest_sent_at: datetime | None = Field(default=None, sa_column=ts_column(nullable=True))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())


class DeadlineNotice(SQLModel, table=True):
    """That the sender's scan already told about this item's deadline: one ``due_soon`` and
    one ``overdue`` per item and due date (a new due date is a new deadline)."""

    __tablename__ = "deadline_notice"
    __table_args__ = (UniqueConstraint("action_item_id", "kind", "due_date"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    organization_id: uuid.UUID = Field(
        foreign_key="organization.id", index=True, ondelete="CASCADE"
    )
    action_item_id: uuid.UUID = Field(foreign_key="action_item.id", ondelete="CASCADE")
    kind: NoticeKind = Field(sa_column=enum_column(NoticeKind))
    due_date: date
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())


class WebhookEvent(StrEnum):
    action_item_created = "action_item.created"
    action_item_updated = "action_item.updated"
    action_item_status_changed = "action_item.status_changed"
    observation_created = "observation.created"
    walk_completed = "walk.completed"


#: Subscribes to every event type, also those added later.
ALL_EVENTS = "*"


class Webhook(SQLModel, table=True):
    """An integrator's endpoint. The signing secret must be used in clear to sign, so it
    cannot be hashed; the API shows it once, when the endpoint is made."""

    __tablename__ = "webhook"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    organization_id: uuid.UUID = Field(
        foreign_key="organization.id", index=True, ondelete="CASCADE"
    )
    url: str = Field(sa_column=Column(String(2000), nullable=False))
    events: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    active: bool = Field(
        default=True, sa_column=Column(Boolean, nullable=False, server_default=true())
    )
    description: str | None = Field(default=None, max_length=200)
    secret: str = Field(sa_column=Column(String(100), nullable=False))
    # Since when every delivery failed (cleared by a success); three days of it disable it.
    failing_since: datetime | None = Field(default=None, sa_column=ts_column(nullable=True))
    disabled_at: datetime | None = Field(default=None, sa_column=ts_column(nullable=True))
    disabled_reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_by_id: uuid.UUID | None = Field(
        default=None, foreign_key="user_account.id", ondelete="SET NULL"
    )
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())


class WebhookDelivery(SQLModel, table=True):
    """One event on its way to one endpoint, and the delivery log: attempts and the last answer."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (
        Index("ix_webhook_delivery_due", "state", "next_attempt_at"),
        Index("ix_webhook_delivery_log", "webhook_id", "created_at", "id"),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    organization_id: uuid.UUID = Field(
        foreign_key="organization.id", index=True, ondelete="CASCADE"
    )
    webhook_id: uuid.UUID = Field(foreign_key="webhook.id", ondelete="CASCADE")
    event_type: str = Field(sa_column=Column(String(40), nullable=False))
    # The whole body, {"type", "timestamp", "data"}: the same bytes on every attempt.
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    state: OutboxState = Field(default=OutboxState.pending, sa_column=enum_column(OutboxState))
    attempts: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())
    last_attempt_at: datetime | None = Field(default=None, sa_column=ts_column(nullable=True))
    last_status: int | None = None
    last_response: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    delivered_at: datetime | None = Field(default=None, sa_column=ts_column(nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())


# --- API schemas -------------------------------------------------------------------------

DeliveryIn = Annotated[Delivery | None, NotNull]


class NoticePreferencesIn(SQLModel):
    """PUT /me/notifications: the kinds sent are set, the others keep their setting."""

    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    item_created: DeliveryIn = None
    assigned: DeliveryIn = None
    comment: DeliveryIn = None
    reopened: DeliveryIn = None
    due_soon: DeliveryIn = None
    overdue: DeliveryIn = None
    # The language of the mails; null: the organization's.
    language: Language | None = None


class NoticePreferencesRead(SQLModel):
    item_created: Delivery
    assigned: Delivery
    comment: Delivery
    reopened: Delivery
    due_soon: Delivery
    overdue: Delivery
    language: Language | None
    # The language mails go out in now (the choice, else the organization's).
    effective_language: Language
    # Where mail goes; participants have no address and get none.
    email: str


EventName = Annotated[str, Field(min_length=1, max_length=40)]


class WebhookCreate(SQLModel):
    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    url: str = Field(min_length=1, max_length=2000)
    events: list[EventName] = Field(min_length=1, max_length=20)
    active: bool = True
    description: str | None = Field(default=None, max_length=200)


class WebhookUpdate(SQLModel):
    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    url: Annotated[str | None, NotNull] = Field(default=None, min_length=1, max_length=2000)
    events: Annotated[list[EventName] | None, NotNull] = Field(
        default=None, min_length=1, max_length=20
    )
    active: Annotated[bool | None, NotNull] = None
    description: str | None = Field(default=None, max_length=200)


class WebhookRead(SQLModel):
    id: uuid.UUID
    url: str
    events: list[str]
    active: bool
    description: str | None
    failing_since: datetime | None
    disabled_at: datetime | None
    disabled_reason: str | None
    created_at: datetime
    updated_at: datetime


class WebhookCreated(WebhookRead):
    """Answered once, when the endpoint is made: the only time the signing secret is shown."""

    secret: str


class WebhookDeliveryRead(SQLModel):
    id: uuid.UUID
    event_type: str
    state: OutboxState
    attempts: int
    next_attempt_at: datetime | None
    last_attempt_at: datetime | None
    last_status: int | None
    last_response: str | None
    last_error: str | None
    delivered_at: datetime | None
    created_at: datetime
