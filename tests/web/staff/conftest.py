"""A seeded site for the staff web tests: one live server per database backend, shared by
the module's scenarios (a server start and a seed cost seconds; the scenarios do not collide:
each works on its own walk or item)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.core.db import create_db_engine, make_sessionmaker
from models import Role
from tests.factories import PASSWORD, make_area, make_org, make_user
from tests.factories.browser import require_browser
from tests.factories.databases import DatabaseFactory
from tests.factories.live_server import LiveServer
from tests.factories.staff_web import SPOTS, Site, observation


def seed(url: str) -> tuple[dict[str, str], str]:
    engine = create_db_engine(url)
    try:
        with make_sessionmaker(engine)() as session:
            org = make_org(session, "Sandnes kommune")
            emails = {}
            for role in Role:
                user = make_user(
                    session, org, role, email=f"{role.value}@sandnes.example", display_name=None
                )
                emails[role.value] = user.email
            area = make_area(session, org, "Sentrum")
            session.commit()
            return emails, str(area.id)
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def site(databases: DatabaseFactory, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    require_browser()
    url = databases.migrated_url()
    emails, area_id = seed(url)
    with LiveServer(url, tmp_path_factory.mktemp("staff") / "data") as server:
        tokens = {}
        for role, email in emails.items():
            r = httpx.post(
                f"{server.base}/api/v1/auth/token", data={"username": email, "password": PASSWORD}
            )
            r.raise_for_status()
            tokens[role] = r.json()["access_token"]
        coord = {"Authorization": f"Bearer {tokens['coordinator']}"}
        route = {
            "type": "LineString",
            "coordinates": [[5.730, 58.850], [5.736, 58.852], [5.741, 58.854]],
        }
        walk = (
            httpx.post(
                f"{server.base}/api/v1/walks",
                json={"title": "Evening walk, Sentrum", "area_id": area_id, "route": route},
                headers=coord,
            )
            .raise_for_status()
            .json()
        )
        httpx.patch(
            f"{server.base}/api/v1/walks/{walk['id']}", json={"status": "active"}, headers=coord
        ).raise_for_status()
        batch = [observation(walk["id"], *spot) for spot in SPOTS]
        r = httpx.post(
            f"{server.base}/api/v1/observations/batch", json={"observations": batch}, headers=coord
        ).raise_for_status()
        assert {i["status"] for i in r.json()["results"]} == {"created"}, r.json()
        yield Site(server=server, emails=emails, tokens=tokens, area_id=area_id, walk_id=walk["id"])


@pytest.fixture
def page(browser: Any, site: Site, artifacts: Path) -> Iterator[Any]:
    """A fresh tab (own sessionStorage) that fails the test on console errors."""
    context = browser.new_context(viewport={"width": 1280, "height": 860}, locale="en-GB")
    pg = context.new_page()
    errors: list[str] = []
    pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.console_errors = errors
    yield pg
    context.close()
