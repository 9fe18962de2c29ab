"""The sender: empties the outbox of notices (mail) and webhook deliveries.

``safewalk notify`` runs one pass; ``serve`` runs one every ``SAFEWALK_NOTIFY_SECONDS`` (30 by
default, 0 = off) in a daemon thread. Of several replicas one runs each pass: every replica
asks :func:`api.privacy.retention.claim_run` (the daily purge's conditional UPDATE) for the
period's run, and a pass stops taking new batches after most of a period, so two passes never
overlap. Rows are leased besides (a conditional UPDATE pushes their next attempt out before
they are sent), so a pass by hand next to the service's never sends a row twice.

One pass, per organization:
1. the deadline scan: ``due_soon`` / ``overdue`` notices (api/notices/deadlines.py);
2. immediate mail, in batches over one SMTP session;
3. digests: a person's waiting ``digest`` notices in one mail, once a day after
   ``SAFEWALK_DIGEST_HOUR`` in the organization's time zone;
4. webhook deliveries, signed (Standard Webhooks), the URL checked again before each;
5. giving up what waited three days, and forgetting what was done thirty days ago.

No transaction is open while a mail server or a receiver is talked to. A failure moves the
row's next attempt out: one period first (so the first retry comes within two periods), then
doubling up to an hour. A mail is given up after three days; a webhook endpoint whose
deliveries all failed for three days is switched off, and the admins hear of it.
"""

from __future__ import annotations

import logging
import smtplib
import time
import uuid
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import Message
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import ColumnElement, delete, select, update
from sqlalchemy.orm import Session, sessionmaker
from sqlmodel import col

from api.core import tenancy
from api.core.outbound import OutboundClient, UnsafeUrl, check_url
from api.jobs import periodic
from api.jobs.host import Host
from api.notices import deadlines, outbox
from api.notices import mail as mailing
from api.notices import webhooks as hooks
from api.notices.preferences import language_for
from api.privacy import retention
from api.settings import Settings
from models import Organization, User, utcnow
from models.notices import (
    Delivery,
    Notice,
    NoticeKind,
    NoticePreference,
    OutboxState,
    Webhook,
    WebhookDelivery,
)

if TYPE_CHECKING:
    import httpx

log = logging.getLogger("safewalk.notify")

NOTIFY_JOB = "notify"
DEFAULT_PERIOD_S = 30.0
MAIL_BATCH = 200
WEBHOOK_BATCH = 50
# Longer than a batch can take (mail stops at the first connection failure; a webhook
# attempt is bounded by its timeouts), so a lease never runs out under a live pass.
LEASE = timedelta(minutes=10)
MAX_BACKOFF = timedelta(hours=1)
GIVE_UP = timedelta(days=3)
DISABLE_AFTER = timedelta(days=3)
KEEP_DONE = timedelta(days=30)
RESPONSE_EXCERPT = 500
HTTP_TIMEOUT_S, HTTP_CONNECT_TIMEOUT_S = 5.0, 3.0


@dataclass
class NotifyReport:
    deadlines: int = 0
    mailed: int = 0
    digests: int = 0
    mail_failed: int = 0
    delivered: int = 0
    delivery_failed: int = 0
    disabled: int = 0
    given_up: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def busy(self) -> bool:
        return any(
            (self.deadlines, self.mailed, self.digests, self.mail_failed, self.delivered,
             self.delivery_failed, self.disabled, self.given_up)
        )  # fmt: skip


def backoff(attempts: int, period: timedelta) -> timedelta:
    """After the first failure one period, then doubling, at most an hour."""
    grown: timedelta = period * 2 ** max(0, attempts - 1)
    return min(grown, max(MAX_BACKOFF, period))


def period_of(settings: Settings) -> timedelta:
    return timedelta(seconds=settings.notify_seconds or DEFAULT_PERIOD_S)


@dataclass
class _Pass:
    factory: sessionmaker[Session]
    settings: Settings
    now: datetime
    period: timedelta
    report: NotifyReport
    deadline: float | None  # time.monotonic() after which no new batch starts
    outbound: OutboundClient
    # Why the mail server cannot be used in this pass (down, refusing us): no more batches.
    mail_down: str | None = None

    def out_of_time(self) -> bool:
        return self.deadline is not None and time.monotonic() >= self.deadline


