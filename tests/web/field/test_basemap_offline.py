"""The field app keeps the basemap of the walk's area at join: with the network gone, the map
still draws the imported basemap's tiles, from the service worker's cache."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from api.outputs.basemap import service
from tests.factories.field_app import Field, join, phone
from tests.factories.pixels import stripe_share
from tests.factories.tilesets import area_tiles, make_mbtiles

CACHED = """async () => {
  const cache = await caches.open('safewalk-basemap');
  return (await cache.keys()).map((r) => r.url);
}"""


def test_the_walk_area_basemap_works_offline(
    browser: Any, field: Field, artifacts: Path, tmp_path: Path, backend: str
) -> None:
    service.import_file(
        make_mbtiles(tmp_path / "town.mbtiles", area_tiles(range(12, 18))), field.data_dir
    )
    context = phone(browser)
    page = context.new_page()
    join(page, field)
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    kept: list[str] = []
    for _ in range(120):  # the deepest zoom is kept last
        kept = page.evaluate(CACHED)
        if any("/basemap/17/" in url for url in kept):
            break
        page.wait_for_timeout(500)
    assert all(url.startswith(f"{field.base}/basemap/") for url in kept)
    assert any(url.startswith(f"{field.base}/basemap/17/") for url in kept)
    page.reload()  # now controlled by the worker, which answers /basemap/ from the cache
    page.get_by_role("button", name="Poor lighting").wait_for()

    context.set_offline(True)
    page.get_by_role("button", name="Place on map").click()
    canvas = page.locator("#map canvas")
    canvas.wait_for()
    shot = canvas.screenshot()
    for _ in range(40):
        if stripe_share(shot) > 0.3:
            break
        page.wait_for_timeout(250)
        shot = canvas.screenshot()
    page.screenshot(path=str(artifacts / f"field-map-offline-basemap-{backend}.png"))
    assert stripe_share(shot) > 0.3, "the walk area's basemap is not drawn offline"
    context.close()
