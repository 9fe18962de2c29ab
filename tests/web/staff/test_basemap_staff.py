"""The staff map on the service's own basemap, in a real browser on each database: without a
basemap the map says so; once a file is imported its tiles are requested from this origin
only and drawn (the screenshot's pixels are the tiles' stripes, and vary)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from api.outputs.basemap import service
from tests.factories.browser import axe_violations
from tests.factories.pixels import stripe_share, variance
from tests.factories.staff_web import Site, sign_in
from tests.factories.tilesets import area_tiles, make_mbtiles


def _map_idle(page: Any) -> None:
    page.locator("main#main").and_(page.locator("[data-state=idle]")).wait_for(timeout=20_000)


def test_the_map_draws_the_imported_basemap(
    page: Any, site: Site, artifacts: Path, backend: str, tmp_path: Path
) -> None:
    sign_in(page, site, "planner")
    page.wait_for_url(re.compile(r"#/map"))
    _map_idle(page)
    note = page.get_by_role("note")
    note.wait_for()
    assert "No basemap is set up" in note.inner_text()
    violations = axe_violations(page)
    assert violations == [], [(v["id"], v["help"]) for v in violations]
    canvas = page.locator("canvas.maplibregl-canvas")
    blank = canvas.screenshot()
    assert stripe_share(blank) < 0.01

    service.import_file(
        make_mbtiles(tmp_path / "town.mbtiles", area_tiles(range(10, 18))), site.server.data_dir
    )
    tiles: list[tuple[str, int]] = []
    page.on(
        "response",
        lambda r: tiles.append((r.url, r.status)) if "/basemap/" in r.url else None,
    )
    page.reload()
    _map_idle(page)
    page.wait_for_function("document.querySelectorAll('.map-note').length === 0")
    # Tiles arrive in the map's worker; wait until the drawing has them.
    page.wait_for_timeout(500)
    deadline = 40
    shot = canvas.screenshot()
    while stripe_share(shot) < 0.15 and deadline:
        page.wait_for_timeout(250)
        shot = canvas.screenshot()
        deadline -= 1
    page.screenshot(path=str(artifacts / f"staff-map-basemap-{backend}.png"))
    requested = [url for url, _ in tiles if re.search(r"/basemap/\d+/\d+/\d+\.png", url)]
    assert requested, tiles
    assert all(url.startswith(f"{site.base}/basemap/") for url, _ in tiles), tiles
    assert {status for url, status in tiles if url in requested} <= {200, 204, 304}
    # The areas are filled over part of it: a good share of stripes still shows.
    assert stripe_share(shot) > 0.15, "the basemap's tiles are not drawn"
    assert variance(shot) > 2 * variance(blank) + 100
    assert page.get_by_role("note").count() == 0
    assert page.console_errors == []