# --- claiming ------------------------------------------------------------------------------


def _lease(
    session: Session, table: Any, ids: Sequence[uuid.UUID], now: datetime
) -> list[uuid.UUID]:
    """Push the next attempt of these due rows out by ``LEASE``; the ids this pass won (another
    pass that read the same rows wins none of them)."""
    if not ids:
        return []
    rows = session.execute(
        update(table)
        .where(
            col(table.id).in_(list(ids)),
            col(table.state) == OutboxState.pending,
            col(table.next_attempt_at) <= now,
        )
        .values(next_attempt_at=now + LEASE)
        .returning(col(table.id))
        .execution_options(synchronize_session=False)
    )
    return [r[0] for r in rows]


def _organizations(factory: sessionmaker[Session]) -> list[uuid.UUID]:
    with tenancy.unit(factory, None) as s, tenancy.lookup(s, "organization"):
        return list(s.scalars(select(col(Organization.id)).order_by(col(Organization.id))))


# --- mail ----------------------------------------------------------------------------------


@dataclass
class _Mail:
    ids: list[uuid.UUID]  # one notice, or a digest's notices
    user_id: uuid.UUID | None  # None: to an outside address
    message: Message | None
    refused: str | None = None  # why it cannot be sent at all


def _recipients(
    s: Session, user_ids: set[uuid.UUID | None], org: Organization | None
) -> dict[uuid.UUID, mailing.Recipient]:
    """The active accounts among ``user_ids``, with the language each reads mail in (one
    query each for the accounts and their choices, however many notices)."""
    ids = [i for i in user_ids if i is not None]
    prefs = {
        p.user_id: p
        for p in s.scalars(select(NoticePreference).where(col(NoticePreference.user_id).in_(ids)))
    }
    return {
        u.id: mailing.Recipient(u.email, language_for(prefs.get(u.id), org, u), u.display_name)
        for u in s.scalars(select(User).where(col(User.id).in_(ids)))
        if u.is_active
    }


def _links(settings: Settings) -> mailing.Links:
    return mailing.Links(settings.public_url or "http://127.0.0.1:8000")


def _entry(notice: Notice) -> mailing.Entry:
    return mailing.Entry(kind=NoticeKind(notice.kind), payload=dict(notice.payload))


def _claim_immediate(p: _Pass, org_id: uuid.UUID) -> list[_Mail]:
    with tenancy.unit(p.factory, org_id) as s:
        due = list(
            s.scalars(
                select(col(Notice.id))
                .where(
                    col(Notice.organization_id) == org_id,
                    col(Notice.state) == OutboxState.pending,
                    col(Notice.delivery) == Delivery.immediate,
                    col(Notice.next_attempt_at) <= p.now,
                )
                .order_by(col(Notice.next_attempt_at), col(Notice.id))
                .limit(MAIL_BATCH)
            )
        )
        won = _lease(s, Notice, due, p.now)
        if not won:
            return []
        org = s.get(Organization, org_id)
        notices = list(s.scalars(select(Notice).where(col(Notice.id).in_(won))))
        people = _recipients(s, {n.user_id for n in notices}, org)
        links = _links(p.settings)
        out = []
        for n in notices:
            if n.user_id is None:
                # An outside address (an asset's owner) reads the organization's language.
                outside = mailing.Recipient(n.email or "", language_for(None, org))
                message = mailing.compose(
                    _entry(n), outside, sender=p.settings.mail_from, links=links, outside=True
                )
                out.append(_Mail([n.id], None, message))
                continue
            to = people.get(n.user_id)
            if to is None:
                out.append(_Mail([n.id], n.user_id, None, "the account is no longer active"))
                continue
            message = mailing.compose(_entry(n), to, sender=p.settings.mail_from, links=links)
            out.append(_Mail([n.id], n.user_id, message))
        return out


