"""One fan-out when an observation changes: its action item and the hotspot counters follow,
through ``api.observations.changed`` for a stored observation and through capture's per-chunk
fan-out (``capture._write_chunk``) for new ones, and no other path. Both databases."""

from __future__ import annotations

import ast
import uuid
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from api.hotspots import rollup as hotspot_rollup
from api.observations.changed import observation_changed
from models import ActionItem, ActionStatus, HotspotMember, Moderation, Observation
from tests.factories.client import SyncClient
from tests.factories.observations import observe
from tests.factories.world import World

ROOT = Path(__file__).resolve().parents[2]
FAN_OUT = ROOT / "api" / "observations" / "changed.py"


def test_only_the_fan_out_calls_what_follows_an_observation() -> None:
    """No path calls the item's or the counters' ``observation_changed`` itself: a pasted pair
    is a path that forgets one of them the day a third is added. Capture writes a chunk of new
    observations through its own fan-out, checked below."""
    callers = [
        f"{path.relative_to(ROOT)}:{node.lineno}"
        for path in sorted((ROOT / "api").rglob("*.py"))
        if path != FAN_OUT
        for node in ast.walk(ast.parse(path.read_text(), str(path)))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "observation_changed"
    ]
    assert callers == []


def test_item_and_counters_follow_a_change(
    client: SyncClient, world: World, session: Session
) -> None:
    oid = uuid.UUID(observe(client, world)["id"])
    obs = session.get(Observation, oid)
    assert obs is not None
    assert obs.action_item_id is not None
    item_id = obs.action_item_id

    def member() -> HotspotMember | None:
        return session.scalar(select(HotspotMember).where(col(HotspotMember.observation_id) == oid))

    assert member() is not None
    obs.moderation = Moderation.hidden
    session.flush()
    observation_changed(session, obs)
    item = session.get(ActionItem, item_id)
    assert item is not None
    session.refresh(item)
    assert obs.action_item_id is None
    assert item.status == ActionStatus.closed_empty
    assert member() is None

    obs.moderation = Moderation.accepted
    session.flush()
    observation_changed(session, obs)
    assert obs.action_item_id is not None
    assert member() is not None
    assert not any(hotspot_rollup.drift(session, world.org.id).values())
    session.rollback()


def test_capture_fans_out_a_chunk_in_one_place() -> None:
    """Capture's grouping and counters of new observations are called from ``_write_chunk``
    alone, each once: the per-chunk counterpart of ``observation_changed``."""
    follow_ups = {"group_chunk", "added"}
    callers = [
        (f"{path.relative_to(ROOT)}", fn.name, node.func.attr)
        for path in sorted((ROOT / "api").rglob("*.py"))
        for fn in ast.walk(ast.parse(path.read_text(), str(path)))
        if isinstance(fn, ast.FunctionDef)
        for node in ast.walk(fn)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in follow_ups
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id in {"item_chunk", "hotspot_rollup"}
    ]
    assert sorted(callers) == [
        ("api/observations/capture.py", "_write_chunk", "added"),
        ("api/observations/capture.py", "_write_chunk", "group_chunk"),
    ]
