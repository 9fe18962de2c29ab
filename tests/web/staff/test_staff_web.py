"""The staff web in a real browser (Chromium via Playwright) against a live server, on each
database: the engineer resolves an item and sets their notifications, the coordinator runs a
walk, the planner reads the map, on the service's own basemap once one is imported (its tiles
requested from this origin only and drawn: the screenshot's pixels are the tiles' stripes)."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

from api.outputs.basemap import service
from tests.factories.browser import axe_violations
from tests.factories.pixels import stripe_share, variance
from tests.factories.staff_web import Site, observation, sign_in
from tests.factories.tilesets import area_tiles, make_mbtiles


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
    with site.api("planner") as planner:
        everything = planner.get("/api/v1/map/observations").json()["features"]
        lighting = [f for f in everything if f["properties"]["category"] == "lighting"]
    assert before == len(everything) >= 6
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
    assert after == len(lighting) == 2
    assert after != before
    assert page.console_errors == []
    _no_serious_axe(page)

    # The chosen area's action list in every format the service offers: the Excel one here.
    page.get_by_role("combobox", name="Area").select_option(index=1)
    main.and_(page.locator("[data-state=idle]")).wait_for(timeout=20_000)
    with page.expect_download() as download:
        page.get_by_role("button", name="Chosen area's action list (Excel)").click()
    assert Path(download.value.path()).read_bytes()[:2] == b"PK"  # an .xlsx is a zip
    for fmt in ("CSV", "GeoPackage, for QGIS", "PDF"):
        assert page.get_by_role("button", name=f"Chosen area's action list ({fmt})").is_enabled()

    page.get_by_role("link", name="Follow-up").click()
    page.get_by_role("img", name="Items per area").wait_for()
    page.screenshot(path=str(artifacts / f"staff-planner-charts-{backend}.png"))
    _no_serious_axe(page)
    assert page.console_errors == []


def test_engineer_resolves_an_item_in_two_actions(
    page: Any, site: Site, artifacts: Path, backend: str
) -> None:
    with site.api("coordinator") as coord:
        items = coord.get("/api/v1/action-items", params={"category": "lighting"}).json()["items"]
        assert len(items) == 1  # the two lamp posts 25 m apart are one item
        item = items[0]
        assert item["status"] == "new"  # forward moves skip states: the engineer resolves at once

    page.set_viewport_size({"width": 390, "height": 844})  # the engineer's phone
    sign_in(page, site, "engineer")
    page.wait_for_url(re.compile(r"#/items"))
    table = page.get_by_role("table", name="Action items")
    link = table.get_by_role("link", name=item["title"])
    link.wait_for()
    page.screenshot(path=str(artifacts / f"staff-engineer-home-{backend}.png"))
    _no_serious_axe(page)
    link.click()

    note = "Replaced the lamp and the photocell"
    # The two actions after opening the item: the note, then the one button.
    page.get_by_role("textbox", name="Resolution note").fill(note)
    page.get_by_role("button", name="Resolve", exact=True).click()
    page.get_by_role("status").filter(has_text="Item moved to Resolved").wait_for()
    page.screenshot(path=str(artifacts / f"staff-engineer-item-{backend}.png"))
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


def _new_assigned_item(site: Site, lon: float, lat: float, note: str) -> dict[str, Any]:
    """A broken path of its own, assigned to the engineer (roads is not their department, so
    the lighting item the other scenario counts stays the only one)."""
    with site.api("admin") as admin:
        users = admin.get("/api/v1/users", params={"limit": 100}).json()["items"]
    engineer = next(u for u in users if u["email"] == site.emails["engineer"])
    with site.api("coordinator") as coord:
        body = observation(site.walk_id, lon, lat, "walkway", note)
        r = coord.post("/api/v1/observations/batch", json={"observations": [body]})
        assert r.json()["results"][0]["status"] == "created", r.text
        item_id = coord.get(f"/api/v1/observations/{body['id']}").json()["action_item_id"]
        read = coord.get(f"/api/v1/action-items/{item_id}")
        r = coord.patch(
            f"/api/v1/action-items/{item_id}",
            json={"assignee_id": engineer["id"]},
            headers={"If-Match": read.headers["ETag"]},
        )
        assert r.status_code == 200, r.text
        item: dict[str, Any] = r.json()
    assert item["status"] == "new"
    return item


def _fix_photo(tmp_path: Path) -> Path:
    from PIL import Image

    path = tmp_path / "fixed.jpg"
    Image.new("RGB", (640, 480), (240, 200, 40)).save(path, "JPEG")
    return path


def test_engineer_resolves_with_a_photo_the_first_time(
    page: Any, site: Site, artifacts: Path, backend: str, tmp_path: Path
) -> None:
    """The engineer's most common action: open the item, attach the photo of the fix, resolve.
    It works the first time; another person's change meanwhile still says so (412)."""
    item = _new_assigned_item(site, 5.7395, 58.8536, "Kerb stone loose by the bike shed")
    page.set_viewport_size({"width": 390, "height": 844})  # the engineer's phone
    sign_in(page, site, "engineer")
    page.goto(f"{site.base}/#/items/{item['id']}")
    page.get_by_role("heading", name=item["title"]).wait_for()
    page.get_by_label("Photo of the fix").set_input_files(str(_fix_photo(tmp_path)))
    page.get_by_role("button", name="Resolve", exact=True).click()
    page.get_by_role("status").filter(has_text="Item moved to Resolved").wait_for()
    page.get_by_role("img", name=re.compile("fix", re.I)).first.wait_for()
    page.screenshot(path=str(artifacts / f"staff-engineer-fix-photo-{backend}.png"))
    with site.api("engineer") as eng:
        after = eng.get(f"/api/v1/action-items/{item['id']}").json()
    assert after["status"] == "resolved"
    assert len(after["photos"]) == 1
    assert page.get_by_text("Someone changed this item meanwhile").count() == 0
    assert page.console_errors == []

    # Someone else changes the next item after the engineer opened it: refused, reloaded, and
    # the photo is no fix while the item is unresolved; the second try resolves it, one photo.
    other = _new_assigned_item(site, 5.7330, 58.8502, "Potholes by the school")
    page.goto(f"{site.base}/#/items/{other['id']}")
    page.get_by_role("heading", name=other["title"]).wait_for()
    with site.api("coordinator") as coord:
        tag = coord.get(f"/api/v1/action-items/{other['id']}").headers["ETag"]
        r = coord.patch(
            f"/api/v1/action-items/{other['id']}",
            json={"due_date": "2031-01-31"},
            headers={"If-Match": tag},
        )
        assert r.status_code == 200, r.text
    page.get_by_label("Photo of the fix").set_input_files(str(_fix_photo(tmp_path)))
    page.get_by_role("button", name="Resolve", exact=True).click()
    page.get_by_role("status").filter(has_text="Someone changed this item meanwhile").wait_for()
    page.get_by_role("listitem").filter(has_text="changed due date").wait_for()
    assert not page.get_by_text("You cannot move this item now.").is_visible()
    page.screenshot(path=str(artifacts / f"staff-engineer-stale-{backend}.png"))
    with site.api("engineer") as eng:
        meanwhile = eng.get(f"/api/v1/action-items/{other['id']}").json()
    assert (meanwhile["status"], meanwhile["photos"]) == ("new", [])
    page.get_by_role("button", name="Resolve", exact=True).click()
    page.get_by_role("status").filter(has_text="Item moved to Resolved").wait_for()
    with site.api("engineer") as eng:
        done = eng.get(f"/api/v1/action-items/{other['id']}").json()
        photo_events = [
            e
            for e in eng.get(f"/api/v1/action-items/{other['id']}/history").json()
            if e["kind"] == "photo"
        ]
    assert done["status"] == "resolved"
    assert len(done["photos"]) == 1
    assert len(photo_events) == 1  # the same photo, sent twice, stored once
    _no_serious_axe(page)
    # The browser logs the one refusal it was shown; nothing else went wrong.
    assert [e for e in page.console_errors if "412" not in e] == []
    assert len(page.console_errors) == 1


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
    page.screenshot(path=str(artifacts / f"staff-coordinator-home-{backend}.png"))
    _no_serious_axe(page)

    title = f"Night walk {backend}"
    page.get_by_role("link", name="New walk").click()
    page.get_by_role("textbox", name="Title").fill(title)
    page.get_by_label("Area").select_option(label="Sentrum")
    # A route drawn on the map, point by point...
    page.locator(".map[data-ready=true]").wait_for()
    canvas = page.locator("canvas.maplibregl-canvas")
    canvas.click(position={"x": 120, "y": 140})
    canvas.click(position={"x": 260, "y": 200})
    page.get_by_role("status").filter(has_text="Route: 2 points.").wait_for()
    # ...or uploaded, which replaces it.
    page.get_by_label("Route file (GeoJSON or GPX)").set_input_files(
        {"name": "route.gpx", "mimeType": "application/gpx+xml", "buffer": GPX}
    )
    page.get_by_role("status").filter(has_text="Route: 3 points.").wait_for()
    page.get_by_role("button", name="Create walk").click()

    page.wait_for_url(re.compile(r"#/walks/[\w-]+/join"))
    walk_id = page.url.split("#/walks/")[1].split("/")[0]
    qr = page.get_by_role("img", name=re.compile("QR code for joining"))
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
    page.screenshot(path=str(artifacts / f"staff-coordinator-live-{backend}.png"))
    assert page.console_errors == []


