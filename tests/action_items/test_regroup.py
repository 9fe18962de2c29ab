"""The set-based regroup: the same grouping as ``geo.grouping`` in a fixed number of statements.

The service is called directly on seeded random observations (written in bulk, not through the
API); ``test_action_items.py`` covers the endpoint and its scenarios.
"""

from __future__ import annotations

import hashlib
import random
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
import shapely
from shapely.geometry import Point
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session
from sqlmodel import col

from api.action_items import grouping
from api.auth.principal import Principal
from api.core import spatial
from api.core.errors import Conflict
from geo.grouping import GroupPoint, centroid, footprint, group_points
from geo.projection import local_transformer
from models import (
    ActionEvent,
    ActionItem,
    ActionStatus,
    Area,
    Category,
    Moderation,
    Observation,
    Participant,
    ParticipantGroup,
    Role,
    utcnow,
)
from models.action_items import RegroupResult
from tests.factories import make_area, make_org, make_user, make_walk

CODES = ("lighting", "vegetation", "graffiti")
CENTRE = (5.735, 58.852)  # the middle of the factories' Sandnes square
NOW = utcnow().replace(microsecond=0)


class Scene:
    def __init__(self, session: Session) -> None:
        self.session = session
        self.org = make_org(session)
        self.area = make_area(session, self.org)
        self.walk = make_walk(session, self.org, area=self.area)
        user = make_user(session, self.org, Role.coordinator)
        self.principal = Principal(kind="staff", organization_id=self.org.id, user=user)
        self.cats = {
            c.code: c
            for c in session.scalars(
                select(Category).where(col(Category.organization_id) == self.org.id)
            )
        }
        self.participants = [
            Participant(organization_id=self.org.id, walk_id=self.walk.id, group=g)
            for g in (ParticipantGroup.youth, ParticipantGroup.resident)
        ]
        session.add_all(self.participants)
        session.flush()

    def observe(self, n: int, seed: int, area: Area | None = None) -> list[Observation]:
        """n accepted observations in clusters of 1-8 within 25 m of a centre (one category a
        cluster), some by participants; added in one flush."""
        rnd = random.Random(seed)
        tr = local_transformer(*CENTRE)
        rows: list[Observation] = []
        while len(rows) < n:
            cx, cy = rnd.uniform(-300, 300), rnd.uniform(-300, 300)
            code = rnd.choice(CODES)
            for _ in range(min(rnd.randint(1, 8), n - len(rows))):
                lon, lat = tr.inverse(cx + rnd.uniform(-25, 25), cy + rnd.uniform(-25, 25))
                oid = uuid.UUID(int=rnd.getrandbits(128), version=4)
                who = rnd.choice([None, *self.participants])
                recorded = NOW - timedelta(minutes=rnd.randint(1, 60 * 24 * 90))
                rows.append(
                    Observation(
                        id=oid,
                        organization_id=self.org.id,
                        walk_id=self.walk.id,
                        participant_id=who.id if who else None,
                        category_id=self.cats[code].id,
                        location=spatial.to_db(
                            Point(round(float(lon[0]), 7), round(float(lat[0]), 7))
                        ),
                        area_id=(area or self.area).id,
                        severity=rnd.randint(1, 3),
                        perceived_safety=rnd.choice([None, 0, 1, 2, 3]),
                        is_dark=rnd.choice([None, True, False]),
                        recorded_at=recorded,
                        received_at=recorded,
                        moderation=Moderation.accepted,
                        body_hash=hashlib.sha256(oid.bytes).hexdigest(),
                    )
                )
        self.session.add_all(rows)
        self.session.flush()
        return rows

    def regroup(self, area: Area | None = None) -> RegroupResult:
        result = grouping.regroup_area(self.session, self.principal, area or self.area)
        self.session.flush()
        return result

    def items(self, area: Area | None = None) -> list[ActionItem]:
        return list(
            self.session.scalars(
                select(ActionItem)
                .where(col(ActionItem.area_id) == (area or self.area).id)
                .execution_options(populate_existing=True)
            )
        )

    def members(self, area: Area | None = None) -> dict[uuid.UUID, list[tuple[str, float, float]]]:
        """Each item's accepted members as (id, lon, lat), in id order."""
        out: dict[uuid.UUID, list[tuple[str, float, float]]] = {}
        stmt = (
            select(
                Observation.id,
                Observation.action_item_id,
                func.ST_X(Observation.location),
                func.ST_Y(Observation.location),
            )
            .where(
                col(Observation.area_id) == (area or self.area).id,
                col(Observation.moderation) == Moderation.accepted,
            )
            .execution_options(populate_existing=True)
        )
        for oid, item_id, x, y in self.session.execute(stmt):
            out.setdefault(item_id, []).append((str(oid), float(x), float(y)))
        return {k: sorted(v) for k, v in out.items()}


