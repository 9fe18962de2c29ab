"""Capture retries what concurrency throws at it, and a batch reports a lost item alone."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.orm.exc import StaleDataError

from api.observations import capture as observations
from models import utcnow
from tests.factories.client import SyncClient
from tests.factories.world import World


def _body(world: World) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "walk_id": str(world.walk.id),
        "category": "lighting",
        "location": {"type": "Point", "coordinates": [5.7352, 58.8517]},
        "recorded_at": (utcnow() - timedelta(minutes=5)).isoformat(),
    }


def _flaky(monkeypatch: pytest.MonkeyPatch, failures: int) -> list[int]:
    real = observations._write_chunk
    calls = [0]

    def store(*args: Any, **kw: Any) -> Any:
        calls[0] += 1
        if calls[0] <= failures:
            raise StaleDataError("an item's version moved under us")
        return real(*args, **kw)

    monkeypatch.setattr(observations, "_write_chunk", store)
    monkeypatch.setattr(observations.time, "sleep", lambda _s: None)
    return calls


def test_a_transient_failure_is_retried_and_the_client_never_sees_it(
    client: SyncClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _flaky(monkeypatch, failures=3)
    body = _body(world)
    r = client.put(
        f"/api/v1/observations/{body['id']}", headers=world.headers("participant"), json=body
    )
    assert r.status_code == 201, r.text
    assert calls[0] == 4


def test_past_the_retries_a_put_is_503_and_stores_nothing(
    client: SyncClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    _flaky(monkeypatch, failures=100)
    body = _body(world)
    h = world.headers("participant")
    r = client.put(f"/api/v1/observations/{body['id']}", headers=h, json=body)
    assert r.status_code == 503, r.text
    assert r.headers["Retry-After"] == "1"
    assert r.headers["content-type"] == "application/problem+json"
    assert client.get(f"/api/v1/observations/{body['id']}", headers=h).status_code == 404


def test_a_batch_reports_the_lost_chunk_alone(
    client: SyncClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A chunk whose writes fail past every retry is ``failed`` item by item; the next chunk
    is stored."""
    calls = _flaky(monkeypatch, failures=observations.CAPTURE_ATTEMPTS)
    bodies = [_body(world) for _ in range(observations.BATCH_CHUNK + 1)]
    h = world.headers("participant")
    r = client.post("/api/v1/observations/batch", headers=h, json={"observations": bodies})
    assert r.status_code == 200, r.text
    out = r.json()
    statuses = [x["status"] for x in out["results"]]
    assert statuses == ["failed"] * observations.BATCH_CHUNK + ["created"]
    assert out["failed"] == observations.BATCH_CHUNK
    assert out["created"] == 1
    assert calls[0] == observations.CAPTURE_ATTEMPTS + 1
    assert client.get(f"/api/v1/observations/{bodies[0]['id']}", headers=h).status_code == 404
    assert client.get(f"/api/v1/observations/{bodies[-1]['id']}", headers=h).status_code == 200


def test_a_long_batch_commits_chunk_by_chunk_and_keeps_its_indexes(
    client: SyncClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A phone's outbox of 45 is three transactions (20, 20, 5 items), each writing its valid
    new items at once: single PUTs at the same spot wait for one chunk's writes, not for the
    whole outbox. Results and error locations still speak of the whole batch."""
    chunks: list[int] = []
    real = observations._write_chunk

    def write(session: Any, ctx: Any, rows: Any) -> None:
        chunks.append(len(rows))
        real(session, ctx, rows)

    monkeypatch.setattr(observations, "_write_chunk", write)
    bodies = [_body(world) for _ in range(45)]
    bodies[30]["severity"] = 9  # invalid: in the second chunk, named by its place in the batch
    bodies[41] = dict(bodies[3])  # the same observation again, in the third chunk
    h = world.headers("participant")
    r = client.post("/api/v1/observations/batch", headers=h, json={"observations": bodies})
    assert r.status_code == 200, r.text
    out = r.json()
    assert chunks == [observations.BATCH_CHUNK, observations.BATCH_CHUNK - 1, 4]
    assert (out["created"], out["duplicate"], out["invalid"]) == (43, 1, 1)
    assert out["results"][30]["errors"][0]["loc"][:3] == ["body", "observations", 30]
    assert out["results"][41] == {"id": bodies[3]["id"], "status": "duplicate"} | {
        k: v for k, v in out["results"][41].items() if k not in ("id", "status")
    }
    for b in bodies[:30] + bodies[31:]:
        assert client.get(f"/api/v1/observations/{b['id']}", headers=h).status_code == 200


def test_the_same_id_twice_in_one_chunk_is_stored_once(client: SyncClient, world: World) -> None:
    """The later copy waits for the earlier one's outcome: a replay, or a conflict."""
    first = _body(world)
    other = dict(first, severity=3)
    h = world.headers("participant")
    r = client.post(
        "/api/v1/observations/batch", headers=h, json={"observations": [first, first, other]}
    )
    assert r.status_code == 200, r.text
    assert [x["status"] for x in r.json()["results"]] == ["created", "duplicate", "conflict"]
