"""Throttles that hold, against a real server: the address is the socket's, not a header's,
and nobody can lock an account out by failing to sign in to it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.core.db import create_db_engine, make_sessionmaker
from models import Role
from tests.factories import PASSWORD, make_org, make_user
from tests.factories.databases import DatabaseFactory
from tests.factories.live_server import LiveServer


def _seed(url: str) -> str:
    engine = create_db_engine(url)
    try:
        with make_sessionmaker(engine)() as s:
            org = make_org(s, "Sandnes")
            admin = make_user(s, org, Role.admin)
            s.commit()
            return admin.email
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def seeded(databases: DatabaseFactory) -> tuple[str, str]:
    url = databases.migrated_url()
    return url, _seed(url)


@pytest.fixture(scope="module")
def server(
    seeded: tuple[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[LiveServer, str]]:
    """One plain server per module and backend. Its tests do not share a throttle bucket:
    each sends from loopback addresses of its own (127.0.0.1 joins; 127.0.0.2 and 127.0.0.3
    sign in), and the proxied server below is a server of its own."""
    url, email = seeded
    with LiveServer(url, tmp_path_factory.mktemp("plain")) as s:
        yield s, email


def _from(address: str, base: str) -> httpx.Client:
    """A client whose socket comes from ``address`` (any 127.x address is loopback on Linux)."""
    return httpx.Client(
        base_url=base, transport=httpx.HTTPTransport(local_address=address), timeout=30
    )


def test_spoofed_forwarded_for_does_not_escape_the_join_throttle(
    server: tuple[LiveServer, str],
) -> None:
    live, _ = server
    with _from("127.0.0.1", live.base) as c:
        statuses = [
            c.post(
                "/api/v1/walks/join",
                json={"code": "WRONGCDE", "group": "youth"},
                headers={"X-Forwarded-For": f"198.51.100.{i}"},
            ).status_code
            for i in range(15)
        ]
    assert statuses[:10] == [404] * 10
    assert set(statuses[10:]) == {429}


def test_right_password_from_a_fresh_address_signs_in_after_another_failed(
    server: tuple[LiveServer, str],
) -> None:
    live, email = server
    with _from("127.0.0.2", live.base) as attacker:
        for _ in range(10):
            r = attacker.post("/api/v1/auth/token", data={"username": email, "password": "nope"})
            assert r.status_code == 401
        blocked = attacker.post("/api/v1/auth/token", data={"username": email, "password": "x"})
        assert blocked.status_code == 429
        assert int(blocked.headers["Retry-After"]) > 0
        # Even the right password waits from the address that failed.
        again = attacker.post("/api/v1/auth/token", data={"username": email, "password": PASSWORD})
        assert again.status_code == 429
    with _from("127.0.0.3", live.base) as owner:
        r = owner.post("/api/v1/auth/token", data={"username": email, "password": PASSWORD})
        assert r.status_code == 200, r.text
        assert r.json()["access_token"]


def test_trusted_proxy_forwarded_for_is_believed(seeded: tuple[str, str], tmp_path: Path) -> None:
    url, _ = seeded
    env = {"SAFEWALK_TRUSTED_PROXIES": "127.0.0.1"}
    with LiveServer(url, tmp_path / "proxied", env=env) as live, _from("127.0.0.1", live.base) as c:

        def join(client_ip: str) -> Any:
            return c.post(
                "/api/v1/walks/join",
                json={"code": "WRONGCDE", "group": "youth"},
                headers={"X-Forwarded-For": client_ip},
            ).status_code

        assert [join("203.0.113.5") for _ in range(11)][-1] == 429
        # Another client behind the same proxy has its own allowance.
        assert join("203.0.113.6") == 404
        # A client behind the proxy cannot pick its bucket by prepending a hop.
        assert join("198.51.100.77, 203.0.113.5") == 429
