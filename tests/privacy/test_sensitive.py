"""The rule of sensitive places (api/privacy/sensitive.py): who sees what, the search margin,
and the backfill of ``observation.location_general``, on both databases."""

from __future__ import annotations

import random
import uuid
from datetime import timedelta

import h3
import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from api.auth.principal import Principal
from api.core import spatial
from api.observations.service import place
from api.privacy import sensitive
from geo.projection import geodesic_distance_m
from geo.sensitive import generalise
from models import Observation, Participant, ParticipantGroup, Role, utcnow
from tests.factories import make_area, make_category, make_org, make_user, make_walk


def _staff(session: Session, role: Role) -> Principal:
    org = make_org(session)
    user = make_user(session, org, role)
    return Principal(kind="staff", organization_id=org.id, user=user)


@pytest.mark.parametrize(
    ("role", "full"),
    [
        pytest.param(Role.admin, True, id="admin"),
        pytest.param(Role.coordinator, True, id="coordinator"),
        pytest.param(Role.engineer, False, id="engineer"),
        pytest.param(Role.planner, False, id="planner"),
    ],
)
def test_who_sees_full_detail(session: Session, role: Role, full: bool) -> None:
    p = _staff(session, role)
    assert sensitive.full_detail(p) is full
    assert sensitive.observation_hidden_from(p, sensitive=True, participant_id=None) is not full
    assert sensitive.observation_hidden_from(p, sensitive=False, participant_id=None) is False
    assert (sensitive.masked(p) is None) is full


def test_participants_see_their_own_in_full(session: Session) -> None:
    org = make_org(session)
    walk = make_walk(session, org)
    me = Participant(organization_id=org.id, walk_id=walk.id, group=ParticipantGroup.youth)
    session.add(me)
    session.flush()
    p = Principal(kind="participant", organization_id=org.id, participant=me)
    assert not sensitive.full_detail(p)
    assert not sensitive.observation_hidden_from(p, sensitive=True, participant_id=me.id)
    assert sensitive.observation_hidden_from(p, sensitive=True, participant_id=uuid.uuid4())
    assert sensitive.observation_hidden_from(p, sensitive=True, participant_id=None)


def test_the_search_margin_holds_every_shift() -> None:
    """A box grown by MAX_SHIFT_M holds the true point of everything generalised into it."""
    rnd = random.Random(16)
    worst = 0.0
    for _ in range(2000):
        lon, lat = rnd.uniform(-170, 170), rnd.uniform(-70, 71)
        g = generalise(lon, lat)
        worst = max(worst, geodesic_distance_m(lon, lat, *g))
        minx, miny, maxx, maxy = sensitive.widen((g[0], g[1], g[0], g[1]))
        assert minx <= lon <= maxx
        assert miny <= lat <= maxy
    assert worst < sensitive.MAX_SHIFT_M / 2
    # The generalised point is the centre of the resolution-8 cell.
    lon, lat = 5.7352, 58.8517
    assert generalise(lon, lat) == pytest.approx(
        tuple(reversed(h3.cell_to_latlng(h3.latlng_to_cell(lat, lon, 8)))), abs=1e-6
    )


def test_capture_keeps_and_backfill_fills_the_generalised_point(session: Session) -> None:
    org = make_org(session)
    area = make_area(session, org)
    walk = make_walk(session, org, area=area)
    cat = make_category(session, org, "lighting")
    points = [(5.7301, 58.8501), (5.7352, 58.8517), (5.7411, 58.8553)]
    ids = []
    for lon, lat in points:
        obs = Observation(
            id=uuid.uuid4(),
            organization_id=org.id,
            walk_id=walk.id,
            category_id=cat.id,
            recorded_at=utcnow() - timedelta(minutes=1),
            body_hash="0" * 64,
        )
        place(session, obs, spatial.point(lon, lat))
        session.add(obs)
        ids.append(obs.id)
    session.flush()

    def general() -> dict[uuid.UUID, tuple[float, float] | None]:
        rows = session.execute(
            select(
                Observation.id,
                func.ST_X(Observation.location_general),
                func.ST_Y(Observation.location_general),
            ).where(Observation.id.in_(ids))  # type: ignore[attr-defined]
        ).all()
        return {i: (x, y) if x is not None else None for i, x, y in rows}

    want = {i: generalise(*p) for i, p in zip(ids, points, strict=True)}

    def check() -> None:
        got = general()
        for i in ids:
            assert got[i] == pytest.approx(want[i], abs=1e-9)

    check()
    session.execute(
        update(Observation)
        .where(Observation.id.in_(ids[:2]))  # type: ignore[attr-defined]
        .values(location_general=None)
    )
    session.expire_all()
    assert general()[ids[0]] is None
    assert sensitive.backfill_general_locations(session, batch=1) == 2
    check()
    assert sensitive.backfill_general_locations(session) == 0  # idempotent
