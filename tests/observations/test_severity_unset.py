"""A severity the reporter skipped stays unset: stored as NULL, read back as null, by the single
PUT and the batch the field app sends; items and hotspots still rank such reports."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from api.action_items.grouping import priority_score
from api.hotspots import rollup as hotspot_rollup
from models import Observation, utcnow
from tests.factories.client import SyncClient
from tests.factories.observations import obs_body
from tests.factories.world import World


def _without_severity(world: World, **kw: object) -> dict[str, object]:
    body = obs_body(world, id=str(uuid.uuid4()), **kw)
    del body["severity"]
    return body


def test_a_skipped_severity_is_stored_as_unset(
    client: SyncClient, world: World, session: Session
) -> None:
    h = world.headers("participant")
    body = _without_severity(world)
    r = client.put(f"/api/v1/observations/{body['id']}", headers=h, json=body)
    assert r.status_code == 201, r.text
    assert r.json()["severity"] is None
    stored = session.scalar(
        select(col(Observation.severity)).where(col(Observation.id) == uuid.UUID(str(body["id"])))
    )
    assert stored is None

    # The batch (what the phone's queue sends) keeps it unset too, beside one that says 3.
    skipped = _without_severity(world, note="skipped")
    said = obs_body(world, id=str(uuid.uuid4()), note="said", severity=3)
    r = client.post("/api/v1/observations/batch", headers=h, json={"observations": [skipped, said]})
    assert r.status_code == 200, r.text
    assert r.json()["created"] == 2
    listed = client.get(
        "/api/v1/observations",
        headers=world.headers("coordinator"),
        params={"walk_id": str(world.walk.id), "limit": 100},
    )
    assert listed.status_code == 200, listed.text
    by_note = {o["note"]: o["severity"] for o in listed.json()["items"]}
    assert by_note["skipped"] is None
    assert by_note["said"] == 3

    # The hotspot rollups (which count a skipped one as the middle) agree with a recount.
    assert not any(hotspot_rollup.drift(session, world.org.id).values())


def test_a_severity_out_of_range_is_still_refused(client: SyncClient, world: World) -> None:
    body = obs_body(world, id=str(uuid.uuid4()), severity=0)
    r = client.put(
        f"/api/v1/observations/{body['id']}", headers=world.headers("participant"), json=body
    )
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    assert "severity" in str(r.json()["errors"][0]["loc"])


def test_a_skipped_severity_does_not_pull_the_priority_to_the_middle() -> None:
    now = utcnow()
    given = priority_score(2, [3], [None, None], [None, None], now, now)
    assert priority_score(2, [3, None], [None, None], [None, None], now, now) == given
    assert priority_score(2, [3, 2], [None, None], [None, None], now, now) < given
