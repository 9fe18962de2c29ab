"""Grouping is called explicitly: a script that stores observations through the capture service
alone, without importing the action-item service or the app, still gets its action items."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

from sqlalchemy import select
from sqlmodel import col

from api.core.db import create_db_engine, make_sessionmaker
from models import ActionItem, Observation, Role
from tests.factories import make_area, make_org, make_user, make_walk

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent(
    """
    import sys
    import uuid
    from datetime import datetime, timezone

    from api.core.db import create_db_engine, make_sessionmaker
    from api.auth.principal import Principal
    from api.observations.service import capture
    from models import User
    from models.observations import ObservationIn

    # Nothing of the web app or the action-item service was imported by this script.
    assert "api.app" not in sys.modules
    assert "api.http.routing" not in sys.modules

    url, user_id, walk_id, *obs_ids = sys.argv[1:]
    factory = make_sessionmaker(create_db_engine(url))
    with factory() as session:
        user = session.get(User, uuid.UUID(user_id))
        who = Principal(kind="staff", organization_id=user.organization_id, user=user)
        for i, oid in enumerate(obs_ids):
            body = ObservationIn(
                walk_id=uuid.UUID(walk_id),
                category="lighting",
                location={"type": "Point", "coordinates": [5.7352 + i * 0.00005, 58.8517]},
                recorded_at=datetime.now(timezone.utc),
            )
            capture(session, who, uuid.UUID(oid), body)
        session.commit()
    """
)


def test_a_script_calling_capture_still_groups(migrated_db_url: str) -> None:
    engine = create_db_engine(migrated_db_url)
    factory = make_sessionmaker(engine)
    with factory() as s:
        org = make_org(s, "Sandnes")
        walk = make_walk(s, org, area=make_area(s, org))
        user = make_user(s, org, Role.coordinator)
        s.commit()
        args = [str(user.id), str(walk.id)]
    obs_ids = [str(uuid.uuid4()) for _ in range(3)]
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, migrated_db_url, *args, *obs_ids],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    with factory() as s:
        rows = list(
            s.scalars(
                select(Observation).where(col(Observation.id).in_([uuid.UUID(o) for o in obs_ids]))
            )
        )
        assert len(rows) == 3
        item_ids = {o.action_item_id for o in rows}
        assert len(item_ids) == 1  # three lamps ~3 m apart: one item
        (item_id,) = item_ids
        assert item_id is not None
        item = s.get(ActionItem, item_id)
        assert item is not None
        assert item.observation_count == 3
        assert item.title == "Dårlig belysning – Sentrum (3 meldinger)"
    engine.dispose()
