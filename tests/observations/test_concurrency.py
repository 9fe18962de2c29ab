"""Real commits from concurrent requests: 20 PUTs of the same id leave exactly one row."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from models import Observation, utcnow
from tests.factories.client import SyncClient
from tests.factories.world import staff_token


def test_twenty_concurrent_puts_of_one_id_make_one_row(
    live: tuple[Any, Any, dict[str, Any]],
) -> None:
    app, factory, ids = live
    headers = {"Authorization": f"Bearer {staff_token(app, ids['user'])}"}
    oid = str(uuid.uuid4())
    body = {
        "walk_id": str(ids["walk"]),
        "category": "lighting",
        "location": {"type": "Point", "coordinates": [5.7352, 58.8517]},
        "severity": 2,
        "recorded_at": (utcnow() - timedelta(minutes=1)).isoformat(),
    }
    with SyncClient(app) as client:
        responses = client.gather(
            [("PUT", f"/api/v1/observations/{oid}", {"json": body, "headers": headers})] * 20
        )
    statuses = Counter(r.status_code for r in responses)
    assert statuses == {201: 1, 200: 19}, [r.text for r in responses if r.status_code >= 300]
    assert (
        len({r.json()["received_at"] for r in responses}) == 1
    )  # all answer with the stored record
    with factory() as s:
        assert s.scalar(select(func.count()).select_from(Observation)) == 1


def test_two_engineers_racing_on_one_etag_one_wins(live: tuple[Any, Any, dict[str, Any]]) -> None:
    """Both send the same If-Match at once: one 200, one 412, and only one move in history."""
    app, factory, ids = live
    headers = {"Authorization": f"Bearer {staff_token(app, ids['user'])}"}
    body = {
        "walk_id": str(ids["walk"]),
        "category": "lighting",
        "location": {"type": "Point", "coordinates": [5.7352, 58.8517]},
        "recorded_at": (utcnow() - timedelta(minutes=1)).isoformat(),
    }
    with SyncClient(app) as client:
        item_id = client.put(
            f"/api/v1/observations/{uuid.uuid4()}", headers=headers, json=body
        ).json()["action_item_id"]
        tag = client.get(f"/api/v1/action-items/{item_id}", headers=headers).headers["ETag"]
        moves = [
            {"status": "triaged", "comment": "first"},
            {"status": "wont_fix", "comment": "second"},
        ]
        responses = client.gather(
            [
                (
                    "PATCH",
                    f"/api/v1/action-items/{item_id}",
                    {"json": m, "headers": {**headers, "If-Match": tag}},
                )
                for m in moves
            ]
        )
        assert sorted(r.status_code for r in responses) == [200, 412]
        history = client.get(f"/api/v1/action-items/{item_id}/history", headers=headers).json()
    assert len([e for e in history if e["kind"] == "status"]) == 1
