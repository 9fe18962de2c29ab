"""A walk group at one dark corner: the database seeded for live servers, the bodies the
phones send, and what the database holds afterwards."""

from __future__ import annotations

import random
import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.auth.security import issue_token
from api.core import spatial
from api.core.db import create_db_engine
from api.settings import Settings
from geo.grouping import footprint
from models import ActionItem, Observation, Participant, ParticipantGroup, Role, utcnow
from tests.factories import make_user, sandnes_walk
from tests.factories.live_server import SECRET

SPOT = (5.7352, 58.8517)  # an underpass in the test area
CATEGORIES = ("lighting", "vegetation", "graffiti")


def _token(settings: Settings, kind: str, subject: uuid.UUID, org: uuid.UUID, **kw: Any) -> str:
    return issue_token(
        secret=SECRET,
        settings=settings,
        kind=kind,
        subject=subject,
        organization_id=org,
        expires_at=utcnow() + timedelta(hours=2),
        **kw,
    )


def seed_group(url: str, org_name: str = "Sandnes") -> dict[str, Any]:
    """An organization (``org_name``: one database can hold several groups, each of its own),
    its walk, four youths and a coordinator, committed; their ids and tokens."""
    with sandnes_walk(url, org_name) as (s, org, area, walk):
        coord = make_user(s, org, Role.coordinator)
        parts = [
            Participant(organization_id=org.id, walk_id=walk.id, group=ParticipantGroup.youth)
            for _ in range(4)
        ]
        s.add_all(parts)
        s.commit()
        settings = Settings(environment="test", secret_key=SECRET)
        return {
            "org": str(org.id),
            "walk": str(walk.id),
            "area": area.id,
            "participants": [
                _token(settings, "participant", p.id, org.id, walk_id=walk.id) for p in parts
            ],
            "coordinator": _token(settings, "staff", coord.id, org.id),
        }


def group_bodies(walk_id: str, n: int, seed: int) -> list[dict[str, Any]]:
    """n observations within about a metre of one spot, in a few categories."""
    rnd = random.Random(seed)
    recorded = (utcnow() - timedelta(minutes=5)).isoformat()
    out = []
    for i in range(n):
        out.append(
            {
                "id": str(uuid.UUID(int=rnd.getrandbits(128), version=4)),
                "walk_id": walk_id,
                "category": CATEGORIES[i % len(CATEGORIES)] if i % 4 else "lighting",
                "location": {
                    "type": "Point",
                    "coordinates": [
                        round(SPOT[0] + rnd.uniform(-1e-5, 1e-5), 7),
                        round(SPOT[1] + rnd.uniform(-1e-5, 1e-5), 7),
                    ],
                },
                "severity": rnd.randint(1, 3),
                "perceived_safety": rnd.randint(0, 3),
                "recorded_at": recorded,
            }
        )
    return out


def group_items(url: str, org: str) -> tuple[int, list[tuple[str, frozenset[str]]], list[str]]:
    """The organization's observation count, each of its items as (category, member ids), and
    every counter mismatch."""
    org_id = uuid.UUID(org)
    mine = Observation.organization_id == org_id
    engine = create_db_engine(url)
    try:
        with Session(engine) as s:
            n = s.scalar(select(func.count()).select_from(Observation).where(mine)) or 0
            members: dict[uuid.UUID, set[str]] = {}
            for oid, item_id in s.execute(
                select(Observation.id, Observation.action_item_id).where(mine)
            ):
                if item_id is not None:
                    members.setdefault(item_id, set()).add(str(oid))
            items = []
            wrong = []
            points: dict[str, tuple[float, float]] = {
                str(oid): (float(x), float(y))
                for oid, x, y in s.execute(
                    select(
                        Observation.id,
                        func.ST_X(Observation.location),
                        func.ST_Y(Observation.location),
                    ).where(mine)
                )
            }
            for item in s.scalars(select(ActionItem).where(ActionItem.organization_id == org_id)):
                got = members.get(item.id, set())
                if item.observation_count != len(got):
                    wrong.append(f"{item.id}: count {item.observation_count} != {len(got)}")
                if got:
                    stored = spatial.from_db(item.footprint)
                    expected = footprint([points[o] for o in sorted(got)])
                    same = stored is not None and (
                        stored.buffer(1e-6).covers(expected)
                        and expected.buffer(1e-6).covers(stored)
                    )
                    if not same:
                        wrong.append(f"{item.id}: footprint does not cover its members")
                if got:
                    items.append((str(item.category_id), frozenset(got)))
            # Compared by category code, not id: a serial run has its own category rows.
            return n, sorted((_code(s, c), m) for c, m in items), wrong
    finally:
        engine.dispose()


def _code(s: Session, category_id: str) -> str:
    from models import Category

    cat = s.get(Category, uuid.UUID(category_id))
    assert cat is not None
    return cat.code
