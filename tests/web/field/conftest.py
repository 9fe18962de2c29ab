"""One live server per database for the field app's browser tests, seeded with an organization
(its default categories), an area, an active walk with a route, a completed walk and an admin
whose token the tests use to check what arrived through the API."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from shapely.geometry import LineString

from api.core import spatial
from api.core.db import create_db_engine, make_sessionmaker, session_scope
from models import Role, WalkStatus, utcnow
from tests.factories import PASSWORD, make_area, make_org, make_user, make_walk
from tests.factories.databases import DatabaseFactory
from tests.live.server import LiveServer
from tests.web.conftest import require_browser

# Where the emulated phone is: inside the seeded area, on the route.
LAT, LON = 58.8512, 5.7351
ROUTE = [(5.7300, 58.8500), (5.7351, 58.8512), (5.7400, 58.8530)]


@dataclass
class Field:
    base: str
    code: str
    closed_code: str
    follow_up_code: str
    walk_id: str
    admin: dict[str, str]
    data_dir: Path = Path()  # the server's, where a basemap file may be put

    def api(self, path: str, **kw: Any) -> httpx.Response:
        return httpx.get(f"{self.base}/api/v1{path}", headers=self.admin, timeout=10, **kw)

    def send(self, method: str, path: str, **kw: Any) -> httpx.Response:
        headers = {**self.admin, **kw.pop("headers", {})}
        return httpx.request(method, f"{self.base}/api/v1{path}", headers=headers, timeout=10, **kw)

    def observations(self) -> list[dict[str, Any]]:
        r = self.api("/observations", params={"walk_id": self.walk_id, "limit": 100})
        assert r.status_code == 200, r.text
        items: list[dict[str, Any]] = r.json()["items"]
        return items


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


def phone(browser: Any, *, locale: str = "en-GB", **kw: Any) -> Any:
    """A phone-sized context with the position granted and emulated."""
    return browser.new_context(
        viewport={"width": 390, "height": 844},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale=locale,
        geolocation={"latitude": LAT, "longitude": LON, "accuracy": 8},
        permissions=["geolocation"],
        **kw,
    )
