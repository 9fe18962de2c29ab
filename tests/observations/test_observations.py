"""Field capture: idempotent PUTs and batches, fair validation, placement, listing, moderation."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from shapely.geometry import Polygon
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.core.i18n import translate
from models import Observation, utcnow
from tests.factories import make_area, make_walk
from tests.factories.client import SyncClient
from tests.factories.observations import NOW, obs_body
from tests.factories.world import World


def _rows(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Observation)) or 0)


def test_put_creates_replays_and_conflicts(client: SyncClient, world: World) -> None:
    oid = str(uuid.uuid4())
    h = world.headers("participant")
    first = client.put(f"/api/v1/observations/{oid}", headers=h, json=obs_body(world))
    assert first.status_code == 201, first.text
    data = first.json()
    assert data["id"] == oid
    assert data["moderation"] == "accepted"
    assert data["area_id"] == str(world.objects["area"].id)
    assert data["participant_group"] == "youth"
    assert "participant_id" not in data
    again = client.put(f"/api/v1/observations/{oid}", headers=h, json=obs_body(world))
    assert again.status_code == 200
    assert again.json() == data
    other = client.put(f"/api/v1/observations/{oid}", headers=h, json=obs_body(world, severity=3))
    assert other.status_code == 409
    assert other.headers["content-type"] == "application/problem+json"


def test_same_instant_in_another_offset_is_a_replay(client: SyncClient, world: World) -> None:
    oid = str(uuid.uuid4())
    h = world.headers("participant")
    at = NOW - timedelta(minutes=3)
    assert (
        client.put(
            f"/api/v1/observations/{oid}",
            headers=h,
            json=obs_body(world, recorded_at=at.isoformat()),
        ).status_code
        == 201
    )
    shifted = at.astimezone(__import__("datetime").timezone(timedelta(hours=1))).isoformat()
    assert (
        client.put(
            f"/api/v1/observations/{oid}", headers=h, json=obs_body(world, recorded_at=shifted)
        ).status_code
        == 200
    )


def test_batch_replayed_three_times_makes_no_duplicates(
    client: SyncClient, world: World, session: Session
) -> None:
    items = [obs_body(world, id=str(uuid.uuid4()), note=f"n{i}") for i in range(25)]
    before = _rows(session)
    outcomes = []
    for _ in range(3):
        r = client.post(
            "/api/v1/observations/batch",
            headers=world.headers("participant"),
            json={"observations": items},
        )
        assert r.status_code == 200, r.text
        outcomes.append((r.json()["created"], r.json()["duplicate"]))
    assert outcomes == [(25, 0), (0, 25), (0, 25)]
    assert _rows(session) == before + 25


def test_one_bad_item_never_sinks_the_batch(
    client: SyncClient, world: World, session: Session
) -> None:
    good = obs_body(world, id=str(uuid.uuid4()))
    bad_lat = obs_body(
        world, id=str(uuid.uuid4()), location={"type": "Point", "coordinates": [5.7, 91]}
    )
    no_id = obs_body(world)
    unknown_cat = obs_body(world, id=str(uuid.uuid4()), category="ufo")
    clash_id = str(uuid.uuid4())
    first = obs_body(world, id=clash_id)
    clash = obs_body(world, id=clash_id, severity=3)
    r = client.post(
        "/api/v1/observations/batch",
        headers=world.headers("participant"),
        json={"observations": [good, bad_lat, no_id, "junk", unknown_cat, first, clash]},
    )
    assert r.status_code == 200, r.text
    res = r.json()["results"]
    assert [x["status"] for x in res] == [
        "created",
        "invalid",
        "invalid",
        "invalid",
        "invalid",
        "created",
        "conflict",
    ]
    assert res[1]["errors"][0]["loc"][:3] == ["body", "observations", 1]
    assert "location" in res[1]["errors"][0]["loc"]
    assert res[4]["errors"][0]["loc"] == ["body", "observations", 4, "category"]
    assert session.get(Observation, uuid.UUID(res[1]["id"])) is None


def test_batch_over_500_is_refused(client: SyncClient, world: World) -> None:
    items = [obs_body(world, id=str(uuid.uuid4())) for _ in range(501)]
    r = client.post(
        "/api/v1/observations/batch",
        headers=world.headers("participant"),
        json={"observations": items},
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["loc"] == ["body", "observations"]


BAD = [
    pytest.param(
        {"location": {"type": "Point", "coordinates": [181, 58.85]}},
        "location",
        id="lon-out-of-range",
    ),
    pytest.param(
        {"location": {"type": "Point", "coordinates": [5.73, -90.5]}},
        "location",
        id="lat-out-of-range",
    ),
    pytest.param(
        {"location": {"type": "LineString", "coordinates": [[5.73, 58.85], [5.74, 58.86]]}},
        "location",
        id="not-a-point",
    ),
    pytest.param(
        {"location": {"type": "Point", "coordinates": [5.73]}}, "location", id="short-position"
    ),
    pytest.param({"accuracy_m": -1}, "accuracy_m", id="negative-accuracy"),
    pytest.param({"severity": 0}, "severity", id="severity-too-low"),
    pytest.param({"severity": 4}, "severity", id="severity-too-high"),
    pytest.param({"perceived_safety": 4}, "perceived_safety", id="perceived-safety-too-high"),
    pytest.param({"perceived_safety": -1}, "perceived_safety", id="perceived-safety-negative"),
    pytest.param({"category": "ufo"}, "category", id="unknown-category"),
    pytest.param({"note": "x" * 2001}, "note", id="note-too-long"),
    pytest.param(
        {"recorded_at": (NOW + timedelta(hours=1)).isoformat()}, "recorded_at", id="in-the-future"
    ),
    pytest.param(
        {"recorded_at": (NOW - timedelta(days=30)).isoformat()},
        "recorded_at",
        id="long-before-walk",
    ),
    pytest.param({"recorded_at": "2026-11-03T19:42:10"}, "recorded_at", id="naive-time"),
    pytest.param({"recorded_at": "yesterday"}, "recorded_at", id="not-a-time"),
    pytest.param({"walk_id": str(uuid.uuid4())}, "walk_id", id="unknown-walk"),
    pytest.param(
        {"organization_id": str(uuid.uuid4())}, "organization_id", id="smuggled-organization"
    ),
    pytest.param({"moderation": "accepted"}, "moderation", id="smuggled-moderation"),
    pytest.param({"id": str(uuid.uuid4())}, "id", id="id-mismatch"),
]


@pytest.mark.parametrize(("change", "field"), BAD)
def test_bad_input_is_422_naming_the_field_and_writes_nothing(
    client: SyncClient, world: World, session: Session, change: dict[str, Any], field: str
) -> None:
    before = _rows(session)
    r = client.put(
        f"/api/v1/observations/{uuid.uuid4()}",
        headers=world.headers("participant"),
        json=obs_body(world, **change),
    )
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert field in r.json()["errors"][0]["loc"]
    assert _rows(session) == before


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        pytest.param(
            b'{"walk_id": "W", "category": "lighting", "location": {"type": "Point", "coordinates": [NaN, 58.8]}, "recorded_at": "2026-11-03T19:42:10+01:00"}',
            422,
            id="nan",
        ),
        pytest.param(
            b'{"walk_id": "W", "category": "lighting", "location": {"type": "Point", "coordinates": [Infinity, 58.8]}, "recorded_at": "2026-11-03T19:42:10+01:00"}',
            422,
            id="infinity",
        ),
        # Not JSON at all: 400 (Malformed JSON); JSON that is not valid input (or text that is
        # not UTF-8, so no JSON can be read): 422.
        pytest.param(b'{"walk_id": "W", "category": ', 400, id="truncated-json"),
        pytest.param(b"\xff\xfe not utf-8", 422, id="not-utf8"),
    ],
)
def test_nan_and_malformed_json_are_client_errors(
    client: SyncClient, world: World, raw: bytes, status: int
) -> None:
    raw = raw.replace(b'"W"', f'"{world.walk.id}"'.encode())
    r = client.put(
        f"/api/v1/observations/{uuid.uuid4()}",
        headers={**world.headers("participant"), "content-type": "application/json"},
        content=raw,
    )
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"


def test_participant_cannot_write_to_another_walk(client: SyncClient, world: World) -> None:
    r = client.put(
        f"/api/v1/observations/{uuid.uuid4()}",
        headers=world.headers("participant"),
        json=obs_body(world, walk_id=str(world.other_walk.id)),
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["loc"] == ["body", "walk_id"]


def test_foreign_organization_cannot_probe_an_existing_id(
    client: SyncClient, world: World, session: Session
) -> None:
    oid = str(uuid.uuid4())
    assert (
        client.put(
            f"/api/v1/observations/{oid}",
            headers=world.headers("participant"),
            json=obs_body(world),
        ).status_code
        == 201
    )
    # With a body of its own (its own walk), another organization cannot take the id, and is
    # told only that there is no such observation.
    theirs = make_walk(session, world.other_org, title="Their walk")
    session.commit()
    r = client.put(
        f"/api/v1/observations/{oid}",
        headers=world.headers("foreign_admin"),
        json=obs_body(world, walk_id=str(theirs.id)),
    )
    assert r.status_code == 404, r.text
    assert r.json()["detail"] == translate("error.no_such_observation", "nb")  # their org's
    assert (
        client.get(
            f"/api/v1/observations/{oid}", headers=world.headers("foreign_admin")
        ).status_code
        == 404
    )


@pytest.mark.parametrize(
    ("lon", "lat", "recorded_at", "dark"),
    [
        pytest.param(10.7522, 59.9139, "2025-12-15T18:00:00+01:00", True, id="oslo-winter-evening"),
        pytest.param(10.7522, 59.9139, "2025-06-21T13:00:00+02:00", False, id="oslo-summer-noon"),
    ],
)
def test_is_dark_from_the_sun(
    client: SyncClient,
    world: World,
    session: Session,
    lon: float,
    lat: float,
    recorded_at: str,
    dark: bool,
) -> None:
    walk = make_walk(session, world.org, starts_at=utcnow() - timedelta(days=700))
    session.commit()
    body = obs_body(
        world,
        walk_id=str(walk.id),
        location={"type": "Point", "coordinates": [lon, lat]},
        recorded_at=recorded_at,
    )
    r = client.put(
        f"/api/v1/observations/{uuid.uuid4()}", headers=world.headers("coordinator"), json=body
    )
    assert r.status_code == 201, r.text
    assert r.json()["is_dark"] is dark


def test_area_assignment_on_a_shared_border(
    client: SyncClient, world: World, session: Session
) -> None:
    # West (small) and East (large) share the meridian 5.80 between 58.80 and 58.81.
    west = make_area(
        session,
        world.org,
        "West",
        Polygon([(5.79, 58.80), (5.80, 58.80), (5.80, 58.81), (5.79, 58.81)]),
    )
    east = make_area(
        session,
        world.org,
        "East",
        Polygon([(5.80, 58.80), (5.83, 58.80), (5.83, 58.81), (5.80, 58.81)]),
    )
    # A walk with neither area nor route: no distance check, so any point tests placement.
    walk = make_walk(session, world.org)
    session.commit()
    h = world.headers("coordinator")

    def area_of(lon: float, lat: float) -> str | None:
        r = client.put(
            f"/api/v1/observations/{uuid.uuid4()}",
            headers=h,
            json=obs_body(
                world,
                walk_id=str(walk.id),
                location={"type": "Point", "coordinates": [lon, lat]},
            ),
        )
        assert r.status_code == 201, r.text
        return r.json()["area_id"]

    assert area_of(5.795, 58.805) == str(west.id)
    assert area_of(5.815, 58.805) == str(east.id)
    # On the border: both cover it; the smaller, more specific area wins, every time.
    assert {area_of(5.80, 58.805) for _ in range(3)} == {str(west.id)}
    assert area_of(6.5, 59.5) is None


def test_listing_filters_and_pages(client: SyncClient, world: World) -> None:
    h = world.headers("coordinator")
    spots = [
        (5.7352, 58.8517, "lighting"),
        (5.7360, 58.8520, "graffiti"),
        (5.7500, 58.8600, "lighting"),
    ]
    for lon, lat, cat in spots:
        client.put(
            f"/api/v1/observations/{uuid.uuid4()}",
            headers=h,
            json=obs_body(
                world, category=cat, location={"type": "Point", "coordinates": [lon, lat]}
            ),
        )
    lighting = client.get("/api/v1/observations?category=lighting", headers=h).json()["items"]
    assert len(lighting) == 2
    boxed = client.get("/api/v1/observations?bbox=5.73,58.85,5.74,58.855", headers=h).json()[
        "items"
    ]
    assert sorted(o["category"] for o in boxed) == ["graffiti", "lighting"]
    later = client.get(
        "/api/v1/observations",
        headers=h,
        params={"since": (NOW + timedelta(minutes=1)).isoformat()},
    ).json()["items"]
    assert later == []
    seen, url = [], "/api/v1/observations?limit=2"
    while url:
        page = client.get(url, headers=h).json()
        seen += [o["id"] for o in page["items"]]
        url = page["next"]
    assert len(seen) == len(set(seen)) == 3


@pytest.mark.parametrize(
    "bbox",
    [
        pytest.param("1,2,3", id="three-numbers"),
        pytest.param("a,b,c,d", id="not-numbers"),
        pytest.param("10,60,5,58", id="min-above-max"),
        pytest.param("5,58,6,nan", id="nan"),
    ],
)
def test_bad_bbox_is_422(client: SyncClient, world: World, bbox: str) -> None:
    r = client.get(f"/api/v1/observations?bbox={bbox}", headers=world.headers("planner"))
    assert r.status_code == 422
    assert r.json()["errors"][0]["loc"] == ["query", "bbox"]


def test_participants_see_their_walk_only_and_not_hidden(client: SyncClient, world: World) -> None:
    mine = str(uuid.uuid4())
    client.put(
        f"/api/v1/observations/{mine}", headers=world.headers("participant"), json=obs_body(world)
    )
    theirs = str(uuid.uuid4())
    client.put(
        f"/api/v1/observations/{theirs}",
        headers=world.headers("other_participant"),
        json=obs_body(world, walk_id=str(world.other_walk.id)),
    )
    ids = [
        o["id"]
        for o in client.get("/api/v1/observations", headers=world.headers("participant")).json()[
            "items"
        ]
    ]
    assert ids == [mine]
    assert (
        client.get(
            f"/api/v1/observations/{theirs}", headers=world.headers("participant")
        ).status_code
        == 404
    )
    client.patch(
        f"/api/v1/observations/{mine}",
        headers=world.headers("coordinator"),
        json={"moderation": "hidden"},
    )
    assert (
        client.get("/api/v1/observations", headers=world.headers("participant")).json()["items"]
        == []
    )
    assert (
        client.get(f"/api/v1/observations/{mine}", headers=world.headers("coordinator")).json()[
            "moderation"
        ]
        == "hidden"
    )


def test_moderation_rules(client: SyncClient, world: World) -> None:
    h = world.headers("coordinator")
    a, b = str(uuid.uuid4()), str(uuid.uuid4())
    for oid in (a, b):
        client.put(f"/api/v1/observations/{oid}", headers=h, json=obs_body(world))
    r = client.patch(f"/api/v1/observations/{b}", headers=h, json={"moderation": "duplicate"})
    assert r.status_code == 422
    assert r.json()["errors"][0]["loc"] == ["body", "duplicate_of"]
    assert (
        client.patch(
            f"/api/v1/observations/{b}",
            headers=h,
            json={"moderation": "duplicate", "duplicate_of": b},
        ).status_code
        == 422
    )
    ok = client.patch(
        f"/api/v1/observations/{b}", headers=h, json={"moderation": "duplicate", "duplicate_of": a}
    )
    assert ok.status_code == 200
    assert ok.json()["duplicate_of_id"] == a
    assert (
        client.patch(
            f"/api/v1/observations/{b}", headers=h, json={"moderation": "approved"}
        ).status_code
        == 422
    )


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("/api/v1/observations", id="list"),
        pytest.param("/api/v1/map/observations", id="map"),
    ],
)
def test_naive_since_is_a_422_not_a_500(client: SyncClient, world: World, url: str) -> None:
    r = client.get(url, headers=world.headers("planner"), params={"since": "2026-01-01T00:00:00"})
    assert r.status_code == 422
    assert r.json()["errors"][0]["loc"] == ["query", "since"]
