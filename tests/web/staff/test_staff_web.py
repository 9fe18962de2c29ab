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
    assert violations == [], [
        (v["id"], v["help"], [n["target"] for n in v["nodes"]][:3]) for v in violations
    ]


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
        "observations",
        "action-items",
        "areas",
        "hotspots",
    }
    canvas = page.locator("canvas.maplibregl-canvas")
    shot = canvas.screenshot()
    page.screenshot(path=str(artifacts / f"staff-planner-map-{backend}.png"))
    from io import BytesIO

    from PIL import Image

    img = Image.open(BytesIO(shot)).convert("RGB")
    colours = img.getcolors(maxcolors=1_000_000)
    assert colours is not None
    assert len(colours) > 10, "the map canvas is blank"

    page.get_by_role("combobox", name="Category").select_option("lighting")
    page.wait_for_url(re.compile(r"category=lighting"))
    main.and_(page.locator("[data-state=idle]")).wait_for(timeout=20_000)
    after = int(count.get_attribute("data-observations"))
    assert after == 2
    assert after != before
    assert page.console_errors == []
    _no_serious_axe(page)


def test_engineer_resolves_an_item_in_two_actions(
    page: Any, site: Site, artifacts: Path, backend: str
) -> None:
    with site.api("coordinator") as coord:
        items = coord.get("/api/v1/action-items", params={"category": "lighting"}).json()["items"]
        assert len(items) == 1  # the two lamp posts 25 m apart are one item
        item = items[0]
        assert item["status"] == "new"  # forward moves skip states: the engineer resolves at once

    sign_in(page, site, "engineer")
    page.wait_for_url(re.compile(r"#/items"))
    table = page.get_by_role("table", name="Action items")
    link = table.get_by_role("link", name=item["title"])
    link.wait_for()
    page.screenshot(path=str(artifacts / f"staff-engineer-home-{backend}.png"), full_page=True)
    _no_serious_axe(page)
    link.click()

    note = "Replaced the lamp and the photocell"
    # The two actions after opening the item: the note, then the one button.
    page.get_by_role("textbox", name="Resolution note").fill(note)
    page.get_by_role("button", name="Resolve", exact=True).click()
    page.get_by_role("status").filter(has_text="Item moved to Resolved").wait_for()
    page.screenshot(path=str(artifacts / f"staff-engineer-item-{backend}.png"), full_page=True)
    _no_serious_axe(page)

    with site.api("engineer") as eng:
        after = eng.get(f"/api/v1/action-items/{item['id']}").json()
        assert after["status"] == "resolved"
        assert after["resolution_note"] == note
        history = eng.get(f"/api/v1/action-items/{item['id']}/history").json()
        last = [e for e in history if e["to_status"]][-1]
        assert (last["from_status"], last["to_status"]) == ("new", "resolved")
        assert "engineer@sandnes.example" in last["actor"]
    assert page.console_errors == []


GPX = b"""<?xml version="1.0" encoding="UTF-8"?>
<gpx version="1.1" creator="test" xmlns="http://www.topografix.com/GPX/1/1">
  <trk><name>Sentrum</name><trkseg>
    <trkpt lat="58.8505" lon="5.7310"/><trkpt lat="58.8517" lon="5.7352"/>
    <trkpt lat="58.8530" lon="5.7390"/>
  </trkseg></trk>
</gpx>"""


