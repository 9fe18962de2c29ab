"""kill -9 during batch ingest: every acknowledged observation is stored exactly once.

A real server takes batches from three senders at once and is killed with SIGKILL while
requests are in flight (no shutdown, no flush). A second server on the same database takes the
client's retries of every batch that was not acknowledged. Some of those were committed before
the kill and only their answer was lost: the retry must say ``duplicate``, never store them
twice.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

from api.core.db import create_db_engine
from models import Observation
from tests.factories.databases import DatabaseFactory
from tests.factories.live_server import LiveServer
from tests.factories.walk_group import group_bodies, group_items, seed_group

BATCHES = 12
PER_BATCH = 10
SENDERS = 3


def _send(client: httpx.Client, token: str, batch: list[dict[str, Any]]) -> httpx.Response:
    return client.post(
        "/api/v1/observations/batch",
        json={"observations": batch},
        headers={"Authorization": f"Bearer {token}"},
    )


def test_kill_9_mid_ingest_loses_and_doubles_nothing(
    databases: DatabaseFactory, tmp_path: Path
) -> None:
    url = databases.migrated_url()
    seeded = seed_group(url)
    token = seeded["participants"][0]
    bodies = group_bodies(seeded["walk"], BATCHES * PER_BATCH, seed=16)
    batches = [bodies[i : i + PER_BATCH] for i in range(0, len(bodies), PER_BATCH)]

    acknowledged: dict[int, dict[str, str]] = {}  # batch -> {id: status}
    broken: list[int] = []  # in flight when the server died
    lock = threading.Lock()
    todo = list(range(BATCHES))
    dead = threading.Event()

    first = LiveServer(url, tmp_path / "first").start()
    try:

        def sender() -> None:
            with httpx.Client(base_url=first.base, timeout=60) as client:
                while not dead.is_set():
                    with lock:
                        if not todo:
                            return
                        n = todo.pop(0)
                    try:
                        r = _send(client, token, batches[n])
                    except httpx.TransportError:
                        with lock:
                            broken.append(n)
                        return
                    assert r.status_code == 200, r.text
                    with lock:
                        acknowledged[n] = {x["id"]: x["status"] for x in r.json()["results"]}

        threads = [threading.Thread(target=sender) for _ in range(SENDERS)]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 120
        while len(acknowledged) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        first.kill()  # SIGKILL while the senders have batches in flight
        dead.set()
        for t in threads:
            t.join(timeout=60)
    finally:
        first.stop()

    assert 3 <= len(acknowledged) < BATCHES
    assert broken, "the kill should have caught batches in flight"
    for results in acknowledged.values():
        assert set(results.values()) == {"created"}
    acked_ids = {i for results in acknowledged.values() for i in results}
    unacknowledged = [n for n in range(BATCHES) if n not in acknowledged]

    # The client retries what was not acknowledged, against a fresh server.
    with (
        LiveServer(url, tmp_path / "second") as second,
        httpx.Client(base_url=second.base, timeout=60) as client,
    ):
        retried: dict[str, str] = {}
        for n in unacknowledged:
            r = _send(client, token, batches[n])
            assert r.status_code == 200, r.text
            retried.update({x["id"]: x["status"] for x in r.json()["results"]})
        assert set(retried.values()) <= {"created", "duplicate"}
        # Replaying everything once more stores nothing new.
        replay = [_send(client, token, b).json()["results"] for b in batches]
        assert {x["status"] for results in replay for x in results} == {"duplicate"}

    all_ids = {b["id"] for b in bodies}
    engine = create_db_engine(url)
    try:
        with engine.connect() as conn:
            stored = [str(i) for i in conn.scalars(select(Observation.id))]
            total = conn.scalar(select(func.count()).select_from(Observation))
    finally:
        engine.dispose()
    assert total == len(stored) == len(set(stored)) == len(all_ids)
    assert set(stored) == all_ids
    assert acked_ids <= set(stored)
    # Items and their counters survived the crash consistent with their members.
    n, _, wrong = group_items(url, seeded["org"])
    assert n == len(all_ids)
    assert wrong == []
