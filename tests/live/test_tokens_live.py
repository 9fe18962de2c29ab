"""QGIS asks for six tiles at once with one personal access token: every one answers.

A token's ``last_used_at`` used to be written inside the request's own transaction when it
was a minute old. On SQLite that turned the six reads into six writers: one won, the others
found the database changed under their read snapshot ("database is locked", 503). The time is
now recorded after the response, on a transaction of its own that never waits for the lock.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from api.auth import tokens as token_service
from api.core.db import create_db_engine, make_sessionmaker
from models import PersonalAccessToken, Role, utcnow
from models.tokens import TokenCreate
from tests.factories import make_user, sandnes_walk
from tests.factories.databases import DatabaseFactory
from tests.factories.live_server import LiveServer
from tests.factories.seed import seed

# A QGIS canvas over Sandnes sentrum: eight z16 tiles, every one holding observations.
TILES = [(16, x, y) for x in (33810, 33811, 33812, 33813) for y in (19442, 19443)]
ROUNDS = 3
STALE = timedelta(hours=1)


def _seed(url: str) -> dict[str, Any]:
    with sandnes_walk(url) as (s, org, area, walk):
        user = make_user(s, org, Role.planner)
        seed(s, org, walk, area, observations=2000, items=100)
        made = token_service.create_token(s, user, TokenCreate(name="QGIS"))
        s.commit()
        return {"secret": made.secret, "id": made.id}


def _last_used(factory: Any, token_id: Any) -> Any:
    with factory() as s:
        token = s.get(PersonalAccessToken, token_id)
        assert token is not None
        return token.last_used_at


def _make_stale(factory: Any, token_id: Any) -> Any:
    stale = utcnow() - STALE
    with factory() as s:
        s.execute(
            update(PersonalAccessToken)
            .where(PersonalAccessToken.id == token_id)
            .values(last_used_at=stale)
        )
        s.commit()
    return stale


@pytest.fixture(scope="module")
def qgis(
    databases: DatabaseFactory, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[LiveServer, str, dict[str, Any]]]:
    """The seeded database (2,000 observations, a planner's token) and its server, shared by
    the module's tests per backend: both only read, apart from the token's ``last_used_at``,
    which the first test sets itself before every round."""
    url = databases.migrated_url()
    seeded = _seed(url)
    with LiveServer(url, tmp_path_factory.mktemp("qgis")) as live:
        yield live, url, seeded


def test_parallel_tiles_with_a_stale_token_all_answer(
    qgis: tuple[LiveServer, str, dict[str, Any]],
) -> None:
    live, url, seeded = qgis
    engine = create_db_engine(url)
    factory = make_sessionmaker(engine)
    auth = httpx.BasicAuth("qgis", seeded["secret"])
    try:
        with httpx.Client(base_url=live.base, timeout=60, auth=auth) as warm:
            assert warm.get("/tiles/observations.json").status_code == 200
        for _ in range(ROUNDS):
            stale = _make_stale(factory, seeded["id"])

            def get(tile: tuple[int, int, int]) -> httpx.Response:
                z, x, y = tile
                # A client per request: parallel connections, as QGIS opens them.
                with httpx.Client(base_url=live.base, timeout=60, auth=auth) as c:
                    return c.get(f"/tiles/observations/{z}/{x}/{y}.mvt")

            with ThreadPoolExecutor(len(TILES)) as pool:
                answers = list(pool.map(get, TILES))
            statuses = [r.status_code for r in answers]
            assert all(s in (200, 204) for s in statuses), (statuses, answers[0].text)
            assert any(s == 200 for s in statuses)
            # Recorded eventually (after the responses), and only forwards.
            deadline = time.monotonic() + 15
            while _last_used(factory, seeded["id"]) == stale and time.monotonic() < deadline:
                time.sleep(0.1)
            recorded = _last_used(factory, seeded["id"])
            assert recorded > stale + STALE - timedelta(minutes=1), live.log()
    finally:
        engine.dispose()


def test_gdal_reads_a_map_feed_with_the_token_as_basic_password(
    qgis: tuple[LiveServer, str, dict[str, Any]],
) -> None:
    """docs/interoperability.md's one-liner: /vsicurl/ with GDAL_HTTP_AUTH=BASIC, as QGIS's
    "Add vector layer" does with a Basic authentication configuration."""
    pyogrio = pytest.importorskip("pyogrio")
    live, _url, seeded = qgis
    feed = f"/vsicurl/{live.base}/api/v1/map/observations?limit=10000"
    options = {"GDAL_HTTP_AUTH": "BASIC", "GDAL_HTTP_USERPWD": f"me:{seeded['secret']}"}
    pyogrio.set_gdal_config_options(options)
    try:
        info = pyogrio.read_info(feed)
    finally:
        pyogrio.set_gdal_config_options(dict.fromkeys(options))
    assert info["features"] == 2000
    assert info["geometry_type"] == "Point"