def test_sign_out_expiry_and_bokmal(page: Any, site: Site, artifacts: Path, backend: str) -> None:
    sign_in(page, site, "admin")
    page.wait_for_url(re.compile(r"#/admin/users"))
    page.get_by_role("table", name="Staff accounts").get_by_role("row").nth(1).wait_for()
    page.screenshot(path=str(artifacts / f"staff-admin-home-{backend}.png"))
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
    page.evaluate("() => localStorage.removeItem('safewalk.lang')")


AREAS = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "properties": {"navn": "Lura"},
            "geometry": {
                "type": "Polygon",
                "coordinates": [
                    [[5.74, 58.84], [5.76, 58.84], [5.76, 58.85], [5.74, 58.85], [5.74, 58.84]]
                ],
            },
        },
        {
            "type": "Feature",
            "properties": {"navn": "A point"},
            "geometry": {"type": "Point", "coordinates": [5.7, 58.8]},
        },
    ],
}


def test_coordinator_back_office(page: Any, site: Site, artifacts: Path, backend: str) -> None:
    import json

    sign_in(page, site, "coordinator")

    # Areas: all or nothing, with the refused feature named; then skip it.
    page.get_by_role("link", name="Areas").click()
    upload = {
        "name": "bydeler.geojson",
        "mimeType": "application/geo+json",
        "buffer": json.dumps(AREAS).encode(),
    }
    page.get_by_label("GeoJSON file").set_input_files(upload)
    page.get_by_role("textbox", name="Name property").fill("navn")
    page.get_by_role("button", name="Import").click()
    page.get_by_role("alert").filter(has_text="Nothing was imported").wait_for()
    # The point is the second feature, and the report counts from 1, as people do.
    page.get_by_text(re.compile(r"Feature 2: ")).wait_for()
    page.get_by_label("Skip features that cannot be used").check()
    page.get_by_role("button", name="Import").click()
    page.get_by_role("status").filter(has_text="1 area created, 0 updated.").wait_for()
    page.get_by_role("table", name="Areas").get_by_role("row", name=re.compile("Lura")).wait_for()
    _no_serious_axe(page)

    # Triage board: one item, department and due date, in one bulk request.
    with site.api("coordinator") as coord:
        graffiti = coord.get("/api/v1/action-items", params={"category": "graffiti"}).json()[
            "items"
        ][0]
    page.get_by_role("link", name="Triage").click()
    page.get_by_role("checkbox", name=f"Select {graffiti['title']}").check()
    page.get_by_label("Department", exact=True).select_option("property")
    page.get_by_label("Due date").fill("2027-01-15")
    page.get_by_role("button", name="Apply to selected").click()
    page.get_by_role("status").filter(has_text="1 items updated, 0 not.").wait_for()
    page.screenshot(path=str(artifacts / f"staff-coordinator-triage-{backend}.png"))
    _no_serious_axe(page)
    with site.api("coordinator") as coord:
        after = coord.get(f"/api/v1/action-items/{graffiti['id']}").json()
    assert (after["status"], after["department"], after["due_date"]) == (
        "triaged",
        "property",
        "2027-01-15",
    )

    # Review queue: with review first, a new observation waits; accept it with a reason.
    with site.api("admin") as admin:
        admin.patch("/api/v1/organization", json={"moderation_mode": "pre"}).raise_for_status()
    try:
        note = f"Bench missing slats {time.monotonic()}"
        obs = observation(site.walk_id, 5.7360, 58.8525, "damaged_fixture", note)
        with site.api("coordinator") as coord:
            coord.put(f"/api/v1/observations/{obs['id']}", json=obs).raise_for_status()
        page.get_by_role("link", name="Review queue").click()
        card = page.get_by_role("listitem").filter(has_text=note)
        card.get_by_role("textbox", name="Reason").fill("Seen it myself")
        card.get_by_role("button", name=re.compile("^Accept")).click()
        page.get_by_role("status").filter(has_text="Marked as Accepted.").wait_for()
        _no_serious_axe(page)
        with site.api("coordinator") as coord:
            stored = coord.get(f"/api/v1/observations/{obs['id']}").json()
        assert stored["moderation"] == "accepted"
    finally:
        with site.api("admin") as admin:
            admin.patch("/api/v1/organization", json={"moderation_mode": "post"}).raise_for_status()
    # The only failed request is the refused import (the browser logs every 4xx).
    assert page.console_errors == [
        "Failed to load resource: the server responded with a status of 422 (Unprocessable Entity)"
    ]


