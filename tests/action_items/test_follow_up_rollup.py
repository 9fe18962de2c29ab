"""The follow-up rollup (`follow_up_count`) equals a fresh count of the items after every kind
of change: capture creating and reopening items, workflow moves, a new department or due date,
merge, split, regroup, moderation emptying an item, a deleted area and a deleted item; and the
figures of today read from it equal a brute force over the items' rows, with and without a
period start, for every grouping. Both databases."""

from __future__ import annotations

import random
import uuid
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, sessionmaker

from api.action_items import follow_up_rollup
from models import ActionEvent, ActionItem, FollowUpCount, FollowUpMember, Observation, utcnow
from tests.factories.action_items import Scene, at, patch
from tests.factories.client import SyncClient
from tests.factories.follow_up import brute_force, drift, served
from tests.factories.world import World

GROUPS = ("area", "department", "category")


@pytest.fixture
def scene(client: SyncClient, world: World, session: Session) -> Scene:
    return Scene(client, world, session)


def _exact(scene: Scene, step: str) -> None:
    """No drift, and the served figures equal the brute force, for every grouping and for
    periods starting before everything, inside today and in the future."""
    session, org = scene.session, scene.world.org.id
    assert drift(session, org) == {}, step
    planner = scene.world.headers("planner")
    now = utcnow()
    for since in (None, now - timedelta(days=40), now - timedelta(minutes=30)):
        for group_by in GROUPS:
            params: dict[str, Any] = {"group_by": group_by}
            if since is not None:
                params["since"] = since.isoformat()
            r = scene.client.get("/api/v1/stats/follow-up", params=params, headers=planner)
            assert r.status_code == 200, r.text
            got = served(r.json()["groups"])
            want = brute_force(session, org, group_by, since, utcnow())
            assert got == want, (step, group_by, since)


def _ok(r: Any, code: int = 200) -> dict[str, Any]:
    assert r.status_code == code, r.text
    return r.json() if r.content else {}  # type: ignore[no-any-return]


def test_every_kind_of_change_keeps_the_rollup_exact(scene: Scene, session: Session) -> None:
    rng = random.Random(24)
    seen = [
        scene.observe(
            rng.choice(["lighting", "graffiti", "vegetation"]),
            at(rng.uniform(-900, 900), rng.uniform(-400, 400)),
            severity=rng.randint(1, 3),
        )
        for _ in range(24)
    ]
    _exact(scene, "capture")
    items = sorted({o["action_item_id"] for o in seen})
    a, b, c = items[:3]
    # Workflow moves, each counted by set_status.
    for status in ("triaged", "in_progress", "resolved", "reopened", "resolved", "verified"):
        _ok(patch(scene, a, "coordinator", {"status": status}))
        _exact(scene, status)
    # A new department and a due date in the past (overdue), then one met by a resolution.
    dept = _ok(scene.client.get("/api/v1/departments", headers=scene.h))[-1]["code"]
    _ok(patch(scene, b, "coordinator", {"department": dept}))
    _exact(scene, "department")
    _ok(
        patch(scene, b, "coordinator", {"due_date": (date.today() - timedelta(days=3)).isoformat()})
    )
    _exact(scene, "due date in the past")
    _ok(
        patch(scene, c, "coordinator", {"due_date": (date.today() + timedelta(days=3)).isoformat()})
    )
    _ok(patch(scene, c, "coordinator", {"status": "resolved"}))
    _exact(scene, "resolved within its due date")
    # A new report next to a resolved item reopens it, through the chunk path.
    where = next(o for o in seen if o["action_item_id"] == c)
    again = scene.observe(where["category"], where["location"]["coordinates"])
    assert again["action_item_id"] == c
    _exact(scene, "reopened by capture")
    # Merge and split.
    lights = sorted({o["action_item_id"] for o in seen if o["category"] == "lighting"} - {a, b, c})
    assert len(lights) >= 2
    _ok(scene.client.post(f"/api/v1/action-items/{lights[0]}/merge", headers=scene.h,
                          json={"other_id": lights[1]}))  # fmt: skip
    _exact(scene, "merge")
    merged = [o["id"] for o in seen if o["action_item_id"] in lights[:2]]
    _ok(scene.client.post(f"/api/v1/action-items/{lights[0]}/split", headers=scene.h,
                          json={"observation_ids": merged[:1]}), 201)  # fmt: skip
    _exact(scene, "split")
    # Regroup, moderation emptying an item, a deleted area.
    _ok(scene.client.post(f"/api/v1/areas/{scene.west.id}/regroup", headers=scene.h))
    _exact(scene, "regroup")
    alone = [o for o in seen if sum(p["action_item_id"] == o["action_item_id"] for p in seen) == 1]
    if alone:
        _ok(scene.client.patch(f"/api/v1/observations/{alone[0]['id']}", headers=scene.h,
                               json={"moderation": "hidden"}))  # fmt: skip
        _exact(scene, "moderation emptied an item")
    _ok(scene.client.delete(f"/api/v1/areas/{scene.east.id}", headers=scene.h), 204)
    _exact(scene, "area deleted")
    # An item deleted: the next sync of its id takes its contribution out.
    gone = session.scalars(select(ActionItem.id).where(ActionItem.id != uuid.UUID(a))).first()
    session.execute(delete(ActionEvent).where(ActionEvent.action_item_id == gone))
    session.execute(
        update(Observation).where(Observation.action_item_id == gone).values(action_item_id=None)
    )
    session.execute(delete(ActionItem).where(ActionItem.id == gone))
    follow_up_rollup.sync(session, [gone])
    session.commit()
    _exact(scene, "item deleted")


def test_sync_is_idempotent_and_backfill_rebuilds_a_lost_rollup(
    scene: Scene, session: Session, world: World, session_factory: sessionmaker[Session]
) -> None:
    for k in range(6):
        scene.observe("lighting" if k % 2 else "graffiti", at(-800 + 150 * k, 0))
    ids = session.scalars(select(ActionItem.id)).all()
    follow_up_rollup.sync(session, ids)
    follow_up_rollup.sync(session, ids)
    session.commit()
    assert drift(session, world.org.id) == {}
    # Lost entirely (a restore from before the rollup): the backfill counts every item again.
    session.execute(delete(FollowUpCount))
    session.execute(delete(FollowUpMember))
    session.commit()
    assert drift(session, world.org.id) != {}
    assert follow_up_rollup.backfill(session_factory) == len(ids)
    assert follow_up_rollup.backfill(session_factory) == 0
    assert drift(session, world.org.id) == {}
