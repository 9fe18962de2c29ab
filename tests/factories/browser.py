"""Chromium for the browser tests: whether it is there (a skip, or a failure under
``SAFEWALK_REQUIRE_BROWSER=1``), and axe-core run on a page."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


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


def axe_violations(page: Any, impacts: tuple[str, ...] = ("serious", "critical")) -> list[Any]:
    """Run axe-core (from npm, served by nobody: injected by the test) on the page."""
    # Evaluated rather than added as a <script>: the apps' CSP rightly refuses inline scripts.
    page.evaluate(AXE_JS.read_text(encoding="utf-8") + "\n;0")
    result = page.evaluate(
        "async () => await axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']})"
    )
    return [v for v in result["violations"] if v.get("impact") in impacts]
