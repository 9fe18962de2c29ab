"""For the notice tests: real receivers on loopback ports (an SMTP server with aiosmtpd, an
HTTP server for webhooks with http.server in a thread), an observation that starts an item,
an item's ETag write, a webhook made straight in the database, and an organization's outbox."""

from __future__ import annotations

import email
import email.policy
import json
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from api.notices.webhooks import new_secret
from models import utcnow
from models.notices import Notice, Webhook, WebhookDelivery
from tests.factories.client import SyncClient
from tests.factories.ports import free_port
from tests.factories.world import World


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: Message


@dataclass
class Inbox:
    """What the SMTP server accepted; ``refuse`` makes it answer the next DATA commands with
    a temporary failure (451), as a busy server does."""

    port: int = 0
    messages: list[Received] = field(default_factory=list)
    refuse: int = 0
    refused: int = 0
    unknown: set[str] = field(default_factory=set)  # mailboxes answered with 550

    async def handle_RCPT(  # noqa: N802
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any
    ) -> str:
        if address in self.unknown:
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        if self.refuse > 0:
            self.refuse -= 1
            self.refused += 1
            return "451 4.3.0 Try again later"
        raw = envelope.original_content or envelope.content
        self.messages.append(
            Received(
                envelope.mail_from,
                list(envelope.rcpt_tos),
                email.message_from_bytes(raw, policy=email.policy.default),
            )
        )
        return "250 2.0.0 OK"

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def to(self, address: str) -> list[Message]:
        return [r.message for r in self.messages if address in r.rcpt_tos]


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    box = Inbox(port=free_port())
    controller = Controller(box, hostname="127.0.0.1", port=box.port)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()


@dataclass
class Hit:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """A webhook receiver answering with ``statuses`` in turn (then 200)."""

    port: int = 0
    hits: list[Hit] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    answer: bytes | None = None  # the body of every answer; None: a short one

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    rec = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length)
            rec.hits.append(Hit(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
            status = rec.statuses.pop(0) if rec.statuses else 200
            answer = rec.answer or (
                b'{"ok": true}' if status < 300 else b"receiver is down for maintenance"
            )
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    rec.port = int(server.server_address[1])
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield rec
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def body_text(message: Message, subtype: str = "plain") -> str:
    for part in message.walk():
        if part.get_content_type() == f"text/{subtype}":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode(part.get_content_charset() or "utf-8")
    raise AssertionError(f"no text/{subtype} part")


# Inside the world's Sentrum area.
HERE = [5.7352, 58.8517]


def observe(
    client: SyncClient, world: World, who: str = "participant", category: str = "lighting",
    at: list[float] | None = None, **extra: Any,
) -> dict[str, Any]:  # fmt: skip
    body = {
        "walk_id": str(world.walk.id),
        "category": category,
        "location": {"type": "Point", "coordinates": at or HERE},
        "severity": 3,
        "perceived_safety": 1,
        "note": "Lamp post out by the river path",
        "recorded_at": (utcnow() - timedelta(minutes=5)).isoformat(),
        **extra,
    }
    r = client.put(f"/api/v1/observations/{uuid.uuid4()}", headers=world.headers(who), json=body)
    assert r.status_code == 201, r.text
    data: dict[str, Any] = r.json()
    return data


def new_item(client: SyncClient, world: World, **kw: Any) -> str:
    """An action item, started by a participant's observation; its id."""
    obs = observe(client, world, **kw)
    assert obs["action_item_id"], obs
    return str(obs["action_item_id"])


def patch_item(
    client: SyncClient, world: World, item_id: str, who: str, body: dict[str, Any]
) -> Any:
    headers = world.headers(who)
    etag = client.get(f"/api/v1/action-items/{item_id}", headers=headers).headers["ETag"]
    return client.patch(
        f"/api/v1/action-items/{item_id}", headers={**headers, "If-Match": etag}, json=body
    )


def make_webhook(
    session: Session, world: World, events: list[str] | None = None, url: str = "https://93.184.216.34/hook"
) -> Webhook:  # fmt: skip
    hook = Webhook(
        organization_id=world.org.id, url=url, events=events or ["*"], secret=new_secret()
    )
    session.add(hook)
    session.commit()
    return hook


def notices(session: Session, world: World, **where: Any) -> list[Notice]:
    stmt = select(Notice).where(col(Notice.organization_id) == world.org.id)
    for name, value in where.items():
        stmt = stmt.where(getattr(Notice, name) == value)
    session.expire_all()
    return list(session.scalars(stmt.order_by(col(Notice.created_at), col(Notice.id))))


def deliveries(session: Session, world: World, **where: Any) -> list[WebhookDelivery]:
    stmt = select(WebhookDelivery).where(col(WebhookDelivery.organization_id) == world.org.id)
    for name, value in where.items():
        stmt = stmt.where(getattr(WebhookDelivery, name) == value)
    session.expire_all()
    return list(
        session.scalars(stmt.order_by(col(WebhookDelivery.created_at), col(WebhookDelivery.id)))
    )


def text_of(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)
