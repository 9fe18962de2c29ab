"""A small world for API tests: two organizations, every role, two walks with participants."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from api.app import create_app
from api.auth.security import issue_token, staff_token_expiry
from api.core.db import create_db_engine, make_sessionmaker
from api.core.tenancy import APP_ROLE
from api.settings import Settings
from models import Participant, ParticipantGroup, Role, User, Walk, utcnow
from models.organizations import Organization
from tests.factories import make_area, make_org, make_user, make_walk


@dataclass
class World:
    org: Organization
    other_org: Organization
    walk: Walk
    other_walk: Walk
    users: dict[str, User]
    participant: Participant
    other_participant: Participant
    tokens: dict[str, str | None] = field(default_factory=dict)
    objects: dict[str, Any] = field(default_factory=dict)

    def headers(self, who: str) -> dict[str, str]:
        token = self.tokens[who]
        return {"Authorization": f"Bearer {token}"} if token else {}


def staff_token(app: Any, user: User, **kw: Any) -> str:
    return issue_token(
        secret=app.state.secret,
        settings=app.state.settings,
        kind="staff",
        subject=user.id,
        organization_id=user.organization_id,
        expires_at=kw.pop("expires_at", staff_token_expiry(app.state.settings)),
    )


def participant_token(app: Any, p: Participant, **kw: Any) -> str:
    return issue_token(
        secret=app.state.secret,
        settings=app.state.settings,
        kind="participant",
        subject=p.id,
        organization_id=p.organization_id,
        walk_id=p.walk_id,
        expires_at=kw.pop("expires_at", utcnow() + timedelta(hours=4)),
    )


@pytest.fixture
def world(app: Any, session: Session) -> World:
    return build_world(app, session)


def build_world(app: Any, session: Session) -> World:
    """The world, committed through ``session`` (also used by module-scoped fixtures)."""
    org = make_org(session, "Sandnes")
    other = make_org(session, "Stavanger")
    area = make_area(session, org)
    walk = make_walk(session, org, area=area)
    other_walk = make_walk(session, org, area=area, title="Another walk")
    users = {role.value: make_user(session, org, role) for role in Role}
    users["foreign_admin"] = make_user(session, other, Role.admin)
    p = Participant(
        organization_id=org.id, walk_id=walk.id, group=ParticipantGroup.youth, display_name="Ada"
    )
    p2 = Participant(organization_id=org.id, walk_id=other_walk.id, group=ParticipantGroup.resident)
    session.add_all([p, p2])
    session.flush()
    session.commit()
    w = World(org, other, walk, other_walk, users, p, p2)
    w.objects["area"] = area
    w.tokens = {
        "anonymous": None,
        "participant": participant_token(app, p),
        "other_participant": participant_token(app, p2),
        **{name: staff_token(app, u) for name, u in users.items()},
    }
    return w


@pytest.fixture
def live(migrated_db_url: str, tmp_path: Path) -> Iterator[tuple[Any, Any, dict[str, Any]]]:
    """An app on a fresh database with real commits, for tests of concurrent requests."""
    engine = create_db_engine(migrated_db_url)
    factory = make_sessionmaker(engine)
    with factory() as s:
        org = make_org(s, "Sandnes")
        walk = make_walk(s, org)
        user = make_user(s, org, Role.coordinator)
        s.commit()
        ids = {"walk": walk.id, "user": user}
    settings = Settings(
        environment="test", data_dir=tmp_path, database_url=migrated_db_url, secret_key="k" * 64
    )
    # The app acts as the app role under row-level security on PostgreSQL (api/core/tenancy.py);
    # the test arranges and checks as the owner, through ``factory``.
    served = create_db_engine(
        migrated_db_url, role=APP_ROLE if engine.dialect.name == "postgresql" else None
    )
    app = create_app(settings, engine=served)
    yield app, factory, ids
    served.dispose()
    engine.dispose()


def new_id() -> str:
    return str(uuid.uuid4())


def _fill(path: str, world: World) -> str:
    """Path parameters point at real objects of the first organization."""
    ids = {
        "walks": world.walk.id,
        "areas": world.objects["area"].id,
        "observations": world.objects.get("observation_id", "00000000-0000-0000-0000-000000000001"),
        "action-items": world.objects.get("action_item_id", "00000000-0000-0000-0000-000000000002"),
        "photos": world.objects.get("photo_id", "00000000-0000-0000-0000-000000000003"),
    }

    def repl(m: re.Match[str]) -> str:
        name = m.group(1)
        if name == "photo_id":
            return str(world.objects.get("photo_id", ids["photos"]))
        head = path[: m.start()].rstrip("/").split("/")
        domain = head[-1] if head[-1] != "walks" or "map" not in head else "walks"
        return str(ids.get(domain, world.walk.id))

    return re.sub(r"\{(\w+)\}", repl, path)
