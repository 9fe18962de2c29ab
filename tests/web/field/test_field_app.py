"""The field app in Chromium against a real server, on SpatiaLite and PostGIS.

The scenario of the issue: join by the QR link with the position emulated; save five
observations (two with a photo) while every API request fails; reload; come back online through
answers that get lost on the way (the server stores, the phone never hears), so the queue must
resend; exactly five observations and two photos arrive, and stay five after more syncs; an
item the server refuses stays visible with its message and can be fixed.
"""

from __future__ import annotations

import io
import re
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from PIL import Image

from tests.factories.browser import axe_violations
from tests.factories.field_app import LAT, LON, Field, join, phone, save, sync_now, wait_status

CATEGORIES = [
    "Poor lighting",
    "Overgrown vegetation",
    "Graffiti or vandalism",
    "Litter or dumping",
    "Feels unsafe",
]


def jpeg(tmp: Path, name: str, size: tuple[int, int]) -> Path:
    path = tmp / name
    img = Image.new("RGB", size, (30, 60, 90))
    for x in range(0, size[0], 97):  # some detail, so the JPEG is not trivially small
        img.paste((200, 180, 40), (x, 0, x + 20, size[1]))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=90)
    path.write_bytes(buf.getvalue())
    return path


def test_offline_capture_arrives_exactly_once(
    browser: Any, field: Field, tmp_path: Path, artifacts: Path, backend: str
) -> None:
    context = phone(browser, service_workers="block")  # page.route must see every request
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    join(page, field)
    page.locator("#location-text", has_text="±").wait_for()

    # Offline: every API request fails.
    page.route("**/api/v1/**", lambda route: route.abort("internetdisconnected"))
    big = jpeg(tmp_path, "big.jpg", (3000, 2000))
    small = jpeg(tmp_path, "small.jpg", (800, 600))
    for i, category in enumerate(CATEGORIES):
        photo = big if i == 0 else small if i == 3 else None
        save(page, category, f"offline note {i}", photo)
    wait_status(page, "5 observations waiting")

    page.reload()
    page.get_by_role("button", name="Poor lighting").wait_for()  # the taxonomy, from the phone
    wait_status(page, "5 observations waiting")
    assert field.observations() == []

    # Back online, but the answers are lost: the server stores, the phone hears nothing.
    lost: list[str] = []

    def lose_answer(route: Any) -> None:
        route.fetch()  # reaches the server
        lost.append(f"{route.request.method} {route.request.url}")
        route.abort("connectionreset")

    # The newer route wins, so it goes in before the offline one comes out: a timer's retry in
    # between would otherwise reach the server and hear its answer.
    page.route("**/api/v1/observations/**", lose_answer)
    page.unroute("**/api/v1/**")
    sync_now(page)
    assert any("/observations/batch" in call for call in lost)
    assert len(field.observations()) == 5  # stored, but the phone does not know
    wait_status(page, "5 observations waiting")

    # The batch is answered now (all duplicates), but photo answers are still lost (the photos'
    # route goes in before the batch's comes out, as above).
    before = len(lost)
    page.route(re.compile(r".*/api/v1/observations/[^/]+/photos/.*"), lose_answer)
    page.unroute("**/api/v1/observations/**")
    sync_now(page)
    # sync_now returns after the first sync to finish, which may be a timer's drain that began
    # while the batch's answers were still lost and sent no photo: wait for both photos' sends.
    for _ in range(200):
        if sum("/photos/" in call for call in lost[before:]) >= 2:
            break
        page.wait_for_timeout(50)
    page.unroute_all(behavior="wait")
    assert sum(len(o["photo_ids"]) for o in field.observations()) == 2
    # The server answered the batch, so the two photos' backoff starts afresh: their retry
    # comes by itself within seconds, not minutes.
    page.get_by_role("status").filter(has_text="All sent (0 waiting)").wait_for(timeout=5000)
    for _ in range(2):  # two more syncs change nothing
        sync_now(page)
    stored = field.observations()
    assert len(stored) == 5
    assert sorted(o["note"] for o in stored) == [f"offline note {i}" for i in range(5)]
    photos = [p for o in stored for p in o["photo_ids"]]
    assert len(photos) == 2
    for o in stored:
        assert o["location"]["coordinates"] == [LON, LAT]
        assert o["accuracy_m"] == 8
        assert o["participant_group"] == "resident"
    # Resized on the phone: the stored original is at most 2048 px.
    sizes = []
    for pid in photos:
        r = field.api(f"/photos/{pid}", params={"size": "original"})
        assert r.status_code == 200
        sizes.append(max(Image.open(io.BytesIO(r.content)).size))
    assert sorted(sizes) == [800, 2048]

    # A phone whose clock ran ahead: the server refuses, the item stays with its message.
    page.clock.set_system_time(datetime.now(UTC) + timedelta(days=2))
    save(page, "Poor lighting", "clock is wrong")
    page.clock.set_system_time(datetime.now(UTC))
    wait_status(page, "1 needs your attention")
    page.get_by_role("button", name=re.compile(r"^Waiting")).click()
    card = page.locator("#queue-list li")
    card.get_by_text("is in the future").wait_for()
    assert card.count() == 1
    page.screenshot(path=str(artifacts / f"field-queue-refused-{backend}.png"))
    assert axe_violations(page) == []
    assert len(field.observations()) == 5
    page.reload()  # kept, never dropped silently
    page.get_by_role("button", name=re.compile(r"^Waiting")).click()
    page.locator("#queue-list li").get_by_text("is in the future").wait_for()

    # Fixed by the user: stamped anew and sent.
    page.locator("#queue-list li").get_by_role("button", name="Fix").click()
    page.get_by_role("button", name="Save observation").click()
    wait_status(page, "All sent (0 waiting)")
    assert len(field.observations()) == 6
    assert errors == []
    context.close()


