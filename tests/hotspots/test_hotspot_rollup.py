"""Exact H3 bins and the hotspot rollups: cells equal `h3.latlng_to_cell` near cell edges, the
rollups equal a fresh GROUP BY after every kind of change, time filters stay exact at the
edges of whole days, sensitive categories move to their generalised cell for non-coordinators,
and the backfill is idempotent. Both databases."""

from __future__ import annotations

import math
import random
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import h3
import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, sessionmaker
from sqlmodel import col

from api.hotspots import rollup as hotspot_rollup
from api.hotspots import service
from geo.hotspots import STORED_RESOLUTIONS
from geo.sensitive import generalised_cell
from models import Category, HotspotDay, HotspotMember, HotspotTotal, Observation, utcnow
from tests.factories import make_walk
from tests.factories.client import SyncClient
from tests.factories.hotspots import Store, hotspots
from tests.factories.world import World

LAT0, LON0 = 58.8700, 5.7000


@pytest.fixture
def store(session: Session, world: World) -> Store:
    return Store(session, world.org)


def near_vertices(rng: random.Random, n: int) -> list[tuple[float, float]]:
    """Points within ~1 cm of the vertices of random cells at every stored resolution, where
    the parent of a finer cell and the cell holding the point most often disagree."""
    out = []
    for _ in range(n):
        res = rng.choice(list(STORED_RESOLUTIONS))
        lat = LAT0 + rng.uniform(-0.05, 0.05)
        lon = LON0 + rng.uniform(-0.1, 0.1)
        vlat, vlon = rng.choice(h3.cell_to_boundary(h3.latlng_to_cell(lat, lon, res)))
        eps = 1e-7 * rng.random()
        a = rng.uniform(0, 2 * math.pi)
        out.append((vlat + eps * math.sin(a), vlon + eps * math.cos(a)))
    return out


def test_bins_equal_latlng_to_cell_near_cell_edges(
    client: SyncClient, world: World, store: Store, session: Session
) -> None:
    points = near_vertices(random.Random(20261122), 400)
    rows = store.add(points)
    for obs, (lat, lon) in zip(rows, points, strict=True):
        session.refresh(obs)
        for r in STORED_RESOLUTIONS:
            assert h3.int_to_str(getattr(obs, f"h3_r{r}")) == h3.latlng_to_cell(lat, lon, r)
    disagree = sum(
        h3.cell_to_parent(h3.latlng_to_cell(lat, lon, 15), 9) != h3.latlng_to_cell(lat, lon, 9)
        for lat, lon in points
    )
    assert disagree > 0  # the points do test what the bit mask got wrong
    for r in STORED_RESOLUTIONS:
        expected = Counter(h3.latlng_to_cell(lat, lon, r) for lat, lon in points)
        doc = hotspots(client, world, resolution=r)
        assert {f["id"]: f["properties"]["count"] for f in doc["features"]} == expected, r


def test_captured_observations_store_exact_cells(
    client: SyncClient, world: World, session: Session
) -> None:
    walk = make_walk(session, world.org, starts_at=utcnow() - timedelta(hours=2))
    session.commit()
    for lat, lon in near_vertices(random.Random(5), 20):
        lat, lon = 58.852 + (lat - LAT0) / 20, 5.735 + (lon - LON0) / 20  # inside Sentrum
        obs_id = uuid.uuid4()
        r = client.put(
            f"/api/v1/observations/{obs_id}",
            headers=world.headers("coordinator"),
            json=_body(walk.id, lat, lon),
        )
        assert r.status_code == 201, r.text
        obs = session.get(Observation, obs_id)
        assert obs is not None
        loc = session.execute(
            select(Observation.location.ST_X(), Observation.location.ST_Y()).where(
                col(Observation.id) == obs_id
            )
        ).one()
        for res in STORED_RESOLUTIONS:
            got = h3.int_to_str(getattr(obs, f"h3_r{res}"))
            assert got == h3.latlng_to_cell(loc[1], loc[0], res)
    assert _drift(session, world) == {}


def _body(walk_id: uuid.UUID, lat: float, lon: float, **kw: Any) -> dict[str, Any]:
    return {
        "walk_id": str(walk_id),
        "category": kw.pop("category", "lighting"),
        "location": {"type": "Point", "coordinates": [lon, lat]},
        "severity": kw.pop("severity", 2),
        "recorded_at": kw.pop("recorded_at", (utcnow() - timedelta(minutes=30)).isoformat()),
        **kw,
    }


def _drift(session: Session, world: World) -> dict[str, Any]:
    session.expire_all()
    return {k: v for k, v in hotspot_rollup.drift(session, world.org.id).items() if v}


