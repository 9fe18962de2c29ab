"""The staff web in a real browser (Chromium via Playwright) against a live server, on each
database: the engineer resolves an item, the coordinator runs a walk, the planner reads the map."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import httpx

from tests.web.conftest import axe_violations
from tests.web.staff.conftest import Site, observation, sign_in


def _no_serious_axe(page: Any) -> None:
    violations = axe_violations(page)
    assert violations == [], [(v["id"], v["help"], [n["target"] for n in v["nodes"]][:3]) for v in violations]


def test_planner_map(page: Any, site: Site, artifacts: Path, backend: str) -> None:
    feeds: list[str] = []
    page.on("request", lambda r: feeds.append(r.url) if "/api/v1/map/" in r.url else None)
    sign_in(page, site, "planner")
    page.wait_for_url(re.compile(r"#/map"))
    main = page.locator("main#main")
    main.and_(page.locator("[data-state=idle]")).wait_for(timeout=20_000)
    count = page.locator("#map-count")
    before = int(count.get_attribute("data-observations"))
    assert before == 6
    assert {u.split("/api/v1/map/")[1].split("?")[0] for u in feeds} >= {
        "observations", "action-items", "areas", "hotspots",
    }
    canvas = page.locator("canvas.maplibregl-canvas")
    shot = canvas.screenshot()
    page.screenshot(path=str(artifacts / f"staff-planner-map-{backend}.png"))
    from io import BytesIO

    from PIL import Image

    img = Image.open(BytesIO(shot)).convert("RGB")
    colours = img.getcolors(maxcolors=1_000_000)
    assert colours is not None and len(colours) > 10, "the map canvas is blank"

    page.get_by_role("combobox", name="Category").select_option("lighting")
    page.wait_for_url(re.compile(r"category=lighting"))
    main.and_(page.locator("[data-state=idle]")).wait_for(timeout=20_000)
    after = int(count.get_attribute("data-observations"))
    assert after == 2 and after != before
    assert page.console_errors == []
    _no_serious_axe(page)
