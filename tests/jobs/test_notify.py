"""The sender as a job: ``safewalk notify`` does one pass, ``serve`` runs one every period (off at
0), and of several replicas asking at once exactly one runs the period's pass."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from sqlalchemy import select

from api import cli
from api.core.db import create_db_engine, make_sessionmaker
from api.jobs import notify
from api.settings import get_settings
from models import Organization, Role
from models.notices import Delivery, Notice, NoticeKind, OutboxState
from tests.factories import make_user
from tests.factories.notices import Inbox


def _run_lifespan(app: Any, seconds: float) -> None:
    async def main() -> None:
        async with notify.notify_lifespan(app):
            await anyio.sleep(seconds)

    errors: list[BaseException] = []

    def run() -> None:
        try:
            anyio.run(main)
        except BaseException as exc:  # handed back to the test
            errors.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=30)
    assert errors == []


@pytest.mark.parametrize(("every", "expect_runs"), [(0.0, False), (0.05, True)])
def test_the_loop_runs_only_when_configured(
    app: Any, monkeypatch: pytest.MonkeyPatch, every: float, expect_runs: bool
) -> None:
    calls: list[float] = []

    def fake_pass(_app: Any, _every: float) -> None:
        calls.append(time.monotonic())
        raise RuntimeError("a failing pass is logged and the loop goes on")

    monkeypatch.setattr(notify, "run_if_claimed", fake_pass)
    app.state.settings = app.state.settings.model_copy(update={"notify_seconds": every})
    _run_lifespan(app, 0.4)
    assert (len(calls) >= 2) is expect_runs


def test_of_replicas_asking_at_once_one_runs_the_pass(
    live: tuple[Any, Any, dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    app, _factory, _ids = live
    ran: list[str] = []
    real = notify.run_once

    def counted(*args: Any, **kw: Any) -> Any:
        ran.append(threading.current_thread().name)
        return real(*args, **kw)

    monkeypatch.setattr(notify, "run_once", counted)
    barrier = threading.Barrier(4)
    results: list[Any] = []

    def replica() -> None:
        barrier.wait()
        results.append(notify.run_if_claimed(app, 30.0))

    threads = [threading.Thread(target=replica, name=f"replica-{i}") for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(results) == 4
    assert len(ran) == 1
    assert sum(r is not None for r in results) == 1
    # The next period's pass is not due yet for anyone.
    assert notify.run_if_claimed(app, 30.0) is None


@pytest.fixture
def env(fresh_db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("SAFEWALK_DATABASE_URL", fresh_db_url)
    monkeypatch.setenv("SAFEWALK_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    yield fresh_db_url
    get_settings.cache_clear()


def test_safewalk_notify_sends_what_waits(
    env: str, inbox: Inbox, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        cli.main(["init", "--org", "Sandnes", "--admin-email", "admin@sandnes.example",
                  "--admin-password", "correct horse battery"])
        == 0
    )  # fmt: skip
    engine = create_db_engine(env)
    try:
        with make_sessionmaker(engine)() as s:
            org = s.scalars(select(Organization)).one()
            user = make_user(s, org, Role.engineer, email="lys@sandnes.example")
            s.add(
                Notice(
                    organization_id=org.id, user_id=user.id, kind=NoticeKind.assigned,
                    delivery=Delivery.immediate,
                    payload={"title": "Dårlig belysning – Sentrum", "item_id": str(user.id)},
                )
            )  # fmt: skip
            s.commit()
        monkeypatch.setenv("SAFEWALK_SMTP_URL", inbox.url)
        get_settings.cache_clear()
        assert cli.main(["notify"]) == 0
        assert "1 mails" in capsys.readouterr().out
        assert [r.rcpt_tos for r in inbox.messages] == [["lys@sandnes.example"]]
        assert inbox.messages[0].message["Subject"] == "Tildelt deg: Dårlig belysning – Sentrum"
        with make_sessionmaker(engine)() as s:
            assert s.scalars(select(Notice)).one().state == OutboxState.sent
    finally:
        engine.dispose()