def test_rollup_follows_every_change(client: SyncClient, world: World, session: Session) -> None:
    """Capture, batch, moderation both ways, duplicate, author edits, withdrawal and the
    deletion of an area: after each, the rollups equal a fresh GROUP BY."""
    walk = make_walk(session, world.org, starts_at=utcnow() - timedelta(hours=2))
    session.commit()
    coord = world.headers("coordinator")
    rng = random.Random(9)
    ids = []
    for i in range(6):
        lat, lon = 58.849 + rng.random() * 0.006, 5.729 + rng.random() * 0.012
        obs_id = uuid.uuid4()
        body = _body(
            walk.id, lat, lon, category=["lighting", "graffiti"][i % 2], severity=i % 3 + 1
        )
        assert (
            client.put(f"/api/v1/observations/{obs_id}", headers=coord, json=body).status_code
            == 201
        )
        ids.append(obs_id)
    batch = [
        {"id": str(uuid.uuid4()), **_body(walk.id, 58.851, 5.731, category="isolation")}
        for _ in range(3)
    ]
    r = client.post("/api/v1/observations/batch", headers=coord, json={"observations": batch})
    assert r.status_code == 200, r.text
    assert _drift(session, world) == {}
    assert sum(_counts(client, world).values()) == 9

    def patch(obs_id: uuid.UUID, body: dict[str, Any]) -> None:
        r = client.patch(f"/api/v1/observations/{obs_id}", headers=coord, json=body)
        assert r.status_code == 200, r.text
        assert _drift(session, world) == {}

    patch(ids[0], {"moderation": "hidden"})
    patch(ids[0], {"moderation": "hidden"})  # no change, nothing counted twice
    assert sum(_counts(client, world).values()) == 8
    patch(ids[0], {"moderation": "accepted"})
    patch(ids[1], {"moderation": "duplicate", "duplicate_of": str(ids[2])})
    patch(ids[1], {"moderation": "not_actionable"})
    # The coordinator is the author of these: category, severity.
    patch(ids[3], {"category": "vegetation", "severity": 3})
    assert client.delete(f"/api/v1/observations/{ids[4]}", headers=coord).status_code == 204
    assert _drift(session, world) == {}
    assert sum(_counts(client, world).values()) == 7

    area = world.objects["area"]
    assert (
        client.delete(f"/api/v1/areas/{area.id}", headers=world.headers("admin")).status_code == 204
    )
    assert _drift(session, world) == {}
    left = session.scalar(
        select(HotspotMember.area_id).where(col(HotspotMember.observation_id) == ids[0])
    )
    assert left == uuid.UUID(int=0)


def _counts(client: SyncClient, world: World, **params: Any) -> dict[str, int]:
    doc = hotspots(client, world, **params)
    return {f["id"]: f["properties"]["count"] for f in doc["features"]}


def test_time_filters_are_exact_at_the_edges_of_days(
    client: SyncClient, world: World, store: Store, session: Session
) -> None:
    """Whole days come from hotspot_day, the partial days from the observations: the result
    equals counting the observations themselves, for every kind of since/until."""
    rng = random.Random(77)
    base = datetime(2026, 11, 10, tzinfo=UTC)
    points = [
        (LAT0 + rng.uniform(-0.01, 0.01), LON0 + rng.uniform(-0.02, 0.02)) for _ in range(150)
    ]
    times = [base + timedelta(seconds=rng.randrange(6 * 86_400)) for _ in points]
    times[:4] = [
        base,
        base + timedelta(days=1),
        base + timedelta(days=2, microseconds=1),
        base + timedelta(days=3) - timedelta(microseconds=1),
    ]
    rows = [
        store.observation(lat, lon, recorded_at=t, severity=rng.randint(1, 3))
        for (lat, lon), t in zip(points, times, strict=True)
    ]
    store.save(rows)
    cases: list[tuple[datetime | None, datetime | None]] = [
        (base, base + timedelta(days=3)),  # whole days only
        (base + timedelta(hours=5), base + timedelta(days=4, hours=7)),  # both edges partial
        (base + timedelta(days=1, hours=3), base + timedelta(days=1, hours=20)),  # inside a day
        (base + timedelta(days=2, microseconds=1), None),
        (None, base + timedelta(days=3) - timedelta(microseconds=1)),
        (None, base + timedelta(days=2)),
    ]
    for _ in range(6):
        a, b = sorted(rng.randrange(7 * 86_400) for _ in range(2))
        cases.append((base + timedelta(seconds=a), base + timedelta(seconds=b + 1)))
    for since, until in cases:
        want: Counter[str] = Counter()
        score: Counter[str] = Counter()
        for (lat, lon), t, obs in zip(points, times, rows, strict=True):
            if (since is None or t >= since) and (until is None or t < until):
                cell = h3.latlng_to_cell(lat, lon, 9)
                want[cell] += 1
                score[cell] += obs.severity
        q = service.HotspotQuery(resolution=9, since=since, until=until, exact_places=True)
        got = service.cell_stats(session, world.org.id, q)
        assert {h3.int_to_str(s.cell): s.count for s in got} == dict(want), (since, until)
        assert {h3.int_to_str(s.cell): s.score for s in got} == dict(score), (since, until)