@pytest.fixture
def scene(session: Session) -> Scene:
    return Scene(session)


@contextmanager
def counting(session: Session) -> Iterator[list[str]]:
    """Every statement sent to the database meanwhile (an executemany counts once)."""
    seen: list[str] = []
    conn = session.connection()

    def count(_c: Any, _cur: Any, statement: str, _p: Any, _ctx: Any, _many: bool) -> None:
        seen.append(statement)

    event.listen(conn, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(conn, "before_cursor_execute", count)


def _pure(scene: Scene, leave_out: frozenset[str] = frozenset()) -> set[frozenset[str]]:
    """The grouping ``geo.grouping`` gives the area's accepted observations (but ``leave_out``)."""
    points = []
    for obs in scene.session.scalars(
        select(Observation).where(
            col(Observation.area_id) == scene.area.id,
            col(Observation.moderation) == Moderation.accepted,
        )
    ):
        p = spatial.from_db(obs.location)
        assert p is not None
        code = next(c for c, cat in scene.cats.items() if cat.id == obs.category_id)
        if str(obs.id) not in leave_out:
            points.append(GroupPoint(str(obs.id), code, p.x, p.y))
    distances = {c: cat.group_distance_m for c, cat in scene.cats.items() if cat.actionable}
    return {frozenset(g) for g in group_points(points, distances)}


def test_statements_do_not_grow_with_the_number_of_items(session: Session) -> None:
    """A regroup from scratch and one after changes, at 50 and at 500 observations: the same
    number of statements (it used to be a few per item)."""
    counts = []
    for n in (50, 500):
        scene = Scene(session)
        scene.observe(n, seed=n)
        with counting(session) as first:
            created = scene.regroup()
        # Work on a few items, let the area drift (new observations), and regroup again.
        for item in scene.items()[:3]:
            item.status = ActionStatus.triaged
        scene.observe(n // 5, seed=n + 1)
        session.flush()
        with counting(session) as second:
            again = scene.regroup()
        assert created.items_created > n // 10
        assert again.items_kept > 0
        counts.append((len(first), len(second)))
    assert counts[0] == counts[1], counts
    # Categories, locks (one per category on PostgreSQL), organization, items, observations
    # twice, and the writes: a fixed handful.
    assert max(max(c) for c in counts) <= 25, counts


def test_regroup_equals_the_pure_grouping(scene: Scene) -> None:
    scene.observe(300, seed=7)
    first = scene.regroup()
    assert first.observations == 300
    assert {frozenset(o for o, _x, _y in m) for m in scene.members().values()} == _pure(scene)

    # Start work on some items, resolve one, add observations that join, bridge and start
    # groups, then regroup again: still exactly the pure grouping of the open observations.
    items = scene.items()
    worked = {i.id for i in items[:5]}
    for i in items[:5]:
        i.status = ActionStatus.in_progress
    resolved = items[5]
    resolved.status = ActionStatus.resolved
    resolved.resolved_at = utcnow()
    resolved_members = scene.members()[resolved.id]
    scene.observe(120, seed=8)
    scene.session.flush()

    second = scene.regroup()
    assert second.observations == 300 + 120 - len(resolved_members)
    members = scene.members()
    assert members[resolved.id] == resolved_members  # history stays as it is
    regrouped = {frozenset(o for o, _x, _y in m) for k, m in members.items() if k != resolved.id}
    # A resolved item's observations are not regrouped: the rest group exactly as in geo/.
    assert regrouped == _pure(scene, leave_out=frozenset(o for o, _x, _y in resolved_members))

    by_id = {i.id: i for i in scene.items()}
    kept = worked & set(members)
    assert len(kept) >= 4, "items being worked on keep their ids"
    for item_id in kept:
        assert by_id[item_id].status == ActionStatus.in_progress
    for item_id in worked - kept:
        # Two worked items bridged into one group: the other one took it, this one closed.
        assert by_id[item_id].status == ActionStatus.closed_empty
    assert second.items_closed >= len(worked - kept)
    for item_id, m in members.items():
        if item_id is None or item_id == resolved.id:
            continue
        item = by_id[item_id]
        pts = [(x, y) for _o, x, y in m]
        assert item.observation_count == len(m)
        stored = spatial.from_db(item.location)
        assert stored is not None
        assert (stored.x, stored.y) == centroid(pts)
        assert shapely.equals_exact(spatial.from_db(item.footprint), footprint(pts), 0.0)
        assert item.due_date is not None


def test_regroup_of_an_unchanged_area_writes_nothing(scene: Scene) -> None:
    scene.observe(120, seed=3)
    scene.regroup()
    before = {i.id: (i.version, i.updated_at) for i in scene.items()}
    events = scene.session.scalar(select(func.count()).select_from(ActionEvent))
    with counting(scene.session) as seen:
        result = scene.regroup()
    assert result.items_created == 0
    assert result.items_closed == 0
    assert result.items_kept == len(before)
    assert {i.id: (i.version, i.updated_at) for i in scene.items()} == before
    assert scene.session.scalar(select(func.count()).select_from(ActionEvent)) == events
    assert not [s for s in seen if s.lstrip().upper().startswith(("INSERT", "UPDATE"))]


def test_members_that_take_no_part_stay_with_their_item(scene: Scene) -> None:
    """Observations of a category no longer actionable keep counting for their open item; an
    item left with none of its observations is closed, its history kept."""
    scene.observe(60, seed=5)
    scene.regroup()
    graffiti = scene.cats["graffiti"]
    graffiti_items = [i for i in scene.items() if i.category_id == graffiti.id]
    assert graffiti_items
    counts = {i.id: i.observation_count for i in graffiti_items}
    graffiti.actionable = False
    # One lighting item loses its observations to another area's moderation: hide them.
    lighting = next(i for i in scene.items() if i.category_id == scene.cats["lighting"].id)
    for obs in scene.session.scalars(
        select(Observation).where(col(Observation.action_item_id) == lighting.id)
    ):
        obs.moderation = Moderation.hidden
    scene.session.flush()

    result = scene.regroup()
    assert result.items_closed == 1
    after = {i.id: i for i in scene.items()}
    assert {i: after[i].observation_count for i in counts} == counts
    assert all(after[i].status == ActionStatus.new for i in counts)
    assert after[lighting.id].status == ActionStatus.closed_empty
    assert after[lighting.id].observation_count == 0
    kinds = [
        (e.kind, e.to_status, e.actor_user_id)
        for e in scene.session.scalars(
            select(ActionEvent)
            .where(col(ActionEvent.action_item_id) == lighting.id)
            .order_by(col(ActionEvent.created_at))
        )
    ]
    assert kinds[0][0] == "created"
    assert kinds[-1] == ("regroup", "closed_empty", scene.principal.user.id)  # type: ignore[union-attr]


def test_new_items_are_described_and_attributed_like_items_started_on_arrival(
    scene: Scene,
) -> None:
    rows = scene.observe(40, seed=11)
    scene.regroup()
    by_id = {o.id: o for o in rows}
    groups = {p.id: p.group for p in scene.participants}
    for item_id, m in scene.members().items():
        item = scene.session.get(ActionItem, item_id)
        assert item is not None
        obs = [by_id[uuid.UUID(o)] for o, _x, _y in m]
        assert item.participant_groups == sorted(
            {str(groups[o.participant_id]) for o in obs if o.participant_id}
        )
        assert item.first_seen_at == min(o.recorded_at for o in obs)
        assert item.last_seen_at == max(o.recorded_at for o in obs)
        assert item.title == grouping.describe(scene.session, item)
        assert item.status == ActionStatus.new
        assert item.version == 1
        created = scene.session.scalars(
            select(ActionEvent).where(col(ActionEvent.action_item_id) == item_id)
        ).one()
        assert created.kind == "created"
        assert created.to_status == "new"
        # The first member (in id order) started it, as when it arrived first.
        assert created.actor_participant_id == obs[0].participant_id
        assert created.actor_user_id is None


def test_an_item_changed_meanwhile_fails_the_regroup(
    scene: Scene, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bulk UPDATE writes an item only at the version the regroup read (a status move takes
    no group lock): an item moved in between is a 409, not overwritten."""
    rows = scene.observe(30, seed=13)
    scene.regroup()
    for obs in rows:  # every item's priority changes
        obs.severity = 3 if obs.severity < 3 else 1
    scene.session.flush()
    read = grouping._read_open_items

    def stale(session: Session, area: Area) -> Any:
        items = read(session, area)
        for item in items.values():
            item.version -= 1  # as if someone wrote each item after the regroup read it
        return items

    monkeypatch.setattr(grouping, "_read_open_items", stale)
    with pytest.raises(Conflict):
        scene.regroup()