def test_join_messages_and_bokmal_names(browser: Any, field: Field) -> None:
    context = phone(browser, locale="nb-NO", service_workers="block")
    page = context.new_page()
    page.goto(f"{field.base}/app/")
    # Bokmål from the browser's language.
    page.get_by_role("textbox", name="Kode").fill("WRONG234")
    page.get_by_label("Jeg er").select_option("youth")
    page.get_by_role("button", name="Bli med").click()
    page.get_by_role("alert").get_by_text("Ingen vandring har denne koden").wait_for()
    page.get_by_role("textbox", name="Kode").fill(field.closed_code)
    page.get_by_role("button", name="Bli med").click()
    page.get_by_role("alert").get_by_text("avsluttet").wait_for()
    assert axe_violations(page) == []  # the join screen, with its error
    # Throttled (the server's 429 is simulated: ten wrong codes would lock out the other tests).
    page.route(
        "**/api/v1/walks/join",
        lambda route: route.fulfill(
            status=429,
            headers={"Retry-After": "42", "Content-Type": "application/problem+json"},
            body='{"type":"about:blank","title":"Too many requests","status":429,"detail":"x"}',
        ),
    )
    page.get_by_role("button", name="Bli med").click()
    page.get_by_role("alert").get_by_text("Vent 42 sekunder").wait_for()
    page.unroute("**/api/v1/walks/join")
    # Switched to English by hand, and remembered.
    page.get_by_text("Innstillinger").click()
    page.get_by_label("Språk").select_option("en")
    page.get_by_role("textbox", name="Join code").fill(field.code.lower())
    page.get_by_role("button", name="Join", exact=True).click()
    page.get_by_role("button", name="Poor lighting").wait_for()
    page.get_by_label("Language").select_option("nb")  # the settings are still open
    page.get_by_role("button", name="Dårlig belysning").wait_for()
    page.get_by_role("textbox", name="Merknad").wait_for()
    page.get_by_role("button", name="Lagre observasjon").wait_for()
    assert "0 venter" in str(page.get_by_role("status").text_content())
    # Joining again with the same code on this device resumes the session.
    before = field.api(f"/walks/{field.walk_id}").json()["participant_count"]
    page.goto(f"{field.base}/j/{field.code}")
    page.get_by_role("button", name="Dårlig belysning").wait_for()
    assert field.api(f"/walks/{field.walk_id}").json()["participant_count"] == before
    context.close()


def _wait_until_cached(page: Any, path: str, seconds: float = 15.0) -> None:
    probe = (
        "(path) => caches.keys().then((names) => Promise.all(names.map((n) => caches.open(n)"
        ".then((c) => c.keys())))).then((lists) => lists.flat().some((r) => "
        "new URL(r.url).pathname === path))"
    )
    deadline = time.monotonic() + seconds
    while not page.evaluate(probe, path):
        assert time.monotonic() < deadline, f"the service worker never cached {path}"
        page.wait_for_timeout(100)


