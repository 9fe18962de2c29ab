"""A walk group at one dark corner, against a real uvicorn: nothing is lost, nothing doubled.

The ASGI transport runs one request at a time and hides races; these tests start
``safewalk serve`` on a loopback port (``tests/factories/live_server.py``) and send real concurrent requests.
The result is compared with a serial run of the same observations on a fresh database.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.app import create_app
from api.core.db import create_db_engine
from api.core.tenancy import APP_ROLE
from api.settings import Settings
from models import FollowUpMember, Observation
from tests.factories import follow_up
from tests.factories.client import SyncClient
from tests.factories.databases import DatabaseFactory
from tests.factories.live_server import SECRET, LiveServer
from tests.factories.walk_group import CATEGORIES, SPOT, group_bodies, group_items, seed_group


async def _puts(
    base: str, tokens: list[str], bodies: list[dict[str, Any]], parallel: int
) -> list[httpx.Response]:
    sem = asyncio.Semaphore(parallel)
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:

        async def one(i: int, body: dict[str, Any]) -> httpx.Response:
            async with sem:
                headers = {"Authorization": f"Bearer {tokens[i % len(tokens)]}"}
                return await client.put(
                    f"/api/v1/observations/{body['id']}", json=body, headers=headers
                )

        return await asyncio.gather(*(one(i, b) for i, b in enumerate(bodies)))


async def _batches(
    base: str, tokens: list[str], batches: list[list[dict[str, Any]]]
) -> list[httpx.Response]:
    async with httpx.AsyncClient(base_url=base, timeout=120) as client:
        return await asyncio.gather(
            *(
                client.post(
                    "/api/v1/observations/batch",
                    json={"observations": b},
                    headers={"Authorization": f"Bearer {tokens[i % len(tokens)]}"},
                )
                for i, b in enumerate(batches)
            )
        )


def _serial(databases: DatabaseFactory, tmp: Path, bodies: list[dict[str, Any]]) -> Any:
    """The items a serial run of ``bodies`` makes on a fresh database: the reference the
    concurrent runs are held to. One request that takes its items one after another needs no
    real server; the app answers it in this process, on PostgreSQL as the app role, as the
    live server does."""
    url = databases.migrated_url()
    seeded = seed_group(url)
    for b in bodies:
        b["walk_id"] = seeded["walk"]
    settings = Settings(environment="test", data_dir=tmp / "serial", secret_key=SECRET)
    served = create_db_engine(url, role=APP_ROLE if url.startswith("postgresql") else None)
    try:
        headers = {"Authorization": f"Bearer {seeded['participants'][0]}"}
        with SyncClient(create_app(settings, engine=served)) as client:
            response = client.post(
                "/api/v1/observations/batch", json={"observations": bodies}, headers=headers
            )
    finally:
        served.dispose()
    assert response.json()["created"] == len(bodies), response.text
    return group_items(url, seeded["org"])


@pytest.fixture(scope="module")
def crowd_server(
    databases: DatabaseFactory, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[LiveServer, str]]:
    """One server per module and backend: every test brings a group of its own (an
    organization with its walk, area and tokens), and reads back that organization's rows."""
    url = databases.migrated_url()
    with LiveServer(url, tmp_path_factory.mktemp("crowd")) as server:
        yield server, url


@pytest.fixture
def crowd(crowd_server: tuple[LiveServer, str]) -> Any:
    server, url = crowd_server
    return server, url, seed_group(url, f"Kommune {uuid.uuid4().hex[:8]}")


@pytest.fixture
def lone_crowd(databases: DatabaseFactory, tmp_path: Path) -> Iterator[Any]:
    """A server and database of the test's own, for the test that takes no 503 "busy" for an
    answer: on the shared server, after the tests before it, SQLite answered some of its
    writes with "busy" at load average 15 (two runs out of two); on a server of its own it
    had not."""
    url = databases.migrated_url()
    seeded = seed_group(url)
    with LiveServer(url, tmp_path / "live") as server:
        yield server, url, seeded


def test_200_concurrent_puts_at_one_spot_lose_nothing(
    crowd: Any, databases: DatabaseFactory, tmp_path: Path
) -> None:
    server, url, seeded = crowd
    bodies = group_bodies(seeded["walk"], 200, seed=9)
    responses = asyncio.run(_puts(server.base, seeded["participants"], bodies, 12))
    statuses = Counter(r.status_code for r in responses)
    assert statuses == {201: 200}, [r.text for r in responses if r.status_code != 201][:3]
    n, items, wrong = group_items(url, seeded["org"])
    assert n == 200
    assert wrong == []
    assert items == _serial(databases, tmp_path, [dict(b) for b in bodies])[1]


