"""Observations name their lamp; one item per lamp; referral to the lamp's owner; the recurring
flag; the map feed; dark gaps along routes."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any

import pytest
from shapely.geometry import LineString
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from api.core import spatial
from api.outputs.open311.client import sync
from geo.lights import dark_gaps
from models import ActionItem, AssetOwner, AssetStatus, Open311Dispatch, utcnow
from tests.factories.assets import make_lamp
from tests.factories.client import SyncClient
from tests.factories.notices import Receiver, receiver
from tests.factories.observations import near, obs_body, point
from tests.factories.world import World

__all__ = ["receiver"]


def put_obs(client: SyncClient, world: World, at: list[float], **kw: Any) -> Any:
    return client.put(
        f"/api/v1/observations/{uuid.uuid4()}",
        headers=world.headers("participant"),
        json=obs_body(world, location=point(at), **kw),
    )


def observe(client: SyncClient, world: World, at: list[float], **kw: Any) -> dict[str, Any]:
    res = put_obs(client, world, at, **kw)
    assert res.status_code == 201, res.text
    return dict(res.json())


def item(client: SyncClient, world: World, item_id: str) -> dict[str, Any]:
    res = client.get(f"/api/v1/action-items/{item_id}", headers=world.headers("coordinator"))
    assert res.status_code == 200, res.text
    return dict(res.json())


def test_an_observation_snaps_to_the_nearest_lamp_in_service_within_15_m(
    client: SyncClient, world: World, session: Session
) -> None:
    a = make_lamp(session, world.org, "A", *near(0, 0))
    make_lamp(session, world.org, "B", *near(10, 0))
    make_lamp(session, world.org, "C", *near(3, 0), status=AssetStatus.faulty)
    session.commit()
    obs = observe(client, world, near(4, 1))
    assert obs["asset_id"] == str(a.id)  # C is nearer, but out of service
    assert obs["asset_distance_m"] == pytest.approx(4.1, abs=0.1)
    beyond = observe(client, world, near(27, 0), category="lighting")
    assert beyond["asset_id"] is None  # B is 17 m away
    assert beyond["asset_distance_m"] is None
    other = observe(client, world, near(4, 1), category="graffiti")
    assert other["asset_id"] is None  # graffiti names no asset kind


def test_the_participants_choice_wins_and_a_wrong_one_is_refused(
    client: SyncClient, world: World, session: Session
) -> None:
    make_lamp(session, world.org, "A", *near(0, 0))
    b = make_lamp(session, world.org, "B", *near(10, 0))
    foreign = make_lamp(session, world.other_org, "X", *near(1, 0))
    session.commit()
    obs = observe(client, world, near(4, 0), asset_id=str(b.id))
    assert obs["asset_id"] == str(b.id)
    assert obs["asset_distance_m"] == pytest.approx(6.0, abs=0.1)
    for wrong in (str(foreign.id), str(uuid.uuid4())):
        res = put_obs(client, world, near(4, 0), asset_id=wrong)
        assert res.status_code == 422, res.text
        assert res.json()["errors"][0]["loc"] == ["body", "asset_id"]


def test_one_item_per_lamp_whatever_the_distance(
    client: SyncClient, world: World, session: Session
) -> None:
    a = make_lamp(session, world.org, "A-17", *near(0, 0), owner_name="Sandnes kommune")
    b = make_lamp(session, world.org, "B-18", *near(25, 0))
    session.commit()
    first = observe(client, world, near(-12, 0))
    second = observe(client, world, near(0, 14))  # 26 m from the first: still lamp A
    assert first["asset_id"] == second["asset_id"] == str(a.id)
    assert first["action_item_id"] == second["action_item_id"]
    # Lamp B is 37 m from the first report but 13 m from this one: its own item, though the
    # lighting distance (35 m) would have joined it to A's.
    on_b = observe(client, world, near(13, 0))
    assert on_b["asset_id"] == str(b.id)
    assert on_b["action_item_id"] != first["action_item_id"]
    # Unlinked reports group as before, never into a lamp's item.
    loose = observe(client, world, near(-12, 30))
    assert loose["asset_id"] is None
    assert loose["action_item_id"] not in (first["action_item_id"], on_b["action_item_id"])
    it = item(client, world, first["action_item_id"])
    assert it["observation_count"] == 2
    assert it["asset_id"] == str(a.id)
    assert it["asset"] == {
        "id": str(a.id), "kind": "street_light", "external_id": "A-17",
        "owner": "municipality", "owner_name": "Sandnes kommune",
    }  # fmt: skip
    assert it["status"] == "new"
    listed = client.get("/api/v1/action-items", headers=world.headers("engineer")).json()
    numbers = {i["id"]: (i["asset"] or {}).get("external_id") for i in listed["items"]}
    assert numbers[first["action_item_id"]] == "A-17"


def test_a_lamp_with_three_items_in_a_year_is_recurring(
    client: SyncClient, world: World, session: Session
) -> None:
    lamp = make_lamp(session, world.org, "R-1", *near(0, 0))
    session.commit()
    ids = []
    for n in range(3):
        obs = observe(client, world, near(2, n))
        ids.append(obs["action_item_id"])
        it = item(client, world, obs["action_item_id"])
        assert it["recurring"] is (n == 2)
        etag = client.get(
            f"/api/v1/action-items/{obs['action_item_id']}", headers=world.headers("coordinator")
        ).headers["etag"]
        res = client.patch(
            f"/api/v1/action-items/{obs['action_item_id']}",
            json={"status": "resolved", "comment": "new bulb"},
            headers={**world.headers("coordinator"), "If-Match": etag},
        )
        assert res.status_code == 200, res.text
        # Resolved long ago: the next report starts a new item instead of reopening this one.
        row = session.get(ActionItem, uuid.UUID(obs["action_item_id"]), populate_existing=True)
        assert row is not None
        row.resolved_at = utcnow() - timedelta(days=120)
        session.commit()
    assert len(set(ids)) == 3
    asset = client.get(f"/api/v1/assets/{lamp.id}", headers=world.headers("engineer")).json()
    assert asset["recurring"] is True
    assert [i["id"] for i in asset["items"]] == list(reversed(ids))
    assert all(i["status"] == "resolved" for i in asset["items"])


def test_an_item_on_a_county_lamp_is_referred_and_sent_to_the_county(
    client: SyncClient,
    world: World,
    session: Session,
    session_factory: sessionmaker[Session],
    receiver: Receiver,
    app: Any,
) -> None:
    receiver.answer = json.dumps([{"service_request_id": "FK-77"}]).encode()
    lamp = make_lamp(
        session, world.org, "F-9", *near(0, 0), owner=AssetOwner.county,
        owner_name="Rogaland fylkeskommune",
    )  # fmt: skip
    session.commit()
    admin = world.headers("admin")
    base = f"http://127.0.0.1:{receiver.port}/open311/v2"
    refused = client.put(
        "/api/v1/asset-owners/county", json={"url": base, "api_key": "k"}, headers=admin
    )
    assert refused.status_code == 422  # loopback, unless on-premises receivers are allowed
    app.state.settings = app.state.settings.model_copy(update={"webhook_allow_private": True})
    res = client.put(
        "/api/v1/asset-owners/county",
        json={"url": base, "api_key": "their-key", "service_codes": {"lighting": "LYS"}},
        headers=admin,
    )
    assert res.status_code == 200, res.text
    assert res.json()["api_key_set"] is True
    assert "their-key" not in res.text
    obs = observe(client, world, near(3, 0))
    assert obs["asset_id"] == str(lamp.id)
    it = item(client, world, obs["action_item_id"])
    assert it["status"] == "referred"
    assert it["referred_to"] == "Rogaland fylkeskommune"
    assert it["asset"]["owner"] == "county"
    report = sync(session_factory, organization_id=world.org.id, allow_private=True)
    assert (report.sent, report.failed) == (1, 0), report.errors
    [hit] = receiver.hits
    assert hit.path == "/open311/v2/requests.json"
    form = dict(pair.split("=", 1) for pair in hit.body.decode().split("&"))
    assert form["service_code"] == "LYS"
    assert form["api_key"] == "their-key"
    d = session.scalar(
        select(Open311Dispatch).where(
            Open311Dispatch.action_item_id == uuid.UUID(obs["action_item_id"])
        )
    )
    assert d is not None
    assert (d.state, d.service_request_id) == ("sent", "FK-77")
    # A second pass sends nothing again.
    assert sync(session_factory, organization_id=world.org.id, allow_private=True).sent == 0
    # The municipality's own lamps are not referred.
    own = make_lamp(session, world.org, "K-1", *near(200, 0))
    session.commit()
    mine = observe(client, world, near(201, 0))
    assert mine["asset_id"] == str(own.id)
    assert item(client, world, mine["action_item_id"])["status"] == "new"


def test_the_map_feed_shows_lamps_and_participants_see_their_walks_area(
    client: SyncClient, world: World, session: Session
) -> None:
    make_lamp(session, world.org, "IN-1", *near(0, 0))
    make_lamp(session, world.org, "IN-2", *near(20, 0), owner=AssetOwner.county)
    make_lamp(session, world.org, "GONE", *near(30, 0), status=AssetStatus.removed)
    make_lamp(session, world.org, "FAR", 5.60, 58.80)
    make_lamp(session, world.other_org, "THEIRS", *near(1, 0))
    session.commit()
    staff = client.get("/api/v1/map/assets", headers=world.headers("planner"))
    assert staff.status_code == 200, staff.text
    assert staff.headers["content-type"].startswith("application/geo+json")
    props = {f["properties"]["external_id"]: f["properties"] for f in staff.json()["features"]}
    assert set(props) == {"IN-1", "IN-2", "FAR"}
    assert props["IN-2"]["owner"] == "county"
    mine = client.get("/api/v1/map/assets", headers=world.headers("participant"))
    assert mine.status_code == 200, mine.text
    assert {f["properties"]["external_id"] for f in mine.json()["features"]} == {"IN-1", "IN-2"}


def test_dark_gaps_along_a_walk_and_an_area(
    client: SyncClient, world: World, session: Session
) -> None:
    route = [near(-100, 0), near(100, 0), near(100, 150)]
    world.walk.route = spatial.to_db(LineString(route))
    lamps = [near(-100, 5), near(-60, 5), near(100, 100), near(40, 80)]
    for n, at in enumerate(lamps):
        make_lamp(session, world.org, f"D-{n}", *at)
    make_lamp(session, world.org, "BROKEN", *near(0, 0), status=AssetStatus.faulty)
    session.add(world.walk)
    session.commit()
    res = client.get(
        f"/api/v1/walks/{world.walk.id}/dark-gaps?max_gap_m=25", headers=world.headers("planner")
    )
    assert res.status_code == 200, res.text
    gaps = res.json()["features"]
    expected = dark_gaps([tuple(p) for p in route], [tuple(p) for p in lamps], 25.0)
    assert [g["properties"]["length_m"] for g in gaps] == [g.length_m for g in expected]
    assert len(gaps) == 2  # the faulty lamp lights nothing
    assert all(g["geometry"]["type"] == "LineString" for g in gaps)
    area = client.get(
        f"/api/v1/areas/{world.objects['area'].id}/dark-gaps", headers=world.headers("planner")
    )
    assert area.status_code == 200, area.text
    assert [g["properties"]["length_m"] for g in area.json()["features"]] == [
        g["properties"]["length_m"] for g in gaps
    ]
    wider = client.get(
        f"/api/v1/walks/{world.walk.id}/dark-gaps?max_gap_m=80", headers=world.headers("planner")
    ).json()["features"]
    assert sum(g["properties"]["length_m"] for g in wider) < sum(
        g["properties"]["length_m"] for g in gaps
    )


def test_a_regroup_keeps_one_item_per_lamp(
    client: SyncClient, world: World, session: Session
) -> None:
    a = make_lamp(session, world.org, "G-1", *near(0, 0))
    b = make_lamp(session, world.org, "G-2", *near(25, 0))
    session.commit()
    on_a = [observe(client, world, near(-10, 0)), observe(client, world, near(0, 13))]
    on_b = observe(client, world, near(30, 0))
    loose = observe(client, world, near(-12, 30))
    assert loose["asset_id"] is None
    res = client.post(
        f"/api/v1/areas/{world.objects['area'].id}/regroup", headers=world.headers("coordinator")
    )
    assert res.status_code == 200, res.text
    assert res.json()["items_created"] == 0
    obs = {
        o["id"]: o
        for o in client.get(
            "/api/v1/observations?limit=100", headers=world.headers("coordinator")
        ).json()["items"]
    }
    assert {obs[o["id"]]["action_item_id"] for o in on_a} == {on_a[0]["action_item_id"]}
    assert obs[on_b["id"]]["action_item_id"] == on_b["action_item_id"]
    assert obs[loose["id"]]["action_item_id"] == loose["action_item_id"]
    assert item(client, world, on_a[0]["action_item_id"])["asset_id"] == str(a.id)
    assert item(client, world, on_b["action_item_id"])["asset_id"] == str(b.id)


def test_a_category_change_snaps_again(client: SyncClient, world: World, session: Session) -> None:
    lamp = make_lamp(session, world.org, "E-1", *near(0, 0))
    session.commit()
    obs = observe(client, world, near(3, 0))
    assert obs["asset_id"] == str(lamp.id)

    def patch(category: str) -> dict[str, Any]:
        res = client.patch(
            f"/api/v1/observations/{obs['id']}",
            json={"category": category},
            headers=world.headers("participant"),
        )
        assert res.status_code == 200, res.text
        return dict(res.json())

    graffiti = patch("graffiti")
    assert (graffiti["asset_id"], graffiti["asset_distance_m"]) == (None, None)
    assert item(client, world, graffiti["action_item_id"])["asset_id"] is None
    back = patch("lighting")
    assert back["asset_id"] == str(lamp.id)
    assert item(client, world, back["action_item_id"])["asset_id"] == str(lamp.id)