def test_app_opens_offline_from_the_service_worker_and_sends_everything_once_back(
    browser: Any, field: Field, tmp_path: Path, artifacts: Path, backend: str
) -> None:
    context = phone(browser)
    page = context.new_page()
    join(page, field)
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.reload()  # now controlled: the taxonomy request goes through the worker's cache
    page.get_by_role("button", name="Poor lighting").wait_for()
    # The buttons may come from localStorage before the worker has stored the network's answer;
    # going offline before that would test the race, not the worker's copy.
    _wait_until_cached(page, "/api/v1/categories")
    page.evaluate(
        "localStorage.removeItem(Object.keys(localStorage).find((k) => k.startsWith('safewalk.categories.')))"
    )
    context.set_offline(True)
    page.reload()
    page.get_by_role("button", name="Poor lighting").wait_for()  # from the worker's copy
    save(page, "Poor lighting", "in the underpass")
    save(page, "Feels unsafe", "saved by mistake")
    wait_status(page, "2 observations waiting")
    # Deleted from the queue by the user: never sent.
    page.on("dialog", lambda d: d.accept())
    page.get_by_role("button", name=re.compile(r"^Waiting")).click()
    page.locator("#queue-list li").filter(has_text="saved by mistake").get_by_role(
        "button", name="Delete"
    ).click()
    wait_status(page, "1 observation waiting")
    context.set_offline(False)
    sync_now(page)
    wait_status(page, "All sent (0 waiting)")
    notes = {o["note"] for o in field.observations()}
    assert "in the underpass" in notes
    assert "saved by mistake" not in notes

    # A file that is no image: the observation arrives, the photo is refused and can be dropped.
    bogus = tmp_path / "not-a-photo.jpg"
    bogus.write_bytes(b"this is not an image at all" * 20)
    page.get_by_role("button", name="Report", exact=True).click()
    save(page, "Poor lighting", "with a broken photo", bogus)
    wait_status(page, "1 needs your attention")
    page.get_by_role("button", name=re.compile(r"^Waiting")).click()
    card = page.locator("#queue-list li").filter(has_text="with a broken photo")
    card.get_by_text("Photo refused").wait_for()
    card.get_by_role("button", name="Remove the refused photo").click()
    wait_status(page, "All sent (0 waiting)")
    broken = [o for o in field.observations() if o["note"] == "with a broken photo"]
    assert len(broken) == 1
    assert broken[0]["photo_ids"] == []
    manifest = page.evaluate("fetch('manifest.webmanifest').then((r) => r.json())")
    assert manifest["scope"] == "./"
    assert {i["sizes"] for i in manifest["icons"]} >= {
        "192x192",
        "512x512",
    }

    # The same phone, back on the capture screen: everything saved offline goes at once.
    page.get_by_role("button", name="Report", exact=True).click()
    _back_online_everything_goes_at_once(page, context, field, tmp_path, artifacts, backend)
    context.close()


