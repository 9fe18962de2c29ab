"""One live server per database for the field app's browser tests, seeded with an organization
(its default categories), an area, an active walk with a route, a completed walk and an admin
whose token the tests use to check what arrived through the API."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from shapely.geometry import LineString

from api.core import spatial
from api.core.db import create_db_engine, make_sessionmaker, session_scope
from models import Role, WalkStatus, utcnow
from tests.factories import PASSWORD, make_area, make_org, make_user, make_walk
from tests.factories.browser import require_browser
from tests.factories.databases import DatabaseFactory
from tests.factories.field_app import ROUTE, Field
from tests.factories.live_server import LiveServer


@pytest.fixture(scope="module")
def field(databases: DatabaseFactory, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Field]:
    require_browser()
    url = databases.migrated_url()
    engine = create_db_engine(url)
    try:
        for session in session_scope(make_sessionmaker(engine)):
            org = make_org(session, "Sandnes")
            area = make_area(session, org)
            walk = make_walk(
                session,
                org,
                area=area,
                title="Kveldsvandring sentrum",
                route=spatial.to_db(LineString(ROUTE)),
                starts_at=utcnow() - timedelta(minutes=30),
            )
            closed = make_walk(
                session, org, area=area, title="Last week", status=WalkStatus.completed
            )
            follow_up = make_walk(
                session,
                org,
                area=area,
                title="Oppfølgingsvandring",
                follow_up_of_id=closed.id,
                starts_at=utcnow() - timedelta(minutes=30),
            )
            admin = make_user(session, org, Role.admin)
            code, closed_code, follow_up_code, walk_id, email = (
                walk.join_code,
                closed.join_code,
                follow_up.join_code,
                str(walk.id),
                admin.email,
            )
    finally:
        engine.dispose()
    data = tmp_path_factory.mktemp("field-server")
    with LiveServer(url, Path(data)) as server:
        token = httpx.post(
            f"{server.base}/api/v1/auth/token",
            data={"username": email, "password": PASSWORD},
            timeout=10,
        ).json()
        assert "access_token" in token, token
        token = token["access_token"]
        yield Field(
            base=server.base,
            code=code,
            closed_code=closed_code,
            follow_up_code=follow_up_code,
            walk_id=walk_id,
            admin={"Authorization": f"Bearer {token}"},
            data_dir=server.data_dir,
        )
