"""Two things a phone and a search result show: the staff web's list tables (areas, users) at
390 CSS px keep each row's buttons on the screen, and both apps' <meta name="description"> is
in the page's language, from the catalogue."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from api.core.i18n.catalogues import SOURCE_LOCALE_DIR, web_messages
from tests.factories.staff_web import Site, open_view
from tests.factories.visible_text import nb_context, sign_in_in

PHONE = {"width": 390, "height": 844}
# Every button of every row, with its box, and the table's own sideways scroll.
BUTTONS = """() => [...document.querySelectorAll('table tbody td button')].map((b) => {
  const r = b.getBoundingClientRect();
  return { text: b.textContent, left: r.left, right: r.right, width: r.width };
})"""


def test_row_buttons_are_on_a_phones_screen(
    browser: Any, site: Site, artifacts: Path, backend: str
) -> None:
    # Both screens in one sign-in: each is opened at the phone's size, checked, then seen on
    # a laptop; the phone's size is put back before the next one is opened.
    context = nb_context(browser, viewport=PHONE)
    page = context.new_page()
    try:
        sign_in_in(page, site.base, site.emails["admin"], "nb")
        for screen in ("/areas", "/admin/users"):
            page.set_viewport_size(PHONE)
            open_view(page, f"{site.base}/#{screen}")
            page.locator("table tbody td button").first.wait_for(timeout=20_000)
            name = screen.strip("/").replace("/", "-")
            page.screenshot(path=str(artifacts / f"phone-table-{name}-{backend}.png"))
            buttons = page.evaluate(BUTTONS)
            assert buttons, screen
            off = [
                b
                for b in buttons
                if b["width"] == 0 or b["left"] < 0 or b["right"] > PHONE["width"]
            ]
            assert off == [], (screen, off)
            assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], screen
            # The table does not scroll sideways either (its wrapper would hide what is off-screen).
            assert page.evaluate(
                "[...document.querySelectorAll('.table-wrap')].every((w) => w.scrollWidth <= w.clientWidth)"
            ), screen
            # On a laptop the same rows are a table again: the header row is visible.
            page.set_viewport_size({"width": 1280, "height": 860})
            assert page.locator("table thead th").first.is_visible(), screen
    finally:
        context.close()


@pytest.mark.parametrize(("app", "path", "key", "chooser"), [
    ("field", "/app/", "meta_description", "#lang-select"),
    ("staff", "/", "meta.description", ".signin-lang select"),
])  # fmt: skip
@pytest.mark.parametrize(("lang", "browser_locale"), [("nb", "nb-NO"), ("sv", "sv-SE")])
def test_the_description_is_in_the_pages_language(
    browser: Any,
    site: Site,
    app: str,
    path: str,
    key: str,
    chooser: str,
    lang: str,
    browser_locale: str,
) -> None:
    expected = web_messages(lang, app, SOURCE_LOCALE_DIR)[key]
    english = web_messages("en", app, SOURCE_LOCALE_DIR)[key]
    assert expected
    assert expected != english
    context = browser.new_context(locale=browser_locale)
    page = context.new_page()
    try:
        page.goto(f"{site.base}{path}")
        page.wait_for_function("(lang) => document.documentElement.lang === lang", arg=lang)
        description = page.locator('meta[name="description"]').get_attribute("content")
        assert description == expected
        # A choice made on the page changes it too, as it changes the rest of the page.
        page.locator(chooser).select_option("en", force=True)
        page.wait_for_function("() => document.documentElement.lang === 'en'")
        assert page.locator('meta[name="description"]').get_attribute("content") == english
    finally:
        context.close()
