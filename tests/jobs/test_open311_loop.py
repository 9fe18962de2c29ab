"""The periodic sync inside the service (off by default) and the lease that keeps two passes
from posting one item twice."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from typing import Any

import anyio
import pytest
from sqlalchemy.orm import Session

from api.jobs import open311 as loop
from api.outputs.open311.client import _claim
from models import Open311Dispatch, utcnow
from tests.factories import make_category
from tests.factories.world import World


def _run_lifespan(app: Any, seconds: float) -> None:
    async def main() -> None:
        async with loop.open311_lifespan(app):
            await anyio.sleep(seconds)

    # In a thread of its own: Playwright's sync API may hold an event loop in this one.
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

    def fake_sync(factory: Any, **_kw: Any) -> Any:
        calls.append(time.monotonic())
        raise RuntimeError("a failing pass is logged and the loop goes on")

    monkeypatch.setattr(loop, "sync", fake_sync)
    app.state.settings = app.state.settings.model_copy(update={"open311_sync_seconds": every})
    _run_lifespan(app, 0.4)
    assert (len(calls) >= 2) is expect_runs
    if not expect_runs:
        assert calls == []


def test_a_claimed_row_is_not_claimed_again(session: Session, world: World) -> None:
    from api.core import spatial
    from models import ActionItem

    cat = make_category(session, world.org)
    item = ActionItem(
        organization_id=world.org.id, category_id=cat.id, title="x",
        location=spatial.to_db(spatial.point(5.73, 58.85)),
    )  # fmt: skip
    session.add(item)
    session.flush()
    now = utcnow()
    d = Open311Dispatch(organization_id=world.org.id, action_item_id=item.id, next_attempt_at=now)
    session.add(d)
    session.flush()
    assert _claim(session, d.id, now) is True
    assert _claim(session, d.id, now) is False  # leased to the first pass
    assert _claim(session, d.id, now + timedelta(hours=1)) is True  # the lease ran out
