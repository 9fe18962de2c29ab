"""Map feeds: RFC 7946 to the letter, read back by GDAL, filters, paging, and no identities."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from shapely.geometry import Polygon
from sqlalchemy.orm import Session

from models import Participant, ParticipantGroup
from tests.factories import make_area, make_walk
from tests.factories.action_items import NOW, at
from tests.factories.client import SyncClient
from tests.factories.geojson_rules import collection_errors
from tests.factories.world import World, participant_token

pyogrio = pytest.importorskip("pyogrio")


class Feeds:
    def __init__(self, app: Any, client: SyncClient, world: World, session: Session) -> None:
        self.client, self.world = client, world
        self.area = make_area(
            session,
            world.org,
            "Øvre Ålgård",
            Polygon([at(-1000, -500), at(1000, -500), at(1000, 500), at(-1000, 500)]),
        )
        self.walk = make_walk(
            session,
            world.org,
            area=self.area,
            starts_at=NOW - timedelta(hours=3),
            title="Kveldsvandring",
        )
        self.kid = Participant(
            organization_id=world.org.id,
            walk_id=self.walk.id,
            group=ParticipantGroup.youth,
            display_name="Secret Name",
        )
        session.add(self.kid)
        session.commit()
        self.kid_h = {"Authorization": f"Bearer {participant_token(app, self.kid)}"}
        self.h = world.headers("planner")

    def observe(
        self,
        category: str,
        pos: list[float],
        minutes_ago: int = 30,
        headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        body = {
            "walk_id": str(self.walk.id),
            "category": category,
            "location": {"type": "Point", "coordinates": pos},
            "severity": 2,
            "recorded_at": (NOW - timedelta(minutes=minutes_ago)).isoformat(),
        }
        r = self.client.put(
            f"/api/v1/observations/{uuid.uuid4()}", headers=headers or self.kid_h, json=body
        )
        assert r.status_code == 201, r.text
        data: dict[str, Any] = r.json()
        return data

    def get(self, url: str, **kw: Any) -> dict[str, Any]:
        r = self.client.get(url, headers=kw.pop("headers", self.h), **kw)
        assert r.status_code == 200, r.text
        assert r.headers["content-type"] == "application/geo+json"
        doc: dict[str, Any] = json.loads(r.content)
        assert collection_errors(doc) == []
        return doc


@pytest.fixture
def feeds(app: Any, client: SyncClient, world: World, session: Session) -> Feeds:
    return Feeds(app, client, world, session)


def _gdal(doc: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    path = tmp_path / "layer.geojson"
    path.write_text(json.dumps(doc), encoding="utf-8")
    info: dict[str, Any] = pyogrio.read_info(path)
    return info


def test_observations_feed_is_rfc7946_and_gdal_reads_it(feeds: Feeds, tmp_path: Path) -> None:
    for i in range(5):
        feeds.observe("lighting", at(-100 + 7.123456 * i, 3.3))
    doc = feeds.get("/api/v1/map/observations")
    assert len(doc["features"]) == 5
    f = doc["features"][0]
    assert isinstance(f["id"], str)
    assert f["properties"]["category"] == "lighting"
    assert f["properties"]["is_dark"] in (True, False)
    assert f["properties"]["recorded_at"].endswith("Z")
    info = _gdal(doc, tmp_path)
    assert info["features"] == 5
    assert info["crs"] == "EPSG:4326"
    assert info["geometry_type"] == "Point"


def test_planners_never_see_participant_identity(feeds: Feeds) -> None:
    feeds.observe("graffiti", at(0, 0))
    for url in ("/api/v1/map/observations", f"/api/v1/map/walks/{feeds.walk.id}"):
        text = json.dumps(feeds.get(url))
        assert "Secret Name" not in text
        assert str(feeds.kid.id) not in text
        assert "participant" not in text


def test_bbox_and_time_filters(feeds: Feeds) -> None:
    inside = feeds.observe("lighting", at(100, 100), minutes_ago=60)
    feeds.observe("lighting", at(-800, -400), minutes_ago=20)
    lo, hi = at(50, 50), at(150, 150)
    doc = feeds.get(f"/api/v1/map/observations?bbox={lo[0]},{lo[1]},{hi[0]},{hi[1]}")
    assert [f["id"] for f in doc["features"]] == [inside["id"]]
    since = (NOW - timedelta(minutes=30)).isoformat()
    recent = feeds.get("/api/v1/map/observations", params={"since": since})
    assert [f["properties"]["recorded_at"] for f in recent["features"]] == [
        (NOW - timedelta(minutes=20)).strftime("%Y-%m-%dT%H:%M:%SZ")
    ]
    until = feeds.get("/api/v1/map/observations", params={"until": since})
    assert [f["id"] for f in until["features"]] == [inside["id"]]
    assert feeds.get("/api/v1/map/observations?category=graffiti")["features"] == []


def test_paging_visits_every_feature_once_while_new_ones_arrive(feeds: Feeds) -> None:
    for i in range(7):
        feeds.observe("litter", at(10 * i, 0))
    seen: list[str] = []
    url: str | None = "/api/v1/map/observations?limit=3"
    arrived = 0
    while url:
        r = feeds.client.get(url, headers=feeds.h)
        doc = json.loads(r.content)
        seen += [f["id"] for f in doc["features"]]
        nxt = [link["href"] for link in doc["links"] if link["rel"] == "next"]
        if nxt:
            assert r.headers["Link"].startswith(f"<{nxt[0]}>")
        if arrived < 2:  # someone keeps walking while the planner pages
            feeds.observe("litter", at(-300 - 10 * arrived, 0))
            arrived += 1
        url = nxt[0] if nxt else None
    assert len(seen) == len(set(seen)) == 9


def test_limit_is_clamped_and_validated(feeds: Feeds) -> None:
    feeds.observe("litter", at(0, 0))
    assert feeds.client.get("/api/v1/map/observations?limit=0", headers=feeds.h).status_code == 422
    assert len(feeds.get("/api/v1/map/observations?limit=999999")["features"]) == 1


def test_action_items_and_areas_feeds(feeds: Feeds, tmp_path: Path) -> None:
    feeds.observe("lighting", at(0, 0))
    feeds.observe("lighting", at(10, 0))
    feeds.observe("graffiti", at(300, 0))
    items = feeds.get("/api/v1/map/action-items")
    assert sorted(
        (f["properties"]["category"], f["properties"]["observation_count"])
        for f in items["features"]
    ) == [("graffiti", 1), ("lighting", 2)]
    assert _gdal(items, tmp_path)["features"] == 2
    only = feeds.get("/api/v1/map/action-items?category=graffiti")
    assert len(only["features"]) == 1
    areas = feeds.get("/api/v1/map/areas")
    mine = next(f for f in areas["features"] if f["properties"]["name"] == "Øvre Ålgård")
    assert mine["properties"]["observation_count"] == 3
    assert mine["properties"]["open_items"] == 2
    assert mine["properties"]["overdue_items"] == 0
    assert mine["geometry"]["type"] == "Polygon"
    assert _gdal(areas, tmp_path)["crs"] == "EPSG:4326"


def test_walk_feed_holds_route_and_observations(feeds: Feeds, session: Session) -> None:
    r = feeds.client.patch(
        f"/api/v1/walks/{feeds.walk.id}",
        headers=feeds.world.headers("coordinator"),
        json={"route": {"type": "LineString", "coordinates": [at(0, 0), at(100, 50)]}},
    )
    assert r.status_code == 200, r.text
    feeds.observe("lighting", at(20, 10))
    doc = feeds.get(f"/api/v1/map/walks/{feeds.walk.id}")
    kinds = [f["properties"]["kind"] for f in doc["features"]]
    assert kinds == (["area"] if feeds.walk.area_id else []) + ["route", "observation"]
    assert doc["walk"]["title"] == "Kveldsvandring"
    # The phone checks a position against the area and route with the server's own limit.
    assert doc["walk"]["max_distance_m"] == 2000.0
    # The participant sees their own walk; another walk's participant does not.
    assert (
        feeds.client.get(f"/api/v1/map/walks/{feeds.walk.id}", headers=feeds.kid_h).status_code
        == 200
    )
    assert (
        feeds.client.get(
            f"/api/v1/map/walks/{feeds.walk.id}", headers=feeds.world.headers("other_participant")
        ).status_code
        == 404
    )


def test_other_organizations_data_never_appears(feeds: Feeds) -> None:
    feeds.observe("lighting", at(0, 0))
    foreign = feeds.world.headers("foreign_admin")
    for url in ("/api/v1/map/observations", "/api/v1/map/action-items", "/api/v1/map/areas"):
        r = feeds.client.get(url, headers=foreign)
        assert json.loads(r.content)["features"] == []
