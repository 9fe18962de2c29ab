"""The Open311 client: items go to the organization's case system, and its answers come back.

The outbox is a table (``open311_dispatch``): an item is put there in the same transaction
that makes it eligible (or by hand), and a sync pass delivers it. The pass never holds a
database transaction across an HTTP call, and a failure only moves the row's next attempt
further out (exponential backoff): nothing is lost, and coordinators see failing rows.

One pass, per organization with an enabled endpoint:
1. put items triaged (or further along) to a mapped department or category in the outbox;
2. POST the due rows to ``requests.json``;
3. resolve tokens into request ids;
4. read ``servicerequestupdates.json`` since the last pass: ``closed`` resolves the item, with
   the case system's note in its history as coming from the case system.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker
from sqlmodel import col

from api.action_items.grouping import record_event, set_status
from api.core import spatial, tenancy
from api.core.db import save_row
from api.core.errors import Conflict, NotFound
from api.core.outbound import OutboundClient, UnsafeUrl, check_url, endpoint_base
from api.core.paging import seek
from api.outputs.open311.formats import w3c
from models import (
    OPEN_STATUSES,
    ActionItem,
    ActionStatus,
    Area,
    AssetOwnerRoute,
    Category,
    DispatchState,
    Moderation,
    Observation,
    Open311Dispatch,
    Open311Endpoint,
    utcnow,
)
from models.exchange import DispatchRead, Open311EndpointIn, dispatch_read
from models.observations import NEUTRAL_SEVERITY

if TYPE_CHECKING:
    import httpx

log = logging.getLogger("safewalk.open311")

BACKOFF_BASE_S = 30
BACKOFF_MAX_S = 3600
# Updates are read from a little before the last pass: an event written just before our last
# read may have been committed just after it. Applying an update twice changes nothing.
UPDATE_OVERLAP = timedelta(minutes=5)
TIMEOUT_S = 15.0
LEASE = timedelta(seconds=4 * TIMEOUT_S)
BATCH = 100
CASE_SYSTEM = "case_system"
# Items further along than triage also go: they were triaged on their way there.
ELIGIBLE = [str(s) for s in OPEN_STATUSES if s != ActionStatus.new]


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(BACKOFF_BASE_S * 2 ** max(0, attempts - 1), BACKOFF_MAX_S))


# --- configuration and the outbox (services: they flush, the request commits) --------------


def get_endpoint(session: Session, org_id: uuid.UUID) -> Open311Endpoint:
    ep = session.scalar(
        select(Open311Endpoint).where(col(Open311Endpoint.organization_id) == org_id)
    )
    if ep is None:
        raise NotFound(key="error.no_case_system")
    return ep


def configure(
    session: Session, org_id: uuid.UUID, body: Open311EndpointIn, *, allow_private: bool = False
) -> Open311Endpoint:
    # The server posts to this URL: it may not point into the network the service runs in.
    url = endpoint_base(str(body.url), allow_private=allow_private)
    ep = session.scalar(
        select(Open311Endpoint).where(col(Open311Endpoint.organization_id) == org_id)
    )
    data = body.model_dump() | {"url": url}
    return save_row(session, ep, data, partial(Open311Endpoint, organization_id=org_id))


def remove(session: Session, org_id: uuid.UUID) -> None:
    session.delete(get_endpoint(session, org_id))
    session.flush()


def enqueue(session: Session, item: ActionItem, *, reason: str) -> Open311Dispatch:
    """Put the item in the outbox (sent by hand: again due now if it was waiting)."""
    try:
        get_endpoint(session, item.organization_id)
    except NotFound as exc:
        raise Conflict(key="error.no_case_system_to_send") from exc
    d = session.scalar(
        select(Open311Dispatch).where(col(Open311Dispatch.action_item_id) == item.id)
    )
    if d is not None:
        if d.state == DispatchState.sent:
            raise Conflict(
                key="error.already_sent", params={"reference": d.service_request_id or d.token}
            )
        d.next_attempt_at = utcnow()
        session.flush()
        return d
    d = Open311Dispatch(organization_id=item.organization_id, action_item_id=item.id, reason=reason)
    session.add(d)
    record_event(session, item, kind="open311_queued", comment="queued for the case system")
    session.flush()
    return d


def enqueue_eligible(session: Session, ep: Open311Endpoint, now: datetime | None = None) -> int:
    """Items of mapped departments or categories that were triaged and are not in the outbox."""
    if not ep.departments and not ep.categories:
        return 0
    mapped: list[Any] = []
    if ep.departments:
        mapped.append(col(ActionItem.department).in_(ep.departments))
    if ep.categories:
        mapped.append(col(Category.code).in_(ep.categories))
    queued = select(col(Open311Dispatch.action_item_id))
    items = list(
        session.scalars(
            select(ActionItem)
            .join(Category, col(Category.id) == col(ActionItem.category_id))
            .where(
                col(ActionItem.organization_id) == ep.organization_id,
                col(ActionItem.status).in_(ELIGIBLE),
                or_(*mapped),
                col(ActionItem.id).notin_(queued),
            )
            .limit(BATCH)
        )
    )
    for item in items:
        session.add(
            Open311Dispatch(
                organization_id=item.organization_id,
                action_item_id=item.id,
                reason="triaged",
                next_attempt_at=now or utcnow(),
            )
        )
        record_event(session, item, kind="open311_queued", comment="queued for the case system")
    session.flush()
    return len(items)


def outbox_page(
    session: Session, org_id: uuid.UUID, n: int | None, cursor: str | None
) -> tuple[list[DispatchRead], str | None]:
    """By state (pending first), then oldest first: ``n`` after ``cursor`` (None: all), and the
    next page's cursor."""
    rows, nxt = seek(
        session,
        select(Open311Dispatch, col(ActionItem.title))
        .join(ActionItem, col(ActionItem.id) == col(Open311Dispatch.action_item_id))
        .where(col(Open311Dispatch.organization_id) == org_id),
        [col(Open311Dispatch.state), col(Open311Dispatch.created_at), col(Open311Dispatch.id)],
        n,
        cursor,
        key=lambda row: (row[0].state, row[0].created_at, row[0].id),
    )
    return [dispatch_read(d, title) for d, title in rows], nxt


