"""The capture form's answers, in Bokmål on a 390×844 phone, in Chromium against a real server
on both databases: every answer to Lagre appears on screen beside it and in a live region; a
position far from the walk is caught on the phone, before it is queued, in plain words, with
the map over the walk's area and "Bruk dette stedet" right under it; "Rett opp" opens the map
at the observation's own pin; "Endre" opens the form at its top, saying what is edited; plurals
come from the catalogue; a skipped severity stays unset."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from PIL import Image

from tests.factories import SANDNES_SQUARE
from tests.factories.browser import axe_violations
from tests.factories.field_app import LAT, LON, Field, in_viewport, join_nb, phone, wait_status

# About 12.7 km north of the walk's area: far beyond the 2 km the server allows.
FAR = {"latitude": 58.97, "longitude": 5.735, "accuracy": 8}
SAVED = re.compile(r"^Lagret(\. Den sendes når det er nett\.| og sendt\.)$")


def _inside_area(coordinates: list[float]) -> bool:
    minx, miny, maxx, maxy = SANDNES_SQUARE.bounds
    return minx <= coordinates[0] <= maxx and miny <= coordinates[1] <= maxy


def _by_note(field: Field, note: str) -> list[dict[str, Any]]:
    return [o for o in field.observations() if o["note"] == note]


def _answer(page: Any) -> Any:
    return page.locator("#capture-done")


def test_every_answer_is_on_screen_beside_lagre_and_endre_edits_from_the_top(
    browser: Any, field: Field, tmp_path: Path, artifacts: Path, backend: str
) -> None:
    context = phone(browser, locale="nb-NO", service_workers="block")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    join_nb(page, field)
    page.locator("#location-text", has_text="±").wait_for()
    save = page.get_by_role("button", name="Lagre observasjon")

    # No category: the refusal shows next to the sticky Lagre button, inside the screen, and
    # the alert announces it.
    save.click()
    refusal = page.get_by_role("alert").filter(has_text="Velg en kategori først.")
    refusal.wait_for()
    assert in_viewport(page, refusal)
    assert in_viewport(page, save)
    page.screenshot(path=str(artifacts / f"field-answer-no-category-{backend}.png"))

    # From the bottom of the form (the note, a photo), the result too, in a polite live region.
    page.get_by_role("button", name="Tagging eller hærverk").click()
    assert refusal.count() == 0  # the old answer goes with the cause
    page.get_by_role("textbox", name="Merknad").fill("Tagging på hele muren")
    photo = tmp_path / "wall.jpg"
    Image.new("RGB", (640, 480), (120, 90, 60)).save(photo, "JPEG")
    page.locator("#photo-input").set_input_files(str(photo))
    page.get_by_role("img", name="Bilde 1").wait_for()
    page.evaluate("scrollTo(0, document.scrollingElement.scrollHeight)")
    save.click()
    done = _answer(page).filter(has_text=SAVED)
    done.wait_for()
    assert in_viewport(page, done)
    assert done.get_attribute("aria-live") == "polite"
    _answer(page).filter(has_text="Lagret og sendt.").wait_for()
    page.screenshot(path=str(artifacts / f"field-answer-saved-{backend}.png"))
    wait_status(page, "Alt er sendt (0 venter)")

    # Unset severity stays unset: the server has it as null, not as 2.
    stored = _by_note(field, "Tagging på hele muren")
    assert len(stored) == 1
    assert stored[0]["severity"] is None
    assert stored[0]["perceived_safety"] is None

    # A severity given is kept.
    page.get_by_role("button", name="Tagging eller hærverk").click()
    page.locator("label[for='sev-3']").click()
    page.get_by_role("textbox", name="Merknad").fill("Alvorlig tagging")
    save.click()
    _answer(page).filter(has_text="Lagret og sendt.").wait_for()
    assert _by_note(field, "Alvorlig tagging")[0]["severity"] == 3

    # Plurals from the catalogue: one photo is "1 bilde", never "1 bilder".
    page.get_by_role("button", name="Mine meldinger").click()
    card = page.locator("#mine-list li").filter(has_text="Tagging på hele muren")
    card.get_by_text(re.compile(r"· 1 bilde$")).wait_for()
    assert "1 bilder" not in str(page.locator("#mine-list").text_content())

    # "Endre" opens the form at its top, saying what is edited.
    page.get_by_role("button", name="Meld", exact=True).click()
    page.get_by_role("button", name="Gjengrodd vegetasjon").click()
    page.get_by_role("textbox", name="Merknad").fill("Busker over stien")
    save.click()
    _answer(page).filter(has_text="Lagret og sendt.").wait_for()

    page.get_by_role("button", name="Mine meldinger").click()
    page.locator("#mine-list li").filter(has_text="Busker over stien").get_by_role(
        "button", name="Endre"
    ).click()
    banner = page.locator("#edit-banner")
    banner.get_by_text("Du endrer «Gjengrodd vegetasjon»").wait_for()
    assert page.evaluate("scrollY") == 0
    assert in_viewport(page, banner)
    chosen = page.get_by_role("button", name="Gjengrodd vegetasjon")
    assert chosen.get_attribute("aria-pressed") == "true"
    assert in_viewport(page, chosen)
    assert page.evaluate("document.activeElement.id") == "edit-banner"
    page.screenshot(path=str(artifacts / f"field-edit-mode-{backend}.png"))
    page.get_by_role("textbox", name="Merknad").fill("Busker over hele stien")
    save.click()
    _answer(page).filter(has_text="Endringene er lagret.").wait_for()
    assert banner.is_hidden()
    assert len(_by_note(field, "Busker over hele stien")) == 1
    assert errors == []
    context.close()


def test_a_far_position_is_caught_on_the_phone(
    browser: Any, field: Field, artifacts: Path, backend: str
) -> None:
    context = phone(browser, locale="nb-NO", service_workers="block")
    context.set_geolocation(FAR)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    join_nb(page, field)
    page.locator("#location-text", has_text="±").wait_for()
    wait_status(page, "Alt er sendt (0 venter)")
    before = len(field.observations())

    page.get_by_role("button", name="Tagging eller hærverk").click()
    page.get_by_role("textbox", name="Merknad").fill("Langt unna")
    page.get_by_role("button", name="Lagre observasjon").click()
    alert = page.get_by_role("alert")
    alert.filter(has_text="Stedet er 12,7 km fra området for vandringen.").wait_for()
    assert in_viewport(page, alert)
    text = str(alert.text_content())
    for jargon in ("GeoJSON", "longitude", "km from", "Posisjon:"):
        assert jargon not in text
    pick = page.get_by_role("button", name="Velg stedet på kartet")
    assert in_viewport(page, pick)
    page.screenshot(path=str(artifacts / f"field-far-position-{backend}.png"))
    # Nothing was queued, nothing reached the server.
    assert page.evaluate("document.querySelector('#queue-badge').hidden")
    assert len(field.observations()) == before

    # The map opens over the walk's area; "Bruk dette stedet" sits right under the map.
    pick.click()
    page.get_by_text("Trykk på kartet der observasjonen er").wait_for()
    canvas = page.locator("#map canvas")
    canvas.wait_for()
    box = canvas.bounding_box()
    assert box is not None
    canvas.click(position={"x": box["width"] / 2, "y": box["height"] / 2})
    use = page.get_by_role("button", name="Bruk dette stedet")
    use.wait_for()
    assert in_viewport(page, use)
    map_box = page.locator("#map").bounding_box()
    use_box = use.bounding_box()
    legend_box = page.locator("#view-map .legend").bounding_box()
    assert map_box
    assert use_box
    assert legend_box
    assert 0 <= use_box["y"] - (map_box["y"] + map_box["height"]) <= 16
    assert use_box["y"] + use_box["height"] <= legend_box["y"]
    page.screenshot(path=str(artifacts / f"field-far-map-{backend}.png"))
    found = axe_violations(page)
    assert found == [], [(v["id"], [n["html"] for n in v["nodes"]]) for v in found]
    use.click()
    page.get_by_text("Plassert på kartet").wait_for()
    page.get_by_role("button", name="Lagre observasjon").click()
    _answer(page).filter(has_text="Lagret og sendt.").wait_for()

    # The centre of the map it opened on lies in the walk's area.
    stored = _by_note(field, "Langt unna")
    assert len(stored) == 1
    assert _inside_area(stored[0]["location"]["coordinates"])
    assert errors == []
    context.close()


def test_rett_opp_opens_the_map_at_the_right_pin(
    browser: Any, field: Field, artifacts: Path, backend: str
) -> None:
    context = phone(browser, locale="nb-NO", service_workers="block")
    page = context.new_page()
    page.on("dialog", lambda d: d.accept())
    join_nb(page, field)
    page.locator("#location-text", has_text="±").wait_for()

    # Refused for its time (a clock ahead), at the place where it was made.
    page.clock.set_system_time(datetime.now(UTC) + timedelta(days=2))
    page.get_by_role("button", name="Søppel eller forsøpling").click()
    page.get_by_role("textbox", name="Merknad").fill("Klokka gikk feil")
    page.get_by_role("button", name="Lagre observasjon").click()
    page.clock.set_system_time(datetime.now(UTC))
    wait_status(page, "1 trenger din oppmerksomhet")

    # The phone has walked on 200 m since; the pin of the observation is where it was made.
    context.set_geolocation({"latitude": LAT + 0.0018, "longitude": LON, "accuracy": 8})
    page.get_by_role("button", name=re.compile("^Venter")).click()
    page.locator("#queue-list li").get_by_role("button", name="Rett opp").click()
    page.get_by_text("Du endrer «Søppel eller forsøpling»").wait_for()
    page.get_by_role("button", name="Plasser på kartet").click()
    page.locator("#map canvas").wait_for()
    marker = page.locator("#map .maplibregl-marker")
    marker.wait_for()
    # MapLibre places the marker on a coming frame (once the map has loaded and stopped
    # moving): wait until its box holds still for three frames.
    page.evaluate(
        """async () => {
            const el = document.querySelector('#map .maplibregl-marker');
            const frame = () => new Promise((r) => requestAnimationFrame(r));
            let last = '', still = 0;
            for (let i = 0; i < 300 && still < 3; i++) {
                await frame();
                const r = el.getBoundingClientRect();
                const now = el.style.transform ? `${r.x},${r.y}` : '';
                still = now && now === last ? still + 1 : 0;
                last = now;
            }
        }"""
    )
    m = marker.bounding_box()
    c = page.locator("#map").bounding_box()
    assert m
    assert c
    # MapLibre's marker points at its place with its bottom centre.
    assert abs(m["x"] + m["width"] / 2 - (c["x"] + c["width"] / 2)) <= 3
    assert abs(m["y"] + m["height"] - (c["y"] + c["height"] / 2)) <= 10
    page.screenshot(path=str(artifacts / f"field-fix-pin-{backend}.png"))
    page.get_by_role("button", name="Bruk dette stedet").click()
    page.get_by_role("button", name="Lagre observasjon").click()
    wait_status(page, "Alt er sendt (0 venter)")
    stored = _by_note(field, "Klokka gikk feil")
    assert len(stored) == 1
    assert stored[0]["location"]["coordinates"] == [LON, LAT]

    # Refused by the server for its place (the phone could not fetch the walk's shape): the
    # message is plain, and "Rett opp" opens the map over the walk's area.
    context.set_geolocation(FAR)
    page.route("**/api/v1/map/walks/**", lambda route: route.abort("internetdisconnected"))
    page.evaluate("localStorage.clear()")  # no copy of the walk's shape kept either
    page.reload()
    page.get_by_role("textbox", name="Kode").fill(field.code)
    page.get_by_label("Jeg er").select_option("resident")
    page.get_by_role("button", name="Bli med").click()
    page.get_by_role("button", name="Søppel eller forsøpling").click()
    page.get_by_role("textbox", name="Merknad").fill("Avvist for stedet")
    page.get_by_role("button", name="Lagre observasjon").click()
    wait_status(page, "1 trenger din oppmerksomhet")
    page.unroute_all(behavior="wait")
    page.get_by_role("button", name=re.compile("^Venter")).click()
    card = page.locator("#queue-list li").filter(has_text="Avvist for stedet")
    card.get_by_text("Stedet er for langt fra vandringen.").wait_for()
    text = str(card.text_content())
    assert "GeoJSON" not in text
    assert " km from " not in text
    page.screenshot(path=str(artifacts / f"field-refused-place-{backend}.png"))
    card.get_by_role("button", name="Rett opp").click()
    page.get_by_text("Trykk på kartet der observasjonen er").wait_for()
    canvas = page.locator("#map canvas")
    canvas.wait_for()
    box = canvas.bounding_box()
    assert box is not None
    canvas.click(position={"x": box["width"] / 2, "y": box["height"] / 2})
    page.get_by_role("button", name="Bruk dette stedet").click()
    page.get_by_role("button", name="Lagre observasjon").click()
    wait_status(page, "Alt er sendt (0 venter)")
    stored = _by_note(field, "Avvist for stedet")
    assert len(stored) == 1
    assert _inside_area(stored[0]["location"]["coordinates"])
    context.close()