def test_sensitive_categories_at_their_generalised_cell_except_for_coordinators(
    client: SyncClient, world: World, store: Store, session: Session
) -> None:
    session.execute(
        update(Category)
        .where(col(Category.organization_id) == world.org.id, col(Category.code) == "incident")
        .values(sensitive=True)
    )
    session.commit()
    rng = random.Random(3)
    places = [(LAT0 + rng.uniform(-0.02, 0.02), LON0 + rng.uniform(-0.04, 0.04)) for _ in range(60)]
    store.add(places, category="incident", severity=3)
    others = [(LAT0 + rng.uniform(-0.02, 0.02), LON0 + rng.uniform(-0.04, 0.04)) for _ in range(40)]
    store.add(others, category="lighting", severity=1)
    for res in (7, 8, 9, 11):
        exact = Counter(h3.latlng_to_cell(a, b, res) for a, b in places + others)
        moved = Counter(
            generalised_cell(h3.latlng_to_cell(a, b, 8), res) for a, b in places
        ) + Counter(h3.latlng_to_cell(a, b, res) for a, b in others)
        for who in ("coordinator", "admin"):
            assert _counts(client, world, who=who, resolution=res) == exact, (who, res)
        for who in ("planner", "engineer"):
            assert _counts(client, world, who=who, resolution=res) == moved, (who, res)
    # Only the sensitive category asked for: every cell is a generalised one.
    doc = hotspots(client, world, who="planner", category="incident", resolution=10)
    centres = {generalised_cell(h3.latlng_to_cell(a, b, 8), 10) for a, b in places}
    assert {f["id"] for f in doc["features"]} == centres
    assert all(f["properties"]["top_category"] == "incident" for f in doc["features"])


def test_backfill_fills_cells_and_rollups_once(
    session: Session, world: World, store: Store, session_factory: sessionmaker[Session]
) -> None:
    rng = random.Random(1)
    rows = [
        store.observation(
            LAT0 + rng.uniform(-0.01, 0.01),
            LON0 + rng.uniform(-0.02, 0.02),
            recorded_at=utcnow() - timedelta(days=rng.randrange(5)),
        )
        for _ in range(60)
    ]
    rows += [store.observation(LAT0, LON0, moderation="hidden")]
    # As the rows of an older version: no cells, nothing in the rollups.
    for o in rows:
        for r in STORED_RESOLUTIONS:
            setattr(o, f"h3_r{r}", None)
    session.add_all(rows)
    session.commit()
    for table in (HotspotDay, HotspotTotal, HotspotMember):
        session.execute(delete(table).where(col(table.organization_id) == world.org.id))
    session.commit()
    factory = session_factory
    assert hotspot_rollup.backfill(factory, batch=17) == 60
    assert _drift(session, world) == {}
    assert hotspot_rollup.backfill(factory, batch=17) == 0
    assert _drift(session, world) == {}
    obs = session.get(Observation, rows[0].id)
    assert obs is not None
    assert obs.h3_r9 is not None


def test_geojson_text_is_what_json_dumps_writes() -> None:
    rng = random.Random(4)
    cells = sorted(
        {
            h3.latlng_to_cell(LAT0 + rng.uniform(-0.1, 0.1), LON0 + rng.uniform(-0.2, 0.2), 9)
            for _ in range(200)
        }
    )
    result = service.HotspotMap(
        resolution=9,
        cells=[
            service.HotspotCell(
                h3=c,
                count=i + 1,
                score=2 * i + 1,
                open_items=i % 3,
                dark_share=None if i % 4 == 0 else i / 7,
                top_category=["lighting", "isolation"][i % 2],
                gi_z=None if i % 5 == 0 else (i - 100) / 3.3,
                gi_p=None if i % 5 == 0 else 1 / (i + 1),
                hotspot_class="not_significant",
            )  # fmt: skip
            for i, c in enumerate(cells)
        ],
    )
    import json

    assert (
        service.feature_collection_json(result)
        == json.dumps(service.feature_collection(result)).encode()
    )