def outbox(session: Session, org_id: uuid.UUID) -> list[DispatchRead]:
    return outbox_page(session, org_id, None, None)[0]


# --- the sync pass -------------------------------------------------------------------------


@dataclass
class SyncReport:
    queued: int = 0
    sent: int = 0
    failed: int = 0
    resolved: int = 0
    errors: list[str] = field(default_factory=list)


def _request_params(
    session: Session, ep: Open311Endpoint | AssetOwnerRoute, item: ActionItem
) -> dict[str, str]:
    cat = session.get(Category, item.category_id)
    assert cat is not None
    p = spatial.from_db(item.location)
    assert p is not None
    members = list(
        session.scalars(
            select(Observation).where(
                col(Observation.action_item_id) == item.id,
                col(Observation.moderation) == Moderation.accepted,
            )
        )
    )
    notes = [m.note for m in members if m.note]
    # The observations' notes, never who made them.
    description = "\n".join([item.title, *(f"- {n}" for n in notes)])[:2000]
    area = session.get(Area, item.area_id) if item.area_id else None
    params = {
        "service_code": ep.service_codes.get(cat.code, cat.code),
        "lat": f"{p.y:.6f}",
        "long": f"{p.x:.6f}",
        "description": description,
        "api_key": ep.api_key or "",
        "attribute[severity]": str(
            max((m.severity for m in members if m.severity is not None), default=NEUTRAL_SEVERITY)
        ),
    }
    if ep.jurisdiction_id:
        params["jurisdiction_id"] = ep.jurisdiction_id
    if area is not None:
        params["address_string"] = area.name
    return params


