"""The field app for everyone, in Bokmål, in Chromium against a real server on both databases:
at 320 CSS px (a small phone, or 200 % zoom) nothing scrolls sideways and Lagre, the tab bar
and the settings menu stay on screen; focus never hides under the sticky Lagre bar; axe finds
nothing serious or critical on any screen; and every word a Bokmål reader sees is Bokmål: the
visible text, collected from each screen, is checked against the nb catalogue."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
from PIL import Image

from tests.factories.browser import ROOT, axe_violations
from tests.factories.field_app import (
    VISIBLE_TEXT,
    Field,
    catalogue_patterns,
    in_viewport,
    join_nb,
    not_in_catalogue,
    phone,
    wait_status,
)

NB = json.loads((ROOT / "web" / "field" / "i18n" / "nb.json").read_text(encoding="utf-8"))


def _context(browser: Any, width: int, height: int) -> Any:
    return phone(browser, locale="nb-NO", viewport=(width, height), service_workers="block")


def settle(page: Any) -> None:
    """Two frames: whatever scrolling a focus change starts is done."""
    page.evaluate("new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))")


def _scroll_width(page: Any) -> int:
    return int(page.evaluate("document.scrollingElement.scrollWidth"))


def test_320_px_has_no_sideways_scroll(
    browser: Any, field: Field, artifacts: Path, backend: str
) -> None:
    context = _context(browser, 320, 640)
    page = context.new_page()
    page.goto(f"{field.base}/j/{field.code}")
    page.get_by_role("button", name="Bli med").wait_for()
    assert _scroll_width(page) <= 320
    join_nb(page, field, load=False)
    page.get_by_role("button", name="Tagging eller hærverk").click()
    assert _scroll_width(page) <= 320
    assert in_viewport(page, page.get_by_role("button", name="Lagre observasjon"))
    assert in_viewport(page, page.locator("#tabs"))
    page.screenshot(path=str(artifacts / f"field-320-capture-{backend}.png"))

    # The settings menu fits, open, with the page still not scrolling sideways.
    page.get_by_text("Innstillinger").click()
    menu = page.locator(".settings-body")
    menu.wait_for()
    assert in_viewport(page, menu)
    assert _scroll_width(page) <= 320
    page.screenshot(path=str(artifacts / f"field-320-settings-{backend}.png"))
    page.get_by_text("Innstillinger").click()

    # Far down the form, Lagre and the tab bar are still there.
    page.evaluate("scrollTo(0, document.scrollingElement.scrollHeight)")
    assert in_viewport(page, page.get_by_role("button", name="Lagre observasjon"))
    assert in_viewport(page, page.locator("#tabs"))
    for tab, name in (("Venter", "queue"), ("Mine meldinger", "mine"), ("Kart", "map")):
        page.get_by_role("button", name=tab).click()
        if name == "map":
            page.locator("#map canvas").wait_for()
        assert _scroll_width(page) <= 320, name
        assert in_viewport(page, page.locator("#tabs")), name
        page.screenshot(path=str(artifacts / f"field-320-{name}-{backend}.png"))
    context.close()


def _tab_to_the_first_severity(page: Any) -> tuple[Any, Any, Any]:
    """From the last category, the next Tab is the first severity radio, on a page scrolled to
    its top: the browser scrolls it into view. The boxes of its label, the sticky bar and the
    tab bar once that is done."""
    page.evaluate("scrollTo(0, 0)")
    page.locator("#category-grid button").last.focus()
    page.keyboard.press("Tab")
    settle(page)
    assert page.evaluate("document.activeElement.id") == "sev-1"
    label = page.locator("label[for='sev-1']").bounding_box()
    bar = page.locator("#actions").bounding_box()
    tabs = page.locator("#tabs").bounding_box()
    assert label
    assert bar
    assert tabs
    return label, bar, tabs


def _focus_never_hides_under_the_sticky_bar(
    page: Any, screen: str, artifacts: Path, backend: str
) -> None:
    if screen == "capture":
        label, bar, tabs = _tab_to_the_first_severity(page)
        assert label["y"] >= 0
        assert label["y"] + label["height"] <= bar["y"]
        assert label["y"] + label["height"] <= tabs["y"]
        page.screenshot(path=str(artifacts / f"field-focus-severity-{backend}.png"))
    elif screen == "capture-refused":  # also when the bar is taller (an answer above Lagre)
        label, bar, _ = _tab_to_the_first_severity(page)
        assert label["y"] + label["height"] <= bar["y"]


def _screens(page: Any, field: Field, tmp_path: Path) -> Any:
    """Each screen of the app in turn, yielded by name once it shows."""
    page.goto(f"{field.base}/j/{field.code}")
    page.get_by_role("button", name="Bli med").wait_for()
    yield "join"
    join_nb(page, field, load=False)
    page.locator("#location-text", has_text="±").wait_for()
    yield "capture"
    page.get_by_role("button", name="Lagre observasjon").click()
    page.get_by_role("alert").filter(has_text="Velg en kategori først.").wait_for()
    yield "capture-refused"
    page.get_by_role("button", name="Skade på gangvei").click()
    page.locator("label[for='safe-1']").click()
    page.get_by_role("textbox", name="Merknad").fill("Hull i asfalten")
    photo = tmp_path / "hole.jpg"
    Image.new("RGB", (640, 480), (90, 90, 90)).save(photo, "JPEG")
    page.locator("#photo-input").set_input_files(str(photo))
    page.get_by_role("img", name="Bilde 1").wait_for()
    yield "capture-filled"
    page.get_by_role("button", name="Lagre observasjon").click()
    page.locator("#capture-done").filter(has_text="Lagret og sendt.").wait_for()
    wait_status(page, "Alt er sendt (0 venter)")
    yield "capture-saved"
    page.get_by_text("Innstillinger").click()
    page.locator(".settings-body").wait_for()
    yield "settings"
    page.get_by_text("Innstillinger").click()
    page.get_by_role("button", name="Venter").click()
    page.get_by_text("Ingenting venter").wait_for()
    yield "queue"
    page.get_by_role("button", name="Mine meldinger").click()
    page.locator("#mine-list li").first.wait_for()
    yield "mine"
    page.get_by_role("button", name="Kart").click()
    page.locator("#map canvas").wait_for()
    yield "map"
    page.get_by_role("button", name="Meld", exact=True).click()
    page.get_by_role("button", name="Plasser på kartet").click()
    page.get_by_role("button", name="Bruk dette stedet").wait_for()
    yield "map-pick"


def test_every_screen_is_accessible_in_bokmal_and_keeps_focus_in_view(
    browser: Any, field: Field, tmp_path: Path, artifacts: Path, backend: str
) -> None:
    categories = httpx.get(f"{field.base}/api/v1/categories", headers=field.admin, timeout=10)
    assert categories.status_code == 200, categories.text
    data = {c["labels"]["nb"] for c in categories.json()["items"]}
    data |= {"Kveldsvandring sentrum", "Hull i asfalten", "Norsk bokmål", "×"}
    patterns = catalogue_patterns(NB)
    context = _context(browser, 390, 844)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    warnings: list[str] = []
    page.on("console", lambda m: warnings.append(m.text) if "safewalk i18n" in m.text else None)
    for screen in _screens(page, field, tmp_path):
        found = axe_violations(page)
        assert found == [], (screen, [(v["id"], [n["html"] for n in v["nodes"]]) for v in found])
        texts = page.evaluate(VISIBLE_TEXT)
        assert texts, screen
        odd = not_in_catalogue(texts, patterns, data)
        assert odd == [], (screen, odd)
        page.screenshot(path=str(artifacts / f"field-nb-{screen}-{backend}.png"))
        _focus_never_hides_under_the_sticky_bar(page, screen, artifacts, backend)
    # The plural the queue and "mine" use came from the catalogue's "one" form.
    mine = (
        str(page.locator("#mine-list").text_content()) if page.locator("#mine-list").count() else ""
    )
    assert "1 bilder" not in mine
    assert warnings == []
    assert errors == []
    context.close()


def test_the_catalogue_check_catches_english() -> None:
    """The check above would see a stray English word (it is not vacuous)."""
    patterns = catalogue_patterns(NB)
    assert not_in_catalogue(["Lagret og sendt."], patterns, set()) == []
    assert not_in_catalogue(["Sendt · 14:02 · 1 bilde"], patterns, set()) == []
    assert not_in_catalogue(["Saved and sent."], patterns, set()) == ["Saved and sent."]
    assert not_in_catalogue(["Posisjon: is 12.7 km from the walk"], patterns, set()) != []