def _digest_boundary(org: Organization, now: datetime, hour: int) -> datetime:
    """The latest moment a digest was due: today's ``hour`` o'clock, local, if passed."""
    try:
        zone = ZoneInfo(org.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("Europe/Oslo")
    local = now.astimezone(zone)
    boundary = local.replace(hour=hour, minute=0, second=0, microsecond=0)
    if boundary > local:
        boundary -= timedelta(days=1)
    return boundary


def _claim_digests(p: _Pass, org_id: uuid.UUID, done: set[uuid.UUID]) -> list[_Mail]:
    """Digests of up to a batch of people whose day's digest is due and not yet sent."""
    with tenancy.unit(p.factory, org_id) as s:
        org = s.get(Organization, org_id)
        if org is None:
            return []
        boundary = _digest_boundary(org, p.now, p.settings.digest_hour)
        waiting = [
            u
            for u in s.scalars(
                select(col(Notice.user_id))
                .where(
                    col(Notice.organization_id) == org_id,
                    col(Notice.state) == OutboxState.pending,
                    col(Notice.delivery) == Delivery.digest,
                    col(Notice.created_at) < boundary,
                    col(Notice.next_attempt_at) <= p.now,
                )
                .distinct()
            )
            if u is not None and u not in done
        ][:MAIL_BATCH]
        links = _links(p.settings)
        out: list[_Mail] = []
        for user_id in waiting:
            done.add(user_id)
            pref = s.get(NoticePreference, user_id)
            if pref is not None and pref.digest_sent_at is not None:
                if pref.digest_sent_at >= boundary:
                    continue  # today's went already; these wait for tomorrow's
            due = list(
                s.scalars(
                    select(col(Notice.id)).where(
                        col(Notice.user_id) == user_id,
                        col(Notice.state) == OutboxState.pending,
                        col(Notice.delivery) == Delivery.digest,
                        col(Notice.created_at) < boundary,
                        col(Notice.next_attempt_at) <= p.now,
                    )
                )
            )
            won = _lease(s, Notice, due, p.now)
            if not won:
                continue
            to = _recipients(s, {user_id}, org).get(user_id)
            if to is None:
                out.append(_Mail(won, user_id, None, "the account is no longer active"))
                continue
            notices = list(
                s.scalars(
                    select(Notice)
                    .where(col(Notice.id).in_(won))
                    .order_by(col(Notice.created_at), col(Notice.id))
                )
            )
            message = mailing.compose_digest(
                [_entry(n) for n in notices], to, sender=p.settings.mail_from, links=links
            )
            out.append(_Mail(won, user_id, message))
        return out


@dataclass
class _Sent:
    mail: _Mail
    error: str | None = None  # None: the server took it
    final: bool = False  # refused for good: trying again cannot help
    tried: bool = True  # False: left for later, the server failed just before


def _send_mail(p: _Pass, mails: list[_Mail]) -> list[_Sent]:
    """Sends over one SMTP session. Stops at the first failure that is not about one
    recipient (the server is down or refuses us): the rest wait for the next attempt, and the
    pass sends no more mail."""
    results: list[_Sent] = []
    config = mailing.parse_smtp_url(p.settings.smtp_url)
    with mailing.Mailer(config) as mailer:
        for m in mails:
            if m.message is None:
                results.append(_Sent(m, m.refused, final=True))
            elif p.mail_down is not None:
                results.append(_Sent(m, p.mail_down, tried=False))
            else:
                try:
                    mailer.send(m.message)
                    results.append(_Sent(m))
                except (smtplib.SMTPException, OSError) as exc:
                    error = mailing.describe(exc)
                    results.append(_Sent(m, error, final=mailing.permanent(exc)))
                    one_recipient = smtplib.SMTPRecipientsRefused | smtplib.SMTPDataError
                    if not isinstance(exc, one_recipient):
                        p.mail_down = error
    return results


def _record_mail(p: _Pass, org_id: uuid.UUID, results: list[_Sent], *, digest: bool) -> None:
    with tenancy.unit(p.factory, org_id) as s:
        sent = [i for r in results if r.error is None for i in r.mail.ids]
        if sent:
            s.execute(
                update(Notice)
                .where(col(Notice.id).in_(sent))
                .values(
                    state=OutboxState.sent,
                    sent_at=p.now,
                    attempts=col(Notice.attempts) + 1,
                    last_error=None,
                )
                .execution_options(synchronize_session=False)
            )
        for r in results:
            if r.error is None:
                if digest and r.mail.user_id is not None:
                    _digest_sent(s, r.mail.user_id, org_id, p.now)
                    p.report.digests += 1
                else:
                    p.report.mailed += 1
                continue
            rows = s.scalars(select(Notice).where(col(Notice.id).in_(r.mail.ids)))
            if not r.tried:
                for notice in rows:
                    notice.next_attempt_at = p.now + p.period
                continue
            p.report.mail_failed += 1
            p.report.errors.append(r.error)
            for notice in rows:
                notice.attempts += 1
                notice.last_error = r.error
                if r.final or notice.created_at <= p.now - GIVE_UP:
                    notice.state = OutboxState.failed
                    p.report.given_up += 1
                else:
                    notice.next_attempt_at = p.now + backoff(notice.attempts, p.period)
            to = f"user {r.mail.user_id}" if r.mail.user_id else "an outside address"
            log.warning("notice mail to %s failed: %s", to, r.error)


def _digest_sent(s: Session, user_id: uuid.UUID, org_id: uuid.UUID, now: datetime) -> None:
    pref = s.get(NoticePreference, user_id)
    if pref is None:
        pref = NoticePreference(user_id=user_id, organization_id=org_id)
        s.add(pref)
    pref.digest_sent_at = now


def _mail(p: _Pass, org_id: uuid.UUID) -> None:
    if not p.settings.smtp_url:
        return  # nothing can leave; the rows wait (and are given up after GIVE_UP)
    try:
        mailing.parse_smtp_url(p.settings.smtp_url)
    except mailing.MailConfigError as exc:
        p.report.errors.append(str(exc))
        log.error("no notice mail can leave: %s", exc)
        return
    while p.mail_down is None and not p.out_of_time():
        batch = _claim_immediate(p, org_id)
        if not batch:
            break
        _record_mail(p, org_id, _send_mail(p, batch), digest=False)
    done: set[uuid.UUID] = set()
    while p.mail_down is None and not p.out_of_time():
        batch = _claim_digests(p, org_id, done)
        if not batch:
            break
        _record_mail(p, org_id, _send_mail(p, batch), digest=True)


# --- webhooks ------------------------------------------------------------------------------


@dataclass
class _Post:
    delivery_id: uuid.UUID
    webhook_id: uuid.UUID
    url: str
    secret: str
    body: bytes


@dataclass
class _Answer:
    ok: bool
    status: int | None = None
    response: str | None = None
    error: str | None = None
    tried: bool = True  # False: released untried, because its endpoint just failed


def _claim_webhooks(p: _Pass, org_id: uuid.UUID) -> list[_Post]:
    with tenancy.unit(p.factory, org_id) as s:
        due = list(
            s.scalars(
                select(col(WebhookDelivery.id))
                .join(Webhook, col(Webhook.id) == col(WebhookDelivery.webhook_id))
                .where(
                    col(WebhookDelivery.organization_id) == org_id,
                    col(WebhookDelivery.state) == OutboxState.pending,
                    col(WebhookDelivery.next_attempt_at) <= p.now,
                    col(Webhook.active).is_(True),
                )
                .order_by(col(WebhookDelivery.next_attempt_at), col(WebhookDelivery.created_at))
                .limit(WEBHOOK_BATCH)
            )
        )
        won = _lease(s, WebhookDelivery, due, p.now)
        rows = s.execute(
            select(WebhookDelivery, Webhook)
            .join(Webhook, col(Webhook.id) == col(WebhookDelivery.webhook_id))
            .where(col(WebhookDelivery.id).in_(won))
            .order_by(col(WebhookDelivery.created_at), col(WebhookDelivery.id))
        ).all()
        return [_Post(d.id, h.id, h.url, h.secret, hooks.body_bytes(d.payload)) for d, h in rows]


def _post(p: _Pass, job: _Post) -> _Answer:
    try:
        # Checked again now: the name may resolve elsewhere than when it was saved.
        check_url(job.url, allow_private=p.settings.webhook_allow_private)
    except UnsafeUrl as exc:
        return _Answer(ok=False, error=f"refused: {exc}")
    headers = hooks.signed_headers(
        job.secret, hooks.message_id(job.delivery_id), job.body, utcnow()
    )
    import httpx

    try:
        # Streamed, and only the start read: a receiver cannot make us hold a huge answer.
        with p.outbound.http.stream("POST", job.url, content=job.body, headers=headers) as res:
            head = b""
            for chunk in res.iter_bytes():
                head += chunk
                if len(head) >= RESPONSE_EXCERPT * 4:
                    break
            status = res.status_code
            encoding = res.encoding or "utf-8"
    except httpx.HTTPError as exc:
        return _Answer(ok=False, error=f"{type(exc).__name__}: {exc}"[:500])
    excerpt = head.decode(encoding, errors="replace")[:RESPONSE_EXCERPT] if head else None
    if 200 <= status < 300:
        return _Answer(ok=True, status=status, response=excerpt)
    return _Answer(ok=False, status=status, response=excerpt, error=f"HTTP {status}")


def _send_webhooks(p: _Pass, jobs: list[_Post]) -> list[tuple[_Post, _Answer]]:
    failed: set[uuid.UUID] = set()
    out = []
    for job in jobs:
        if job.webhook_id in failed:
            out.append((job, _Answer(ok=False, tried=False)))
            continue
        answer = _post(p, job)
        if not answer.ok:
            failed.add(job.webhook_id)  # the endpoint is down: its other rows wait with it
        out.append((job, answer))
    return out


def _disable(s: Session, p: _Pass, hook: Webhook, error: str) -> None:
    since = hook.failing_since.isoformat() if hook.failing_since else "?"
    hook.active = False
    hook.disabled_at = p.now
    hook.disabled_reason = f"every delivery failed since {since}; last: {error}"[:1000]
    hook.updated_at = p.now
    s.execute(
        update(WebhookDelivery)
        .where(
            col(WebhookDelivery.webhook_id) == hook.id,
            col(WebhookDelivery.state) == OutboxState.pending,
        )
        .values(state=OutboxState.failed, last_error="the endpoint was switched off")
        .execution_options(synchronize_session=False)
    )
    outbox.webhook_disabled(s, hook, now=p.now)
    p.report.disabled += 1
    log.warning("webhook %s switched off: %s", hook.id, hook.disabled_reason)


def _record_webhooks(p: _Pass, org_id: uuid.UUID, results: list[tuple[_Post, _Answer]]) -> None:
    with tenancy.unit(p.factory, org_id) as s:
        retry_at: dict[uuid.UUID, datetime] = {}
        for job, answer in results:
            d = s.get(WebhookDelivery, job.delivery_id)
            hook = s.get(Webhook, job.webhook_id)
            if d is None or hook is None:
                continue  # the endpoint was deleted meanwhile
            if not answer.tried:
                d.next_attempt_at = retry_at.get(hook.id, p.now + p.period)
                continue
            d.attempts += 1
            d.last_attempt_at = p.now
            d.last_status = answer.status
            d.last_response = answer.response
            d.last_error = answer.error
            if answer.ok:
                d.state = OutboxState.sent
                d.delivered_at = p.now
                hook.failing_since = None
                p.report.delivered += 1
                continue
            p.report.delivery_failed += 1
            p.report.errors.append(f"{job.url}: {answer.error}")
            d.next_attempt_at = p.now + backoff(d.attempts, p.period)
            retry_at[hook.id] = d.next_attempt_at
            if hook.failing_since is None:
                hook.failing_since = p.now
            if hook.active and p.now - hook.failing_since >= DISABLE_AFTER:
                s.flush()
                _disable(s, p, hook, answer.error or "failed")


def _webhooks(p: _Pass, org_id: uuid.UUID) -> None:
    while not p.out_of_time():
        batch = _claim_webhooks(p, org_id)
        if not batch:
            break
        _record_webhooks(p, org_id, _send_webhooks(p, batch))


# --- housekeeping --------------------------------------------------------------------------


def _give_up(
    s: Session,
    table: type[Notice] | type[WebhookDelivery],
    org_id: uuid.UUID,
    now: datetime,
    why: str,
    *where: ColumnElement[bool],
) -> int:
    """Mark pending rows older than ``GIVE_UP`` (and ``where``) failed; how many."""
    stale = s.execute(
        update(table)
        .where(
            col(table.organization_id) == org_id,
            col(table.state) == OutboxState.pending,
            col(table.created_at) <= now - GIVE_UP,
            *where,
        )
        .values(state=OutboxState.failed, last_error=why)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(stale, "rowcount", 0) or 0)


def _tidy(p: _Pass, org_id: uuid.UUID) -> None:
    with tenancy.unit(p.factory, org_id) as s:
        p.report.given_up += _give_up(
            s, Notice, org_id, p.now, "not delivered within three days",
            col(Notice.next_attempt_at) <= p.now,
        )  # fmt: skip
        # Deliveries of an endpoint switched off by hand wait for it, three days at most.
        paused = select(col(Webhook.id)).where(
            col(Webhook.organization_id) == org_id, col(Webhook.active).is_(False)
        )
        p.report.given_up += _give_up(
            s, WebhookDelivery, org_id, p.now, "the endpoint was off for three days",
            col(WebhookDelivery.webhook_id).in_(paused),
        )  # fmt: skip
        for table in (Notice, WebhookDelivery):
            s.execute(
                delete(table).where(
                    col(table.organization_id) == org_id,
                    col(table.state) != OutboxState.pending,
                    col(table.created_at) <= p.now - KEEP_DONE,
                )
            )


# --- the pass ------------------------------------------------------------------------------


def run_once(
    factory: sessionmaker[Session],
    settings: Settings,
    *,
    now: datetime | None = None,
    budget_s: float | None = None,
    http: httpx.Client | None = None,
) -> NotifyReport:
    """One pass over every organization; ``budget_s`` bounds it (the loop's), None drains."""
    report = NotifyReport()
    client = OutboundClient(
        http,
        timeout=HTTP_TIMEOUT_S,
        connect_timeout=HTTP_CONNECT_TIMEOUT_S,
        follow_redirects=False,  # a redirect could lead past the address check
        trust_env=False,  # no proxy from the environment: the address check is ours
        headers={"User-Agent": "safewalk-webhooks"},
    )
    p = _Pass(
        factory=factory,
        settings=settings,
        now=now or utcnow(),
        period=period_of(settings),
        report=report,
        deadline=time.monotonic() + budget_s if budget_s is not None else None,
        outbound=client,
    )
    try:
        for org_id in _organizations(factory):
            if p.out_of_time():
                break
            with tenancy.unit(factory, org_id) as s:
                org = s.get(Organization, org_id)
                if org is not None:
                    report.deadlines += deadlines.scan(s, org, p.now)
            _mail(p, org_id)
            _webhooks(p, org_id)
            _tidy(p, org_id)
    finally:
        client.close()
    return report


def summary(report: NotifyReport) -> str:
    return (
        f"{report.deadlines} deadlines, {report.mailed} mails and {report.digests} digests "
        f"sent, {report.mail_failed} mails failed; {report.delivered} webhooks delivered, "
        f"{report.delivery_failed} failed, {report.disabled} endpoints switched off; "
        f"{report.given_up} given up"
    )


def run_if_claimed(app: Host, every: float) -> NotifyReport | None:
    """This period's pass, if this replica won it (None otherwise)."""
    factory: sessionmaker[Session] = app.state.sessionmaker
    with factory() as session:
        # A little under a period, so the replica that ran last time wins again on time.
        if not retention.claim_run(session, NOTIFY_JOB, every=timedelta(seconds=every * 0.9)):
            return None
    report = run_once(factory, app.state.settings, budget_s=every * 0.8)
    with factory() as session:
        retention.finish_run(session, NOTIFY_JOB)
    if report.busy:
        log.info("notices: %s", summary(report))
    return report


def notify_lifespan(app: Host) -> AbstractAsyncContextManager[None]:
    seconds = float(app.state.settings.notify_seconds)
    return periodic.every(
        seconds, lambda: run_if_claimed(app, seconds), name="notify", log=log,
        failed="notice pass failed",
    )  # fmt: skip