def _first(body: Any) -> dict[str, Any]:
    if isinstance(body, list) and body and isinstance(body[0], dict):
        return body[0]
    if isinstance(body, dict):
        return body
    raise ValueError(f"unexpected answer: {str(body)[:200]}")


def _describe(exc: Exception) -> str:
    import httpx

    if isinstance(exc, httpx.HTTPStatusError):
        return f"HTTP {exc.response.status_code}: {exc.response.text[:300]}"
    return f"{type(exc).__name__}: {exc}"[:500]


def _claim(session: Session, dispatch_id: uuid.UUID, now: datetime) -> bool:
    """Lease a due row to this pass, so two passes (two replicas, or the loop and the command)
    never post the same item twice. A pass that dies leaves the lease to run out: the item
    is tried again, never lost (delivery is at least once)."""
    result = session.execute(
        update(Open311Dispatch)
        .where(
            col(Open311Dispatch.id) == dispatch_id,
            col(Open311Dispatch.state) == DispatchState.pending,
            col(Open311Dispatch.next_attempt_at) <= now,
        )
        .values(next_attempt_at=now + LEASE)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


@dataclass(frozen=True)
class _Pass:
    """What every step of one sync pass shares: where its sessions come from, the HTTP client,
    the pass's time, its report, and whether private addresses may be reached."""

    factory: sessionmaker[Session]
    outbound: OutboundClient
    now: datetime
    report: SyncReport
    allow_private: bool

    @property
    def http(self) -> httpx.Client:
        return self.outbound.http


def _deliver(run: _Pass, ep_id: uuid.UUID, org_id: uuid.UUID, *, route: bool = False) -> None:
    """POST the due rows to the organization's case system, or (``route``) the rows referred
    to an asset owner to that owner's endpoint."""
    import httpx  # loaded by the pass's client already; named here for the errors it raises

    factory, http, now, report = run.factory, run.http, run.now, run.report
    allow_private = run.allow_private
    with tenancy.unit(factory, org_id) as s:
        ep: Open311Endpoint | AssetOwnerRoute | None = (
            s.get(AssetOwnerRoute, ep_id) if route else s.get(Open311Endpoint, ep_id)
        )
        assert ep is not None
        assert ep.url is not None  # only routes that name an endpoint come here
        target = (
            col(Open311Dispatch.route_id) == ep_id
            if route
            else col(Open311Dispatch.route_id).is_(None)
        )
        due = list(
            s.scalars(
                select(Open311Dispatch)
                .where(
                    col(Open311Dispatch.organization_id) == ep.organization_id,
                    col(Open311Dispatch.state) == DispatchState.pending,
                    col(Open311Dispatch.next_attempt_at) <= now,
                    target,
                )
                .order_by(col(Open311Dispatch.next_attempt_at))
                .limit(BATCH)
            )
        )
        jobs = []
        for d in due:
            if not _claim(s, d.id, now):
                continue  # another pass (another replica) took it
            item = s.get(ActionItem, d.action_item_id)
            assert item is not None
            jobs.append((d.id, _request_params(s, ep, item)))
        url = ep.url + "requests.json"
    for dispatch_id, params in jobs:
        # No transaction is open while we wait for the other system.
        try:
            # Checked again now: the name may resolve elsewhere than when it was saved. A
            # refusal is a failed delivery, tried again later like any other.
            check_url(url, allow_private=allow_private)
            res = http.post(url, data=params)
            res.raise_for_status()
            answer = _first(res.json())
            remote_id = answer.get("service_request_id") or None
            token = answer.get("token") or None
            if not remote_id and not token:
                raise ValueError("the answer has neither service_request_id nor token")
            error = None
        except UnsafeUrl as exc:
            error = f"refused: {exc}"
        except (httpx.HTTPError, ValueError) as exc:
            error = _describe(exc)
        with tenancy.unit(factory, org_id) as s:
            row = s.get(Open311Dispatch, dispatch_id)
            if row is None:
                continue  # the item was deleted meanwhile
            d = row
            d.attempts += 1
            d.last_attempt_at = utcnow()
            item = s.get(ActionItem, d.action_item_id)
            assert item is not None
            if error is None:
                d.state = DispatchState.sent
                d.sent_at = utcnow()
                d.last_error = None
                d.service_request_id = str(remote_id) if remote_id else None
                d.token = str(token) if token else None
                record_event(
                    s, item, kind="open311_sent",
                    changes={"service_request_id": d.service_request_id, "token": d.token},
                    comment="sent to the owner" if route else "sent to the case system",
                )  # fmt: skip
                report.sent += 1
            else:
                d.last_error = error
                d.next_attempt_at = now + backoff(d.attempts)
                report.failed += 1
                report.errors.append(error)
                log.warning("open311: sending item %s failed: %s", d.action_item_id, error)


def _resolve_tokens(run: _Pass, ep_id: uuid.UUID, org_id: uuid.UUID) -> None:
    import httpx

    factory, http, report, allow_private = run.factory, run.http, run.report, run.allow_private
    with tenancy.unit(factory, org_id) as s:
        ep = s.get(Open311Endpoint, ep_id)
        assert ep is not None
        waiting = [
            (d.id, d.token)
            for d in s.scalars(
                select(Open311Dispatch).where(
                    col(Open311Dispatch.organization_id) == ep.organization_id,
                    col(Open311Dispatch.state) == DispatchState.sent,
                    col(Open311Dispatch.service_request_id).is_(None),
                    col(Open311Dispatch.token).is_not(None),
                )
            )
        ]
        base, params = ep.url, _auth(ep)
    for dispatch_id, token in waiting:
        try:
            check_url(base, allow_private=allow_private)
            res = http.get(f"{base}tokens/{token}.json", params=params)
            res.raise_for_status()
            remote_id = _first(res.json()).get("service_request_id") or None
        except (httpx.HTTPError, ValueError) as exc:
            report.errors.append(_describe(exc))
            continue
        if remote_id:
            with tenancy.unit(factory, org_id) as s:
                d = s.get(Open311Dispatch, dispatch_id)
                if d is not None:
                    d.service_request_id = str(remote_id)


def _auth(ep: Open311Endpoint) -> dict[str, str]:
    params = {"api_key": ep.api_key}
    if ep.jurisdiction_id:
        params["jurisdiction_id"] = ep.jurisdiction_id
    return params


def apply_update(session: Session, org_id: uuid.UUID, update: dict[str, Any]) -> bool:
    """One entry of servicerequestupdates; True when it resolved one of our items."""
    remote_id = str(update.get("service_request_id") or "")
    if not remote_id:
        return False
    d = session.scalar(
        select(Open311Dispatch).where(
            col(Open311Dispatch.organization_id) == org_id,
            col(Open311Dispatch.service_request_id) == remote_id,
        )
    )
    if d is None:
        return False
    status = str(update.get("status") or "").lower()
    d.remote_status = status or d.remote_status
    item = session.get(ActionItem, d.action_item_id)
    if item is None or status != "closed" or item.status not in OPEN_STATUSES:
        return False
    note = str(update.get("description") or "").strip() or None
    if note:
        item.resolution_note = note
    set_status(session, item, ActionStatus.resolved, kind=CASE_SYSTEM, comment=note)
    record_event(
        session, item, kind="open311_update",
        changes={
            "source": CASE_SYSTEM, "service_request_id": remote_id,
            "update_id": str(update.get("update_id") or ""), "status": status,
        },
    )  # fmt: skip
    session.flush()
    return True


def _read_updates(run: _Pass, ep_id: uuid.UUID, org_id: uuid.UUID) -> None:
    import httpx

    factory, http, now, report = run.factory, run.http, run.now, run.report
    allow_private = run.allow_private
    with tenancy.unit(factory, org_id) as s:
        ep = s.get(Open311Endpoint, ep_id)
        assert ep is not None
        first_sent = s.scalar(
            select(col(Open311Dispatch.sent_at))
            .where(
                col(Open311Dispatch.organization_id) == ep.organization_id,
                col(Open311Dispatch.sent_at).is_not(None),
            )
            .order_by(col(Open311Dispatch.sent_at))
            .limit(1)
        )
        if first_sent is None:
            return  # nothing of ours is there yet
        since = ep.updates_since or first_sent
        base, params = ep.url, _auth(ep)
        tz = "UTC"
    # W3C datetimes go to the second: round the end up so this second's events are in.
    end = now + timedelta(seconds=1)
    query = {**params, "start_date": w3c(since - UPDATE_OVERLAP, tz), "end_date": w3c(end, tz)}
    try:
        check_url(base, allow_private=allow_private)
        res = http.get(f"{base}servicerequestupdates.json", params=query)
        res.raise_for_status()
        updates = res.json()
        if not isinstance(updates, list):
            raise ValueError("servicerequestupdates is not a list")
    except (httpx.HTTPError, ValueError) as exc:
        report.errors.append(_describe(exc))
        return
    with tenancy.unit(factory, org_id) as s:
        for u in updates:
            if isinstance(u, dict) and apply_update(s, org_id, u):
                report.resolved += 1
        ep = s.get(Open311Endpoint, ep_id)
        if ep is not None:
            ep.updates_since = now


def sync(
    factory: sessionmaker[Session],
    *,
    now: datetime | None = None,
    organization_id: uuid.UUID | None = None,
    http: httpx.Client | None = None,
    allow_private: bool = False,
) -> SyncReport:
    """One pass over every enabled endpoint (or one organization's). ``allow_private``
    (``SAFEWALK_WEBHOOK_ALLOW_PRIVATE``) lets it post to loopback, link-local and private
    addresses."""
    now = now or utcnow()
    report = SyncReport()
    client = OutboundClient(http, timeout=TIMEOUT_S, headers={"User-Agent": "safewalk-open311"})
    run = _Pass(factory, client, now, report, allow_private)
    try:
        with tenancy.unit(factory, organization_id) as s:
            stmt = select(col(Open311Endpoint.id), col(Open311Endpoint.organization_id)).where(
                col(Open311Endpoint.enabled).is_(True)
            )
            if organization_id is not None:
                stmt = stmt.where(col(Open311Endpoint.organization_id) == organization_id)
            # Which organizations have work is the one read across them; each endpoint's work
            # then runs in transactions that act for its organization alone.
            with tenancy.lookup(s, "open311_endpoint"):
                endpoints = [(ep_id, org_id) for ep_id, org_id in s.execute(stmt).all()]
        for ep_id, org_id in endpoints:
            with tenancy.unit(factory, org_id) as s:
                ep = s.get(Open311Endpoint, ep_id)
                if ep is not None:
                    report.queued += enqueue_eligible(s, ep, now)
            _deliver(run, ep_id, org_id)
            _resolve_tokens(run, ep_id, org_id)
            _read_updates(run, ep_id, org_id)
        # Items referred to an asset's owner go to the owner's endpoint; what the owner does
        # with them is theirs (no updates are read back).
        with tenancy.unit(factory, organization_id) as s:
            # Routes that name a mailbox instead are the notice sender's (api/jobs/notify.py).
            routes_stmt = select(
                col(AssetOwnerRoute.id), col(AssetOwnerRoute.organization_id)
            ).where(col(AssetOwnerRoute.url).is_not(None))
            if organization_id is not None:
                routes_stmt = routes_stmt.where(
                    col(AssetOwnerRoute.organization_id) == organization_id
                )
            with tenancy.lookup(s, "asset_owner_route"):
                routes = [(r_id, org_id) for r_id, org_id in s.execute(routes_stmt).all()]
        for route_id, org_id in routes:
            _deliver(run, route_id, org_id, route=True)
    finally:
        client.close()
    return report
