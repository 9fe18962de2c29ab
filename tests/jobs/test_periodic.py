"""The service's background loops: off at 0, a failing pass logged and the next one run, the
daily purge checking once at start-up."""

from __future__ import annotations

import logging
import threading
from typing import Any

import anyio
import pytest

from api.jobs import periodic, purge


def _live(context: Any, seconds: float) -> None:
    async def main() -> None:
        async with context:
            await anyio.sleep(seconds)

    errors: list[BaseException] = []

    def run() -> None:  # a thread of its own: Playwright's sync API may hold this one's loop
        try:
            anyio.run(main)
        except BaseException as exc:  # handed back to the test
            errors.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=30)
    assert errors == []


@pytest.mark.parametrize(("seconds", "at_once", "least"), [(0.0, True, 0), (0.05, False, 2)])
def test_every(seconds: float, at_once: bool, least: int, caplog: pytest.LogCaptureFixture) -> None:
    calls: list[int] = []

    def work() -> None:
        calls.append(1)
        raise RuntimeError("boom")

    log = logging.getLogger("safewalk.test")
    _live(
        periodic.every(seconds, work, name="t", log=log, failed="pass failed", at_once=at_once), 0.3
    )
    assert len(calls) >= least
    if least == 0:
        assert calls == []
    else:
        assert "pass failed" in caplog.text


def test_the_daily_purge_checks_at_start(app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[Any] = []
    monkeypatch.setattr(purge, "run_if_due", calls.append)
    app.state.settings = app.state.settings.model_copy(
        update={"purge_daily": True, "purge_check_seconds": 3600}
    )
    _live(purge.purge_lifespan(app), 0.2)
    assert calls == [app]  # once at start, and not again within the hour
    app.state.settings = app.state.settings.model_copy(update={"purge_daily": False})
    _live(purge.purge_lifespan(app), 0.2)
    assert calls == [app]
