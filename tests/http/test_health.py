"""Liveness and readiness."""

from __future__ import annotations

from api.app import create_app
from api.core.db import create_db_engine
from api.settings import Settings
from tests.factories.client import SyncClient


def test_healthz(client: SyncClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}


def test_readyz_checks_the_database(client: SyncClient) -> None:
    r = client.get("/readyz")
    assert r.status_code == 200
    assert r.json()["database"] == "ok"


def test_readyz_reports_an_unreachable_database() -> None:
    url = "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1"
    app = create_app(Settings(database_url=url), engine=create_db_engine(url))
    with SyncClient(app) as c:
        r = c.get("/readyz")
    assert r.status_code == 503
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["database"] == "OperationalError"