def _back_online_everything_goes_at_once(
    page: Any, context: Any, field: Field, tmp_path: Path, artifacts: Path, backend: str
) -> None:
    """Five observations saved offline, a reload, then the network toggled several times, once
    dropping while the batch is on its way; back for good, a photo's answer is lost: within
    seconds all five are on the server, once each, with the photo, and nothing waits. `page`
    is joined, controlled by the service worker (the app reloads offline), on the capture
    screen."""
    page.get_by_role("button", name="Poor lighting").wait_for()
    page.locator("#location-text", has_text="±").wait_for()

    context.set_offline(True)
    photo = jpeg(tmp_path, "p.jpg", (800, 600))
    notes = [f"toggled {backend} {i}" for i in range(5)]
    for i, (category, note) in enumerate(zip(CATEGORIES, notes, strict=True)):
        save(page, category, note, photo if i == 1 else None)
    wait_status(page, "5 observations waiting")
    page.reload()  # offline: the shell from the worker, the queue from IndexedDB
    page.get_by_role("button", name="Poor lighting").wait_for()
    wait_status(page, "5 observations waiting")

    def mine() -> list[dict[str, Any]]:
        return [o for o in field.observations() if o["note"] in notes]

    cut: list[str] = []

    def drop_on_the_way(route: Any) -> None:
        route.fetch()  # it reaches the server...
        context.set_offline(True)  # ...and the network drops before the answer is back
        route.abort("internetdisconnected")
        cut.append(route.request.url)

    def lose_the_answer(route: Any) -> None:
        route.fetch()  # it reaches the server, the answer is lost; the network stays up
        route.abort("connectionreset")
        cut.append(route.request.url)

    def back_online(pattern: str | re.Pattern[str], handler: Any) -> None:
        page.route(pattern, handler, times=1)
        before = len(cut)
        context.set_offline(False)
        for _ in range(100):
            if len(cut) > before:
                break
            page.wait_for_timeout(50)
        assert len(cut) == before + 1, f"nothing was on its way to {pattern}"
        page.unroute_all(behavior="wait")

    back_online("**/api/v1/observations/batch", drop_on_the_way)
    assert len(mine()) == 5  # stored, but the phone never heard
    wait_status(page, "5 observations waiting")
    # Back for good; the first photo upload's answer is lost on the way. Its retry must not
    # wait for the backoff the offline minutes built up: "all sent" within seconds.
    back_online(re.compile(r".*/api/v1/observations/[^/]+/photos/.*"), lose_the_answer)
    page.get_by_role("status").filter(has_text="All sent (0 waiting)").wait_for(timeout=5000)
    page.screenshot(path=str(artifacts / f"field-back-online-{backend}.png"))
    stored = mine()
    assert sorted(o["note"] for o in stored) == notes
    assert sum(len(o["photo_ids"]) for o in stored) == 1