def test_admin_users_categories_and_settings(
    page: Any, site: Site, artifacts: Path, backend: str
) -> None:
    sign_in(page, site, "admin")
    email = f"new.engineer.{backend}@sandnes.example"
    page.get_by_role("textbox", name="Email").fill(email)
    page.get_by_label("Role", exact=True).select_option("engineer")
    # Departments are chosen by their label, never typed as a code.
    page.get_by_role("combobox", name="Department", exact=True).select_option(label="Parks")
    page.get_by_label("Initial password").fill("a long enough password")
    page.get_by_role("button", name="Create user").click()
    page.get_by_role("status").filter(has_text=f"{email} created.").wait_for()
    page.get_by_role("combobox", name=f"Role of {email}").select_option("planner")
    page.get_by_role("button", name=f"Save {email}").click()
    page.get_by_role("status").filter(has_text="Saved.").wait_for()
    page.get_by_role("button", name=f"Deactivate {email}").click()
    page.get_by_role("row", name=re.compile(re.escape(email))).get_by_text("Deactivated").wait_for()
    with site.api("admin") as admin:
        users = {u["email"]: u for u in admin.get("/api/v1/users").json()["items"]}
    assert (users[email]["role"], users[email]["is_active"]) == ("planner", False)
    assert users[email]["department"] == "parks"

    page.get_by_role("link", name="Categories").click()
    page.get_by_role("button", name="Save graffiti").wait_for()
    # A new category has no default department until one is chosen.
    assert page.get_by_role("combobox", name="Department", exact=True).input_value() == ""
    # A new department, named in the reader's language, is at once a choice for a category.
    page.get_by_role("textbox", name="Code").nth(1).fill(f"graffiti_team_{backend}")
    page.get_by_role("textbox", name="Label (English)").nth(1).fill(f"Graffiti team {backend}")
    page.get_by_role("button", name="Add department").click()
    page.get_by_role("status").filter(has_text="Saved.").wait_for()
    department = page.get_by_role("combobox", name="Default department of graffiti")
    department.select_option(label=f"Graffiti team {backend}")
    page.get_by_role("textbox", name="English label of graffiti").fill("Graffiti or tagging")
    page.get_by_role("textbox", name="Suomi label of graffiti").fill("")
    card = page.get_by_role("listitem").filter(has=page.get_by_role("button", name="Save graffiti"))
    card.get_by_text("All languages").wait_for()
    page.get_by_role("button", name="Save graffiti").click()
    # The card says how its save went, which language the category now lacks, and marks it.
    card.get_by_role("status").filter(has_text="Saved.").wait_for()
    card.get_by_text("Missing: Suomi").wait_for()
    assert "lacking" in (
        page.get_by_role("textbox", name="Suomi label of graffiti").get_attribute("class") or ""
    )
    page.screenshot(path=str(artifacts / f"staff-admin-categories-{backend}.png"))
    _no_serious_axe(page)

    page.get_by_role("link", name="Organization").click()
    page.get_by_label("Moderation").select_option("pre")
    page.get_by_label("Require a note to resolve an item").check()
    page.get_by_role("button", name="Save").click()
    page.get_by_role("status").filter(has_text="Saved.").wait_for()
    _no_serious_axe(page)
    with site.api("admin") as admin:
        org = admin.get("/api/v1/organization").json()
        cats = {c["code"]: c for c in admin.get("/api/v1/categories").json()["items"]}
        admin.patch(
            "/api/v1/organization",
            json={"moderation_mode": "post", "require_resolution_note": False},
        )
    assert (org["moderation_mode"], org["require_resolution_note"]) == ("pre", True)
    assert cats["graffiti"]["label_en"] == "Graffiti or tagging"
    assert cats["graffiti"]["default_department"] == f"graffiti_team_{backend}"
    assert cats["graffiti"]["missing_labels"] == ["fi"]
    assert page.console_errors == []