def test_20_concurrent_batches_at_one_spot_lose_nothing(
    crowd: Any, databases: DatabaseFactory, tmp_path: Path
) -> None:
    server, url, seeded = crowd
    bodies = group_bodies(seeded["walk"], 200, seed=10)
    batches = [bodies[i : i + 10] for i in range(0, 200, 10)]
    responses = asyncio.run(_batches(server.base, seeded["participants"], batches))
    assert [r.status_code for r in responses] == [200] * 20, [
        r.text for r in responses if r.status_code != 200
    ][:3]
    results = Counter(x["status"] for r in responses for x in r.json()["results"])
    assert results == {"created": 200}
    n, items, wrong = group_items(url, seeded["org"])
    assert n == 200
    assert wrong == []
    assert items == _serial(databases, tmp_path, [dict(b) for b in bodies])[1]


def test_regroup_while_the_group_keeps_capturing_keeps_counters_true(crowd: Any) -> None:
    """Regroup takes the same group locks as capture: items never end up counting members
    they do not have, whatever interleaving the two get."""
    server, url, seeded = crowd
    bodies = group_bodies(seeded["walk"], 80, seed=11)
    coordinator = {"Authorization": f"Bearer {seeded['coordinator']}"}

    async def run() -> tuple[list[httpx.Response], list[httpx.Response]]:
        async with httpx.AsyncClient(base_url=server.base, timeout=120) as client:
            regroups = [
                client.post(f"/api/v1/areas/{seeded['area']}/regroup", headers=coordinator)
                for _ in range(3)
            ]
            puts = _puts(server.base, seeded["participants"], bodies, 8)
            results = await asyncio.gather(puts, *regroups)
            return results[0], list(results[1:])

    puts, regroups = asyncio.run(run())
    assert Counter(r.status_code for r in puts) == {201: 80}
    assert [r.status_code for r in regroups] == [200] * 3, [r.text for r in regroups]
    n, items, wrong = group_items(url, seeded["org"])
    assert n == 80
    assert wrong == []
    assert sum(len(m) for _c, m in items) == 80


def test_hotspot_rollup_stays_exact_under_concurrent_capture_and_moderation(
    lone_crowd: Any,
) -> None:
    """PUTs, batches, coordinators moderating the same observations back and forth and
    authors changing categories, all at once: afterwards the hotspot rollups equal a fresh
    GROUP BY over the observations."""
    from api.hotspots import rollup as hotspot_rollup

    server, url, seeded = lone_crowd
    rnd = random.Random(15)
    bodies = group_bodies(seeded["walk"], 120, seed=15)
    for b in bodies:  # spread over a few hundred metres and the perception-only categories too
        b["location"]["coordinates"] = [
            round(SPOT[0] + rnd.uniform(-4e-3, 4e-3), 7),
            round(SPOT[1] + rnd.uniform(-2e-3, 2e-3), 7),
        ]
        b["category"] = rnd.choice([*CATEGORIES, "isolation", "feels_unsafe"])
    first, later = bodies[:40], bodies[40:]
    tokens = seeded["participants"]
    assert Counter(r.status_code for r in asyncio.run(_puts(server.base, tokens, first, 8))) == {
        201: 40
    }
    coordinator = {"Authorization": f"Bearer {seeded['coordinator']}"}

    async def run() -> list[httpx.Response]:
        sem = asyncio.Semaphore(6)  # as many writers at once as the PUTs, not a hundred

        async def limited(call: Any) -> httpx.Response:
            async with sem:
                response: httpx.Response = await call
                return response

        async with httpx.AsyncClient(base_url=server.base, timeout=120) as client:
            jobs: list[Any] = [_puts(server.base, tokens, later[:40], 6)]
            jobs.append(
                _batches(
                    server.base, tokens, [later[40 + i : 40 + i + 10] for i in range(0, 40, 10)]
                )
            )
            for _round in range(3):
                for b in first[:20]:
                    state = rnd.choice(["hidden", "accepted", "not_actionable", "accepted"])
                    jobs.append(
                        limited(
                            client.patch(
                                f"/api/v1/observations/{b['id']}",
                                json={"moderation": state},
                                headers=coordinator,
                            )
                        )
                    )
            for i, b in enumerate(first[20:40]):
                author = {"Authorization": f"Bearer {tokens[(i + 20) % len(tokens)]}"}
                jobs.append(
                    limited(
                        client.patch(
                            f"/api/v1/observations/{b['id']}",
                            json={
                                "category": rnd.choice(CATEGORIES),
                                "severity": rnd.randint(1, 3),
                            },
                            headers=author,
                        )
                    )
                )
            done = await asyncio.gather(*jobs)
            out: list[httpx.Response] = []
            for d in done:
                out.extend(d if isinstance(d, list) else [d])
            return out

    responses = asyncio.run(run())
    bad = [r.text for r in responses if r.status_code >= 500]
    assert bad == []
    engine = create_db_engine(url)
    try:
        with Session(engine) as s:
            org_id = uuid.UUID(seeded["org"])
            assert not any(hotspot_rollup.drift(s, org_id).values())
            counted = s.scalar(
                select(func.count())
                .select_from(Observation)
                .where(Observation.organization_id == org_id, Observation.moderation == "accepted")
            )
            assert counted
            assert counted >= 60
    finally:
        engine.dispose()