def test_security_headers_and_join_link(field: Field) -> None:
    import httpx

    r = httpx.get(f"{field.base}/j/ab-c%3Cx%3E12", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/app/?code=abcx12"
    page = httpx.get(f"{field.base}/app/")
    csp = page.headers["content-security-policy"]
    assert "default-src 'self'" in csp
    assert "script-src 'self'" in csp
    assert "http" not in csp
    assert page.headers["x-content-type-options"] == "nosniff"
    # Only the map library files needed are reachable from node_modules, at the one path
    # both apps load them from.
    assert httpx.get(f"{field.base}/vendor/maplibre-gl.js").status_code == 200
    assert httpx.get(f"{field.base}/vendor/package.json").status_code == 404
    sw = httpx.get(f"{field.base}/app/sw.js")
    assert sw.headers["content-type"].startswith("text/javascript")
    assert "__VERSION__" not in sw.text
    assert "index.html" in sw.text


def _staff_observation(field: Field, category: str, lon: float, lat: float) -> dict[str, Any]:
    oid = str(uuid.uuid4())
    r = field.send(
        "PUT",
        f"/observations/{oid}",
        json={
            "walk_id": field.walk_id,
            "category": category,
            "location": {"type": "Point", "coordinates": [lon, lat]},
            "recorded_at": datetime.now(UTC).isoformat(),
        },
    )
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


def _resolve(field: Field, item_id: str) -> None:
    for status in ("triaged", "planned", "in_progress", "resolved"):
        etag = field.api(f"/action-items/{item_id}").headers["etag"]
        r = field.send(
            "PATCH", f"/action-items/{item_id}", json={"status": status}, headers={"If-Match": etag}
        )
        assert r.status_code == 200, r.text


def _capture_screen_is_accessible_in_light_and_dark(
    page: Any, artifacts: Path, backend: str
) -> None:
    page.get_by_role("button", name="Overgrown vegetation").click()
    for theme in ("light", "dark"):
        page.get_by_text("Settings").click()
        page.get_by_label("Theme").select_option(theme)
        page.get_by_text("Settings").click()
        assert page.evaluate("document.documentElement.dataset.theme") == theme
        page.screenshot(path=str(artifacts / f"field-capture-{theme}-{backend}.png"))
        violations = axe_violations(page)
        assert violations == [], [(v["id"], v["nodes"][0]["target"]) for v in violations]
    # Every touch target of the capture screen is at least 44 px high and wide.
    small = page.evaluate(
        """() => [...document.querySelectorAll(
                  '#view-capture button, #view-capture label.button, .segmented label, #tabs button')]
              .filter((el) => el.offsetParent !== null)
              .map((el) => [el.textContent.trim(), el.getBoundingClientRect()])
              .filter(([, r]) => r.width < 44 || r.height < 44)
              .map(([t]) => t)"""
    )
    assert small == []
    # Back to the theme the phone's settings start with.
    page.get_by_text("Settings").click()
    page.get_by_label("Theme").select_option("auto")
    page.get_by_text("Settings").click()


def test_while_walking_themes_nearby_my_list_and_follow_up(
    browser: Any, field: Field, artifacts: Path, backend: str
) -> None:
    # An open wayfinding item 10 m away, and a resolved transit stop item 20 m away
    # (categories the other tests of this module do not use).
    signs = _staff_observation(field, "wayfinding", LON + 0.00017, LAT)
    stop = _staff_observation(field, "transit_stop", LON, LAT + 0.00018)
    _resolve(field, stop["action_item_id"])

    context = phone(browser, service_workers="block")
    page = context.new_page()
    page.on("dialog", lambda d: d.accept())
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    join(page, field)
    page.locator("#location-text", has_text="±").wait_for()

    # The capture screen, in the light and the dark theme: axe and the touch targets.
    _capture_screen_is_accessible_in_light_and_dark(page, artifacts, backend)

    # The pin placed by hand on the map (MapLibre from npm, under the app's CSP).
    page.get_by_role("button", name="Place on map").click()
    page.locator("#map canvas").wait_for()
    page.get_by_text("Tap the map where the observation is").wait_for()
    found = axe_violations(page)
    assert found == [], [(v["id"], [n["html"] for n in v["nodes"]]) for v in found]
    page.locator("#map canvas").click(position={"x": 120, "y": 100})
    page.get_by_role("button", name="Use this place").click()
    page.get_by_text("Placed on the map").wait_for()
    page.get_by_role("button", name="Feels unsafe").click()
    page.get_by_role("button", name="Save observation").click()
    page.get_by_text("Saved and sent.").wait_for()
    placed = [o for o in field.observations() if o["category"] == "feels_unsafe"]
    manual = [o for o in placed if o["accuracy_m"] is None]
    assert len(manual) == 1
    assert manual[0]["location"]["coordinates"] != [LON, LAT]

    # "Is this already reported?": the item this observation will join is offered.
    page.get_by_role("button", name="Poor wayfinding").click()
    offer = page.locator("#nearby")
    offer.get_by_text("Already reported here").wait_for()
    offer.get_by_text("1 report").wait_for()
    offer.get_by_role("button", name="Add to this report").click()
    page.get_by_text("Saved and sent.").wait_for()
    item = field.api(f"/action-items/{signs['action_item_id']}").json()
    assert item["observation_count"] == 2

    # My observations: edit the note, then withdraw.
    page.get_by_role("button", name="My reports").click()
    mine = page.locator("#mine-list li")
    mine.first.wait_for()
    assert mine.count() == 2
    assert axe_violations(page) == []
    signs_card = mine.filter(has_text="Poor wayfinding")
    signs_card.get_by_role("button", name="Edit").click()
    page.get_by_role("textbox", name="Note").fill("Tags on the whole wall")
    page.get_by_role("button", name="Save observation").click()
    page.get_by_text("Changes saved.").wait_for()
    stored = [o for o in field.observations() if o["note"] == "Tags on the whole wall"]
    assert len(stored) == 1
    mine_id = stored[0]["id"]
    page.get_by_role("button", name="My reports").click()
    page.locator("#mine-list li").filter(has_text="Tags on the whole wall").get_by_role(
        "button", name="Withdraw"
    ).click()
    page.get_by_text("Withdrawn.").wait_for()
    assert field.api(f"/observations/{mine_id}").json()["moderation"] == "hidden"
    assert field.api(f"/action-items/{signs['action_item_id']}").json()["observation_count"] == 1

    # On a follow-up walk, which the same phone joins, the resolved item nearby is offered:
    # "Fixed".
    join(page, field, field.follow_up_code)
    box = page.locator("#followup")
    box.get_by_text("Fixed since the last walk?").wait_for()
    box.get_by_role("button", name="Fixed", exact=True).click()
    box.get_by_text("Thank you, noted.").wait_for()
    assert field.api(f"/action-items/{stop['action_item_id']}").json()["status"] == "verified"
    assert errors == []
    context.close()