def test_coordinator_creates_a_walk_prints_the_qr_and_watches_it_live(
    page: Any, site: Site, artifacts: Path, backend: str
) -> None:
    import zxingcpp
    from PIL import Image

    sign_in(page, site, "coordinator")
    page.wait_for_url(re.compile(r"#/walks"))
    page.get_by_role("table", name="Walks").get_by_role("row").nth(1).wait_for()
    page.screenshot(path=str(artifacts / f"staff-coordinator-home-{backend}.png"), full_page=True)
    _no_serious_axe(page)

    title = f"Night walk {backend}"
    page.get_by_role("link", name="New walk").click()
    page.get_by_role("textbox", name="Title").fill(title)
    page.get_by_label("Area").select_option(label="Sentrum")
    page.get_by_label("Route file (GeoJSON or GPX)").set_input_files(
        {"name": "route.gpx", "mimeType": "application/gpx+xml", "buffer": GPX}
    )
    page.get_by_role("status").filter(has_text="Route: 3 points.").wait_for()
    page.get_by_role("button", name="Create walk").click()

    page.wait_for_url(re.compile(r"#/walks/[\w-]+/join"))
    walk_id = page.url.split("#/walks/")[1].split("/")[0]
    qr = page.get_by_role("img", name=re.compile("QR code"))
    qr.wait_for()
    page.wait_for_function("() => document.querySelector('img.qr').naturalWidth > 0")
    from io import BytesIO

    decoded = zxingcpp.read_barcodes(Image.open(BytesIO(qr.screenshot())))
    assert decoded, "no QR code found in the rendered image"
    code = page.locator(".join-code").inner_text()
    assert decoded[0].text == f"{site.base}/j/{code}"
    page.screenshot(
        path=str(artifacts / f"staff-coordinator-join-sheet-{backend}.png"), full_page=True
    )
    _no_serious_axe(page)

    with site.api("coordinator") as coord:
        walk = coord.get(f"/api/v1/walks/{walk_id}").json()
        assert walk["join_code"] == code
        assert walk["route"]["coordinates"] == [
            [5.731, 58.8505],
            [5.7352, 58.8517],
            [5.739, 58.853],
        ]

    page.get_by_role("link", name="Back to walks").click()
    page.get_by_role("button", name=f"Start {title}").click()
    page.get_by_role("status").filter(has_text="Running").wait_for()
    page.get_by_role("link", name=f"Live view of {title}").click()
    page.get_by_role("status").filter(has_text="0 observations").wait_for()

    note = f"Broken fence by the school {time.monotonic()}"
    with site.api("coordinator") as coord:
        coord.put(
            "/api/v1/observations/"
            + (obs := observation(walk_id, 5.736, 58.852, "damaged_fixture", note))["id"],
            json=obs,
        ).raise_for_status()
    posted = time.monotonic()
    page.get_by_text(note).wait_for(timeout=15_000)
    assert time.monotonic() - posted <= 15
    page.screenshot(path=str(artifacts / f"staff-coordinator-live-{backend}.png"), full_page=True)
    assert page.console_errors == []


def test_sign_out_expiry_and_bokmal(page: Any, site: Site, artifacts: Path, backend: str) -> None:
    sign_in(page, site, "admin")
    page.wait_for_url(re.compile(r"#/admin/users"))
    page.get_by_role("table", name="Staff accounts").get_by_role("row").nth(1).wait_for()
    page.screenshot(path=str(artifacts / f"staff-admin-home-{backend}.png"), full_page=True)
    _no_serious_axe(page)
    # The token lives in this tab only.
    assert page.evaluate("() => Object.keys(localStorage).filter(k => k.includes('token'))") == []
    assert page.evaluate("() => sessionStorage.getItem('safewalk.staff.token')")

    page.get_by_role("button", name="Sign out").click()
    page.get_by_text("You are signed out.").wait_for()
    assert page.evaluate("() => sessionStorage.getItem('safewalk.staff.token')") is None

    sign_in(page, site, "planner")
    # A token the server no longer accepts (expired, or the account deactivated) signs out
    # with a message instead of failing silently.
    page.evaluate("() => sessionStorage.setItem('safewalk.staff.token', 'e30.e30.x')")
    page.goto(f"{site.base}/#/charts")
    page.get_by_text("Your session has expired. Please sign in again.").wait_for()

    page.get_by_role("combobox", name="Language").select_option("nb")
    page.get_by_role("textbox", name="E-post").fill(site.emails["engineer"])
    page.get_by_role("textbox", name="Passord").fill("correct horse battery staple")
    page.get_by_role("button", name="Logg inn").click()
    page.get_by_role("table", name="Tiltak").wait_for()
    assert page.evaluate("() => document.documentElement.lang") == "nb"
    page.evaluate("() => localStorage.removeItem('safewalk.staff.lang')")
