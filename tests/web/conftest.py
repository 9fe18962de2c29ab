"""Browser fixtures shared by the field app and staff web tests.

Chromium is Debian's (``/usr/bin/chromium``; ``playwright install`` cannot download here),
driven by Playwright for Python against a real ``safewalk serve`` on a loopback port, on each
database. Without Chromium the tests skip with a message; ``SAFEWALK_REQUIRE_BROWSER=1`` (set by
``.ci/run``) turns that skip into a failure. Screenshots go to ``test-artifacts/`` (not committed).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.factories.browser import CHROMIUM, require_browser
from tests.factories.databases import DatabaseFactory
from tests.factories.live_server import LiveServer

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"


# Per module, not per session: Playwright's sync API keeps an event loop running in the main
# thread while it is open, and every later test calling asyncio.run() would then fail.
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        yield b
        b.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def live_db_url(databases: DatabaseFactory) -> str:
    """A fresh, migrated database of the current backend that a live server may commit to."""
    url = databases.migrated_url()
    return url


@pytest.fixture
def live_server(live_db_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    require_browser()
    with LiveServer(live_db_url, tmp_path / "data") as server:
        yield server
