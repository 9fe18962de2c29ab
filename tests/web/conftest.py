"""Browser fixtures shared by the field app and staff web tests.

Chromium is Debian's (``/usr/bin/chromium``; ``playwright install`` cannot download here),
driven by Playwright for Python against a real ``safewalk serve`` on a loopback port, on each
database. Without Chromium the tests skip with a message; ``SAFEWALK_REQUIRE_BROWSER=1`` (set by
``.ci/run``) turns that skip into a failure. Screenshots go to ``test-artifacts/`` (not committed).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.factories.databases import DatabaseFactory
from tests.live.server import LiveServer

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
AXE_JS = ROOT / "web" / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = os.environ.get("SAFEWALK_CHROMIUM", "/usr/bin/chromium")
REQUIRE_BROWSER = os.environ.get("SAFEWALK_REQUIRE_BROWSER") == "1"


def _browser_unavailable_reason() -> str | None:
    if not Path(CHROMIUM).exists() and not shutil.which(CHROMIUM):
        return f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed (pip install playwright)"
    if not AXE_JS.exists():
        return "web dependencies are not installed (make web)"
    return None


def require_browser() -> None:
    reason = _browser_unavailable_reason()
    if reason is None:
        return
    if REQUIRE_BROWSER:
        pytest.fail(f"browser required (SAFEWALK_REQUIRE_BROWSER=1) but: {reason}")
    pytest.skip(f"browser test skipped: {reason}")


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


def axe_violations(page: Any, impacts: tuple[str, ...] = ("serious", "critical")) -> list[Any]:
    """Run axe-core (from npm, served by nobody: injected by the test) on the page."""
    # Evaluated rather than added as a <script>: the apps' CSP rightly refuses inline scripts.
    page.evaluate(AXE_JS.read_text(encoding="utf-8") + "\n;0")
    result = page.evaluate(
        "async () => await axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']})"
    )
    return [v for v in result["violations"] if v.get("impact") in impacts]
