"""Benchmark: the notice sender draining its outbox into a real SMTP server.

    python bench/bench_notify.py [--backend spatialite|postgis] [--n 10000] [--users 50]

Starts an SMTP server (aiosmtpd, in a process of its own so that it does not share this one's
interpreter lock) on a loopback port and queues N immediate notices for a number of staff
members in a scratch database. Then, in the same run:

1. the SMTP server's own acceptance rate: a plain ``smtplib`` loop sending N messages of the
   same kind, composed beforehand, over one connection (what the server can take at most);
2. the sender: ``run_once`` passes until the outbox is empty (claiming batches, composing each
   mail in the recipient's language, sending over one SMTP session per batch, recording).

Prints both rates and the ratio sender / server: 1.0 would mean the database and the
composing cost nothing next to SMTP itself.
"""

from __future__ import annotations

import argparse
import smtplib
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from _common import create_scratch, drop_scratch
from sqlalchemy import func, insert, select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from api.auth import organizations  # noqa: E402
from api.auth.users import create_user  # noqa: E402
from api.core.db import create_db_engine, make_sessionmaker  # noqa: E402
from api.jobs.notify import run_once  # noqa: E402
from api.notices import mail  # noqa: E402
from api.settings import Settings  # noqa: E402
from models import Role, utcnow  # noqa: E402
from models.notices import Delivery, Notice, NoticeKind, OutboxState  # noqa: E402
from models.organizations import Language  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(port: int) -> subprocess.Popen[bytes]:
    """aiosmtpd with its Sink handler (accepts and drops every message)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "aiosmtpd", "-n", "-c", "aiosmtpd.handlers.Sink",
         "-l", f"127.0.0.1:{port}"],
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("the SMTP server did not start")


def load(url: str, n: int, users: int) -> list[str]:
    engine = create_db_engine(url)
    factory = make_sessionmaker(engine)
    with factory() as s:
        org = organizations.create_organization(s, "Bench", f"bench-{uuid.uuid4().hex[:6]}")
        people = [
            create_user(
                s, org, email=f"engineer{i}@bench.example", password="x" * 12,
                role=Role.engineer, department="lighting",
            )
            for i in range(users)
        ]  # fmt: skip
        s.flush()
        now = utcnow()
        rows = [
            {
                "id": uuid.uuid4(),
                "organization_id": org.id,
                "user_id": people[i % users].id,
                "kind": str(NoticeKind.assigned),
                "delivery": str(Delivery.immediate),
                "payload": {
                    "item_id": str(uuid.uuid4()),
                    "title": f"Dårlig belysning – Sentrum ({i % 9 + 1} meldinger)",
                    "status": "triaged",
                    "due_date": "2026-12-24",
                    "by": "Koordinator Kari",
                },
                "state": str(OutboxState.pending),
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
            }
            for i in range(n)
        ]
        for start in range(0, n, 2000):
            s.execute(insert(Notice), rows[start : start + 2000])
        s.commit()
        emails = [p.email for p in people]
    engine.dispose()
    return emails


def baseline(port: int, n: int, emails: list[str]) -> float:
    """Seconds for a plain smtplib loop to hand N composed messages to the server."""
    links = mail.Links("https://safewalk.bench.example")
    messages = [
        mail.compose(
            mail.Entry(NoticeKind.assigned, {"item_id": str(uuid.uuid4()), "title": f"Item {i}",
                                             "status": "triaged", "due_date": "2026-12-24"}),
            mail.Recipient(emails[i % len(emails)], Language.nb),
            sender="safewalk <safewalk@bench.example>",
            links=links,
        )
        for i in range(n)
    ]  # fmt: skip
    t0 = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        for message in messages:
            smtp.send_message(message)
    return time.perf_counter() - t0


def drain(url: str, port: int) -> tuple[float, int]:
    settings = Settings(
        environment="test",
        database_url=url,
        smtp_url=f"smtp://127.0.0.1:{port}",
        mail_from="safewalk <safewalk@bench.example>",
        public_url="https://safewalk.bench.example",
    )
    engine = create_db_engine(url)
    factory = make_sessionmaker(engine)
    sent = 0
    t0 = time.perf_counter()
    while True:
        report = run_once(factory, settings)
        sent += report.mailed
        if report.mailed == 0:
            break
    elapsed = time.perf_counter() - t0
    with factory() as s:
        left = s.scalar(
            select(func.count()).select_from(Notice).where(Notice.state == OutboxState.pending)
        )
    engine.dispose()
    assert left == 0, f"{left} notices left"
    return elapsed, sent


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--backend", choices=["spatialite", "postgis"], default="spatialite")
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--users", type=int, default=50)
    args = ap.parse_args()

    port = free_port()
    server = start_server(port)
    name = f"bench_notify_{uuid.uuid4().hex[:8]}"
    try:
        with tempfile.TemporaryDirectory() as tmp:
            url = create_scratch(args.backend, name, Path(tmp))
            emails = load(url, args.n, args.users)
            base_s = baseline(port, args.n, emails)
            drain_s, sent = drain(url, port)
            assert sent == args.n, sent
            drop_scratch(args.backend, name)
    finally:
        server.terminate()
        server.wait(timeout=10)
    server_rate = args.n / base_s
    sender_rate = args.n / drain_s
    print(f"backend {args.backend}, {args.n} notices for {args.users} people")
    print(f"SMTP server alone (smtplib loop): {base_s:7.2f} s  {server_rate:8.0f} mails/s")
    print(f"sender draining the outbox:       {drain_s:7.2f} s  {sender_rate:8.0f} mails/s")
    print(f"ratio sender / server: {sender_rate / server_rate:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
