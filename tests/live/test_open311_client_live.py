"""The Open311 client against a real server: two organizations on one `safewalk serve`, each the
case system of the other over loopback HTTP. An item travels, is closed there and comes back
resolved; with the endpoint down, the item waits (with backoff) and is sent once it is up."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from georeport import GeoReport
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from api.action_items import workflow
from api.auth.principal import Principal
from api.core.db import create_db_engine, make_sessionmaker
from api.observations.service import capture
from api.outputs.open311 import keys
from api.outputs.open311.client import backoff, outbox, sync
from models import (
    ActionItem,
    ActionStatus,
    DispatchState,
    Observation,
    Open311Dispatch,
    Open311Endpoint,
    Organization,
    Role,
    User,
    utcnow,
)
from models.action_items import ActionItemUpdate
from models.geojson import PointGeometry
from models.observations import ObservationIn
from tests.factories import PASSWORD, make_area, make_org, make_user, make_walk
from tests.factories.live_server import LiveServer, free_port
from tests.factories.open311 import W3C


@dataclass
class Side:
    slug: str
    org_id: uuid.UUID
    walk_id: uuid.UUID
    coordinator: str
    key: str  # the integration key the *other* side uses to post here


@pytest.fixture
def two_orgs(migrated_db_url: str) -> Iterator[tuple[sessionmaker[Session], Side, Side]]:
    engine = create_db_engine(migrated_db_url)
    factory = make_sessionmaker(engine)
    sides = []
    with factory() as s:
        for name in ("Sandnes", "Stavanger"):
            org = make_org(s, name)
            area = make_area(s, org)
            walk = make_walk(s, org, area=area)
            user = make_user(s, org, Role.coordinator)
            key = keys.create_key(s, org.id, "the other municipality", None).api_key
            sides.append(Side(org.slug, org.id, walk.id, user.email, key))
        s.commit()
    yield factory, sides[0], sides[1]
    engine.dispose()


def configure(factory: sessionmaker[Session], here: Side, there: Side, url: str, dept: str) -> None:
    with factory() as s:
        s.add(
            Open311Endpoint(
                organization_id=here.org_id,
                url=url,
                api_key=there.key,
                jurisdiction_id=there.slug,
                departments=[dept],
            )
        )
        s.commit()


def login(http: httpx.Client, email: str) -> dict[str, str]:
    res = http.post("/api/v1/auth/token", data={"username": email, "password": PASSWORD})
    assert res.status_code == 200, res.text
    return {"Authorization": f"Bearer {res.json()['access_token']}"}


def observe(http: httpx.Client, side: Side, auth: dict[str, str], category: str) -> str:
    oid = str(uuid.uuid4())
    body: dict[str, Any] = {
        "walk_id": str(side.walk_id),
        "category": category,
        "location": {"type": "Point", "coordinates": [5.7352, 58.8521]},
        "severity": 3,
        "note": "Lyset er ute",
        "recorded_at": utcnow().isoformat(),
    }
    res = http.put(f"/api/v1/observations/{oid}", json=body, headers=auth)
    assert res.status_code == 201, res.text
    item_id = res.json()["action_item_id"]
    assert item_id
    return str(item_id)


def move(http: httpx.Client, auth: dict[str, str], item_id: str, **body: Any) -> dict[str, Any]:
    etag = http.get(f"/api/v1/action-items/{item_id}", headers=auth).headers["etag"]
    res = http.patch(
        f"/api/v1/action-items/{item_id}", json=body, headers={**auth, "If-Match": etag}
    )
    assert res.status_code == 200, res.text
    return dict(res.json())


def close(http: httpx.Client, auth: dict[str, str], item_id: str, note: str) -> None:
    move(http, auth, item_id, status="resolved", resolution_note=note)


def dispatch_of(factory: sessionmaker[Session], item_id: str) -> Open311Dispatch | None:
    with factory() as s:
        return s.scalar(
            select(Open311Dispatch).where(Open311Dispatch.action_item_id == uuid.UUID(item_id))
        )


def test_an_item_travels_is_closed_there_and_comes_back_resolved(
    two_orgs: tuple[sessionmaker[Session], Side, Side], migrated_db_url: str, tmp_path: Path
) -> None:
    factory, sandnes, stavanger = two_orgs
    with LiveServer(migrated_db_url, tmp_path / "server") as server, ExitStack() as stack:
        base = f"{server.base}/open311/v2/"
        configure(factory, sandnes, stavanger, base, "lighting")
        configure(factory, stavanger, sandnes, base, "parks")
        http = stack.enter_context(httpx.Client(base_url=server.base, timeout=30))
        a_auth, b_auth = login(http, sandnes.coordinator), login(http, stavanger.coordinator)

        item = observe(http, sandnes, a_auth, "lighting")
        assert sync(factory, allow_private=True).sent == 0  # still new: only triaged items go
        move(http, a_auth, item, status="triaged", department="lighting")
        report = sync(factory, allow_private=True)
        assert (report.queued, report.sent, report.failed) == (1, 1, 0), report
        d = dispatch_of(factory, item)
        assert d is not None
        assert d.state == DispatchState.sent
        assert d.service_request_id

        # At Stavanger: an observation outside any walk, grouped into an item of its own.
        with factory() as s:
            there = s.get(ActionItem, uuid.UUID(d.service_request_id))
            assert there is not None
            assert there.organization_id == stavanger.org_id
            obs = s.scalars(select(Observation).where(Observation.action_item_id == there.id))
            assert [o.walk_id for o in obs] == [None]
        # Stavanger's engineers close it with a note.
        close(http, b_auth, d.service_request_id, "Lampe byttet")
        assert sync(factory, allow_private=True).resolved == 1
        back = http.get(f"/api/v1/action-items/{item}", headers=a_auth).json()
        assert back["status"] == "resolved"
        assert back["resolution_note"] == "Lampe byttet"
        history = http.get(f"/api/v1/action-items/{item}/history", headers=a_auth).json()
        from_case_system = [e for e in history if e["actor"] == "case_system"]
        assert [(e["to_status"], e["comment"]) for e in from_case_system] == [
            ("resolved", "Lampe byttet")
        ]
        assert (
            sync(factory, allow_private=True).resolved == 0
        )  # applying the same update again changes nothing

        # An Open311 client from PyPI reads Stavanger's published view (JSON and XML).
        with factory() as s:
            org = s.get(Organization, stavanger.org_id)
            assert org is not None
            org.public_followup = True
            s.commit()
        for fmt in ("json", "xml"):
            reader = GeoReport(base, jurisdiction=stavanger.slug, output_format=fmt)
            services = reader.get_service_list()
            assert "lighting" in [x["service_code"] for x in services]
            definition = reader.get_service_definition("lighting")
            assert definition["service_code"] == "lighting"
            listed = reader.get_service_requests(start_date="2020-01-01T00:00:00Z")
            listed = listed if isinstance(listed, list) else [listed]  # xmltodict: one is a dict
            assert [r["service_request_id"] for r in listed] == [d.service_request_id]
            one = reader.get_service_request(d.service_request_id)
            one = one[0] if isinstance(one, list) else one
            assert one["status"] == "closed"
            assert one["service_code"] == "lighting"
            assert W3C.match(str(one["requested_datetime"]))

        # The other way: Stavanger's parks item goes to Sandnes.
        theirs = observe(http, stavanger, b_auth, "vegetation")
        move(http, b_auth, theirs, status="triaged")
        assert sync(factory, allow_private=True).sent == 1
        d2 = dispatch_of(factory, theirs)
        assert d2 is not None
        with factory() as s:
            arrived = s.get(ActionItem, uuid.UUID(str(d2.service_request_id)))
            assert arrived is not None
            assert arrived.organization_id == sandnes.org_id


def _triaged_item(factory: sessionmaker[Session], side: Side) -> str:
    """An item made and triaged in-process (a server start costs seconds on a busy machine)."""
    with factory() as s:
        user = s.scalar(select(User).where(User.email == side.coordinator))
        assert user is not None
        who = Principal(kind="staff", organization_id=side.org_id, user=user)
        body = ObservationIn(
            walk_id=side.walk_id,
            category="lighting",
            location=PointGeometry(type="Point", coordinates=[5.7352, 58.8521]),
            recorded_at=utcnow(),
        )
        obs = capture(s, who, uuid.uuid4(), body).observation
        item = s.get(ActionItem, obs.action_item_id)
        assert item is not None
        workflow.apply(s, who, item, ActionItemUpdate(status=ActionStatus.triaged))
        s.commit()
        return str(item.id)


def test_endpoint_down_retries_with_backoff_and_loses_nothing(
    two_orgs: tuple[sessionmaker[Session], Side, Side], migrated_db_url: str, tmp_path: Path
) -> None:
    factory, sandnes, stavanger = two_orgs
    port = free_port()
    configure(factory, sandnes, stavanger, f"http://127.0.0.1:{port}/open311/v2/", "lighting")
    item = _triaged_item(factory, sandnes)
    t0 = utcnow()
    report = sync(factory, allow_private=True, now=t0)
    assert (report.sent, report.failed) == (0, 1)
    assert "ConnectError" in report.errors[0]
    d = dispatch_of(factory, item)
    assert d is not None
    assert (d.state, d.attempts) == (DispatchState.pending, 1)
    assert d.last_error
    assert d.next_attempt_at >= t0 + backoff(1) - timedelta(seconds=1)
    # Coordinators see it waiting and failing.
    with factory() as s:
        [row] = outbox(s, sandnes.org_id)
        assert row.failing is True
        assert row.last_error
    # Before the backoff is over, nothing is tried; a second failure doubles the wait.
    assert sync(factory, allow_private=True, now=t0 + timedelta(seconds=5)).failed == 0
    assert sync(factory, allow_private=True, now=t0 + backoff(1)).failed == 1
    d = dispatch_of(factory, item)
    assert d is not None
    assert d.attempts == 2
    assert backoff(2) == 2 * backoff(1)
    # The case system comes up (on the configured port); the item goes, exactly once.
    with LiveServer(migrated_db_url, tmp_path / "b", port=port):
        later = t0 + backoff(1) + backoff(2)
        assert sync(factory, allow_private=True, now=later).sent == 1
        assert sync(factory, allow_private=True, now=later + timedelta(hours=2)).sent == 0
    with factory() as s:
        arrived = list(
            s.scalars(
                select(Observation).where(
                    Observation.organization_id == stavanger.org_id, Observation.walk_id.is_(None)
                )
            )
        )
        assert len(arrived) == 1
        d = s.scalar(select(Open311Dispatch))
        assert d is not None
        assert (d.state, d.attempts) == (DispatchState.sent, 3)
        item_row = s.get(ActionItem, uuid.UUID(item))
        assert item_row is not None
        assert item_row.status == ActionStatus.triaged
        assert outbox(s, sandnes.org_id)[0].failing is False