def test_an_engineer_sets_notifications(
    page: Any, site: Site, artifacts: Path, backend: str
) -> None:
    sign_in(page, site, "engineer")
    page.get_by_role("link", name="Notifications").click()
    page.get_by_role("heading", name="My notifications").wait_for()
    page.get_by_label("Items assigned to me").select_option("digest")
    page.get_by_label("New items in my department").select_option("off")
    page.get_by_label("Language of the mails").select_option("en")
    page.get_by_role("button", name="Save").click()
    page.get_by_role("status").filter(has_text="Saved.").wait_for()
    page.screenshot(path=str(artifacts / f"staff-notifications-{backend}.png"))
    violations = axe_violations(page)
    assert violations == [], [(v["id"], v["help"]) for v in violations]
    with site.api("engineer") as engineer:
        prefs = engineer.get("/api/v1/me/notifications").json()
    assert (prefs["assigned"], prefs["item_created"], prefs["comment"], prefs["language"]) == (
        "digest",
        "off",
        "immediate",
        "en",
    )

    try:
        # Signed in, the language chosen is the engineer's own, kept by the API.
        page.get_by_role("combobox", name="Language").first.select_option("nb")
        page.get_by_role("heading", name="Mine varsler").wait_for()
        assert page.get_by_label("Tiltak tildelt meg").input_value() == "digest"
        assert page.console_errors == []
    finally:
        # The module's other scenarios read the engineer's screens in English.
        with site.api("engineer") as engineer:
            engineer.patch("/api/v1/me", json={"language": None}).raise_for_status()


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

    imported, _ = service.import_file(
        make_mbtiles(tmp_path / "town.mbtiles", area_tiles(range(10, 18))), site.server.data_dir
    )
    try:
        tiles: list[tuple[str, int]] = []
        page.on(
            "response",
            lambda r: tiles.append((r.url, r.status)) if "/basemap/" in r.url else None,
        )
        page.reload()
        _map_idle(page)
        page.wait_for_function("document.querySelectorAll('.map-note').length === 0")
        # Tiles arrive in the map's worker; wait until the drawing has them.
        deadline = 42
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
    finally:
        # The module's other scenarios, and the check above, see the site without a basemap.
        imported.unlink()