def test_open_item_cells_stay_exact_under_concurrent_capture_and_workflow(crowd: Any) -> None:
    """Captures, authors withdrawing, coordinators moving items through the workflow and
    merging them, and a regroup of the area, all at once: afterwards every hotspot rollup,
    the per-cell rows and the open items per cell included, equals a fresh GROUP BY, and so
    does the follow-up rollup."""
    from api.hotspots import rollup as hotspot_rollup
    from models import HotspotItemCell

    server, url, seeded = crowd
    rnd = random.Random(24)
    bodies = group_bodies(seeded["walk"], 100, seed=24)
    for b in bodies:
        b["location"]["coordinates"] = [
            round(SPOT[0] + rnd.uniform(-3e-3, 3e-3), 7),
            round(SPOT[1] + rnd.uniform(-1.5e-3, 1.5e-3), 7),
        ]
    first, later = bodies[:50], bodies[50:]
    tokens = seeded["participants"]
    puts = asyncio.run(_puts(server.base, tokens, first, 8))
    assert Counter(r.status_code for r in puts) == {201: 50}
    items = sorted({r.json()["action_item_id"] for r in puts if r.json()["action_item_id"]})
    assert len(items) >= 6
    coordinator = {"Authorization": f"Bearer {seeded['coordinator']}"}

    async def run() -> list[httpx.Response]:
        sem = asyncio.Semaphore(6)
        async with httpx.AsyncClient(base_url=server.base, timeout=120) as client:
            # A 503 "busy" wrote nothing and says when to come back: a client tries again, as
            # the phones and the staff web do. Anything else is the answer.
            async def patient(send: Any) -> httpx.Response:
                for _ in range(20):
                    async with sem:
                        r: httpx.Response = await send()
                    if r.status_code != 503:
                        return r
                    await asyncio.sleep(float(r.headers.get("Retry-After", "1")))
                return r

            async def move(item: str, status: str) -> httpx.Response:
                async def send() -> httpx.Response:
                    got = await client.get(f"/api/v1/action-items/{item}", headers=coordinator)
                    headers = {**coordinator, "If-Match": got.headers.get("ETag", '"none"')}
                    return await client.patch(
                        f"/api/v1/action-items/{item}", json={"status": status}, headers=headers
                    )

                return await patient(send)

            async def call(method: str, path: str, **kw: Any) -> httpx.Response:
                return await patient(lambda: client.request(method, path, **kw))

            jobs: list[Any] = [_puts(server.base, tokens, later, 6)]
            for item in items[:6]:
                for status in rnd.sample(["triaged", "resolved", "reopened", "in_progress"], 3):
                    jobs.append(move(item, status))
            for a, b in zip(items[6::2], items[7::2], strict=False):
                jobs.append(
                    call("POST", f"/api/v1/action-items/{a}/merge", json={"other_id": b},
                         headers=coordinator)
                )  # fmt: skip
            for i, b in enumerate(first[:12]):
                author = {"Authorization": f"Bearer {tokens[i % len(tokens)]}"}
                jobs.append(call("DELETE", f"/api/v1/observations/{b['id']}", headers=author))
            jobs.append(
                call("POST", f"/api/v1/areas/{seeded['area']}/regroup", headers=coordinator)
            )
            done = await asyncio.gather(*jobs)
            out: list[httpx.Response] = []
            for d in done:
                out.extend(d if isinstance(d, list) else [d])
            return out

    responses = asyncio.run(run())
    assert [r.text for r in responses if r.status_code >= 500] == []
    engine = create_db_engine(url)
    try:
        with Session(engine) as s:
            org_id = uuid.UUID(seeded["org"])
            drift = hotspot_rollup.drift(s, org_id)
            assert {k: v for k, v in drift.items() if v} == {}
            assert s.scalar(
                select(func.count())
                .select_from(HotspotItemCell)
                .where(HotspotItemCell.organization_id == org_id)
            )
            assert follow_up.drift(s, org_id) == {}
            assert s.scalar(
                select(func.count())
                .select_from(FollowUpMember)
                .where(FollowUpMember.organization_id == org_id)
            )
    finally:
        engine.dispose()
