"""Webhook endpoints of an organization (admins), their signing secrets and delivery log.

Deliveries are signed the Standard Webhooks way (https://www.standardwebhooks.com): headers
``webhook-id`` (the delivery's id, the same on every retry so receivers can drop duplicates),
``webhook-timestamp`` (seconds, at this attempt) and ``webhook-signature``
(``v1,<base64 HMAC-SHA256 of "id.timestamp.body">``), with the secret shown once, at creation,
as ``whsec_<base64>`` as the Standard Webhooks libraries expect.
"""

from __future__ import annotations

import base64
import json
import secrets
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col
from standardwebhooks import Webhook as Signer

from api.auth.principal import Principal
from api.core import tenancy
from api.core.errors import InvalidInput
from api.core.outbound import UnsafeUrl, check_url
from api.core.paging import after_keyset, keyset_page
from models import utcnow
from models.notices import (
    ALL_EVENTS,
    Webhook,
    WebhookCreate,
    WebhookCreated,
    WebhookDelivery,
    WebhookEvent,
    WebhookRead,
    WebhookUpdate,
)

SECRET_PREFIX = "whsec_"
EVENT_NAMES = frozenset({*(str(e) for e in WebhookEvent), ALL_EVENTS})


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def body_bytes(payload: dict[str, Any]) -> bytes:
    """The body as sent, and as signed: compact JSON in UTF-8."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


def signed_headers(secret: str, msg_id: str, body: bytes, at: datetime) -> dict[str, str]:
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Signer(secret).sign(msg_id, at, body),
        "content-type": "application/json",
    }


def message_id(delivery_id: uuid.UUID) -> str:
    return f"msg_{delivery_id.hex}"


def _url(url: str, allow_private: bool) -> str:
    url = url.strip()
    try:
        check_url(url, allow_private=allow_private)
    except UnsafeUrl as exc:
        raise InvalidInput.at(["body", "url"], exc.key, **exc.params) from exc
    return url


def _events(events: list[str]) -> list[str]:
    out: list[str] = []
    for i, name in enumerate(events):
        name = name.strip()
        if name not in EVENT_NAMES:
            known = ", ".join(sorted(EVENT_NAMES))
            raise InvalidInput.at(["body", "events", i], "error.unknown_event", known=known)
        if name not in out:
            out.append(name)
    return out


def to_read(hook: Webhook) -> WebhookRead:
    return WebhookRead.model_validate(hook, from_attributes=True)


def create(
    session: Session, principal: Principal, body: WebhookCreate, *, allow_private: bool
) -> WebhookCreated:
    hook = Webhook(
        organization_id=principal.org_id,
        url=_url(body.url, allow_private),
        events=_events(body.events),
        active=body.active,
        description=body.description,
        secret=new_secret(),
        created_by_id=principal.user.id if principal.user else None,
    )
    session.add(hook)
    session.flush()
    return WebhookCreated(**to_read(hook).model_dump(), secret=hook.secret)


def get(session: Session, org_id: uuid.UUID, hook_id: uuid.UUID) -> Webhook:
    return tenancy.owned(session, Webhook, org_id, hook_id, "error.no_such_webhook")


def list_page(
    session: Session, org_id: uuid.UUID, *, n: int, cursor: str | None
) -> tuple[list[Webhook], str | None]:
    stmt = select(Webhook).where(col(Webhook.organization_id) == org_id)
    order = (col(Webhook.created_at), col(Webhook.id))
    after = after_keyset(cursor, *order)
    if after is not None:
        stmt = stmt.where(after)
    return keyset_page(session, stmt, *order, n)


def update(session: Session, hook: Webhook, body: WebhookUpdate, *, allow_private: bool) -> Webhook:
    sent = body.model_dump(exclude_unset=True)
    if "url" in sent:
        hook.url = _url(sent["url"], allow_private)
    if "events" in sent:
        hook.events = _events(sent["events"])
    if "description" in sent:
        hook.description = sent["description"]
    if "active" in sent:
        if sent["active"] and not hook.active:
            # Switched on again by hand: a fresh start, not three more days of old failures.
            hook.failing_since = None
            hook.disabled_at = None
            hook.disabled_reason = None
        hook.active = sent["active"]
    hook.updated_at = utcnow()
    session.flush()
    return hook


def delete(session: Session, hook: Webhook) -> None:
    session.delete(hook)
    session.flush()


def deliveries_page(
    session: Session, hook: Webhook, *, n: int, cursor: str | None
) -> tuple[list[WebhookDelivery], str | None]:
    """The delivery log, newest first."""
    stmt = select(WebhookDelivery).where(col(WebhookDelivery.webhook_id) == hook.id)
    order = (col(WebhookDelivery.created_at), col(WebhookDelivery.id))
    after = after_keyset(cursor, *order, descending=True)
    if after is not None:
        stmt = stmt.where(after)
    return keyset_page(session, stmt, *order, n, descending=True)
