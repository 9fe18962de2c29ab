"""The field app and the staff web in each of the six languages, in a real browser: the visible
text holds no string of another language's catalogue (a string the two share is fine), no
catalogue key and no raw code, and no key was missing (the runtime warns). A screenshot per
app and language goes to test-artifacts/. Both apps' <meta name="description"> (what a search
result shows) is in the page's language, from the catalogue."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from api.core.i18n.catalogues import SOURCE_LOCALE_DIR, read_catalog, web_messages
from models import ActionStatus, Role
from models.organizations import LANGUAGES
from tests.factories import PASSWORD
from tests.factories.staff_web import Site, open_view
from tests.factories.visible_text import COLLECT

LANGS = [lang.value for lang in LANGUAGES]
# Codes a screen must put in words (statuses, roles, groups, walk and moderation states).
CODES = {
    *(s.value for s in ActionStatus),
    *(r.value for r in Role),
    *("resident", "youth", "police", "housing", "business"),
    *("submitted", "accepted", "not_actionable", "hidden", "cancelled", "completed"),
}
KEY = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_-]+)+$")
# Catalogue keys that label a code (``status.in_progress``, ``department.lighting``): where
# the catalogue has a label for a code, the code itself on a screen is a failure. A code with
# no label yet (a department an organization typed in) is the organization's own word.
LABEL_PREFIXES = ("status.", "role.", "group.", "moderation.", "department.", "departments.")


def _strings(domain: str, lang: str) -> set[str]:
    """Every text of a catalogue that has no placeholder left to fill (those are compared
    whole, as they show)."""
    out: set[str] = set()
    for value in web_messages(lang, domain, SOURCE_LOCALE_DIR).values():
        for text in value.values() if isinstance(value, dict) else [value]:
            if "{" not in text and len(text) > 2:
                out.add(text.strip())
    return out


def foreign(seen: Iterable[str], domain: str, lang: str) -> dict[str, list[str]]:
    """Strings on the screen that belong to another language's catalogue and not to this one."""
    own = _strings(domain, lang)
    found: dict[str, list[str]] = {}
    for other in LANGS:
        if other == lang:
            continue
        theirs = _strings(domain, other) - own
        hits = sorted({s for s in seen if s in theirs})
        if hits:
            found[other] = hits
    return found


def labelled_codes(domain: str, lang: str) -> set[str]:
    """The codes this catalogue has a label for, less any whose label is the code itself; the
    departments every organization starts with are labelled in the server's catalogue (the
    staff web shows the label the API gives)."""
    messages = web_messages(lang, domain, SOURCE_LOCALE_DIR)
    for message in read_catalog(lang, "server", SOURCE_LOCALE_DIR):
        if isinstance(message.id, str) and message.id.startswith("department."):
            messages = {**messages, message.id: str(message.string)}
    out = set()
    for key, label in messages.items():
        prefix, _, code = key.partition(".")
        if f"{prefix}." in LABEL_PREFIXES and code and "." not in code and label != code:
            out.add(code)
    return out


def raw(seen: Iterable[str], domain: str, lang: str = "en") -> list[str]:
    keys = set(web_messages("en", domain, SOURCE_LOCALE_DIR))
    codes = CODES | labelled_codes(domain, lang)
    return sorted({s for s in seen if s in keys or s in codes or KEY.match(s)})


def _check(page: Any, domain: str, lang: str, seen: list[str], warnings: list[str]) -> None:
    assert page.evaluate("document.documentElement.lang") == lang
    assert foreign(seen, domain, lang) == {}
    assert raw(seen, domain, lang) == []
    assert [w for w in warnings if "safewalk i18n" in w] == []


def _context(browser: Any, lang: str, **kw: Any) -> Any:
    context = browser.new_context(locale=lang, **kw)
    # The person's own choice, as the language menu stores it.
    context.add_init_script(f"localStorage.setItem('safewalk.lang', '{lang}')")
    return context


STAFF_VIEWS = [
    "/admin/categories", "/admin/users", "/admin/organization", "/notifications", "/items",
    "/walks", "/review", "/triage", "/areas", "/charts", "/map",
]  # fmt: skip


@pytest.mark.parametrize("lang", LANGS)
def test_staff_web_in_each_language(
    browser: Any, site: Site, artifacts: Path, backend: str, lang: str
) -> None:
    t = web_messages(lang, "staff", SOURCE_LOCALE_DIR)
    context = _context(browser, lang, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    warnings: list[str] = []
    page.on(
        "console", lambda m: warnings.append(m.text) if m.type in ("warning", "error") else None
    )
    page.goto(f"{site.base}/")
    page.get_by_role("textbox", name=t["signin.email"]).fill(site.emails["admin"])
    page.get_by_role("textbox", name=t["signin.password"]).fill(PASSWORD)
    seen: list[str] = page.evaluate(COLLECT)
    page.get_by_role("button", name=t["signin.button"]).click()
    page.get_by_role("button", name=t["signout"]).wait_for()
    for view in STAFF_VIEWS:
        open_view(page, f"{site.base}/#{view}")
        if view == "/admin/categories":
            # The taxonomy's labels in this language, none missing for the defaults.
            page.get_by_text(t["categories.complete"]).first.wait_for()
            assert page.get_by_text(t["categories.complete"]).count() == 15
        seen += page.evaluate(COLLECT)
        if view == "/admin/categories":
            page.screenshot(path=str(artifacts / f"staff-{lang}-{backend}.png"))
    _check(page, "staff", lang, seen, warnings)
    context.close()


@pytest.mark.parametrize("lang", LANGS)
def test_field_app_in_each_language(
    browser: Any, site: Site, artifacts: Path, backend: str, lang: str
) -> None:
    t = web_messages(lang, "field", SOURCE_LOCALE_DIR)
    with site.api("coordinator") as coordinator:
        code = coordinator.get(f"/api/v1/walks/{site.walk_id}").json()["join_code"]
    context = browser.new_context(
        locale=lang,  # no choice made: the phone's language decides
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
        # The words are the same offline; installing the app's offline copy (its service
        # worker fetching the whole shell again) cost more than the rest of the check.
        service_workers="block",
    )
    page = context.new_page()
    warnings: list[str] = []
    page.on(
        "console", lambda m: warnings.append(m.text) if m.type in ("warning", "error") else None
    )
    page.goto(f"{site.base}/j/{code}")
    page.get_by_role("textbox", name=t["join_code"]).wait_for()
    seen: list[str] = page.evaluate(COLLECT)
    page.get_by_label(t["i_am"]).select_option("resident")
    page.get_by_role("button", name=t["join"], exact=True).click()
    lighting = {"nb": "Dårlig belysning", "nn": "Dårleg belysning", "sv": "Dålig belysning",
                "da": "Dårlig belysning", "fi": "Huono valaistus", "en": "Poor lighting"}  # fmt: skip
    page.get_by_role("button", name=lighting[lang]).wait_for()
    seen += page.evaluate(COLLECT)
    # Longer words (Finnish) wrap: the page never grows wider than the phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(artifacts / f"field-{lang}-{backend}.png"))
    for view in ("queue", "mine"):
        page.locator(f"#tabs button[data-view={view}]").click()
        # Shown, and its list drawn from the outbox (empty here: nobody reported anything).
        page.locator(f"#view-{view} #{view}-empty, #view-{view} #{view}-list li").first.wait_for()
        seen += page.evaluate(COLLECT)
    _check(page, "field", lang, seen, warnings)
    context.close()


def test_a_code_is_raw_only_where_a_label_exists(monkeypatch: pytest.MonkeyPatch) -> None:
    """A department typed in by an organization is its own word until the catalogue labels
    it; from then on the bare code on a screen fails the walk above."""
    assert raw(["in_progress", "Työn alla"], "staff", "fi") == ["in_progress"]
    real = web_messages

    def labelled(lang: str, domain: str, root: Path | None = None) -> dict[str, Any]:
        return {**real(lang, domain, root), "department.probe_works": "Koetyöt"}

    assert raw(["probe_works"], "staff", "fi") == []  # no label: the organization's own word
    monkeypatch.setattr(sys.modules[__name__], "web_messages", labelled)
    assert raw(["probe_works", "Koetyöt"], "staff", "fi") == ["probe_works"]


# A figure of eight (repaired) and a ring that only doubles back (refused), and what the
# import report says of each in Swedish and Bokmål: GEOS's reason in words, the position in
# the reader's numbers, nothing in English.
BAD_AREAS = {
    "type": "FeatureCollection",
    "features": [
        {"type": "Feature", "properties": {"name": f"Yta {n}"},
         "geometry": {"type": "Polygon", "coordinates": [ring]}}
        for n, ring in enumerate([
            [[5.70, 58.80], [5.72, 58.82], [5.72, 58.80], [5.70, 58.82], [5.70, 58.80]],
            [[5.70, 58.80], [5.71, 58.81], [5.70, 58.80], [5.70, 58.80]],
        ])
    ],
}  # fmt: skip
REPORT = {
    "nb": ["omrisset krysser seg selv ved breddegrad 58,81, lengdegrad 5,71",
           "en ring har for få ulike punkter, ved breddegrad 58,8, lengdegrad 5,7"],
    "sv": ["avgränsningen korsar sig själv vid latitud 58,81, longitud 5,71",
           "en ring har för få olika punkter, vid latitud 58,8, longitud 5,7"],
}  # fmt: skip


@pytest.mark.parametrize("lang", list(REPORT))
def test_area_import_report_in_the_readers_language(
    browser: Any, site: Site, artifacts: Path, backend: str, lang: str
) -> None:
    import json

    t = web_messages(lang, "staff", SOURCE_LOCALE_DIR)
    context = _context(browser, lang, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{site.base}/")
    page.get_by_role("textbox", name=t["signin.email"]).fill(site.emails["coordinator"])
    page.get_by_role("textbox", name=t["signin.password"]).fill(PASSWORD)
    page.get_by_role("button", name=t["signin.button"]).click()
    page.get_by_role("button", name=t["signout"]).wait_for()
    page.goto(f"{site.base}/#/areas")
    upload = {"name": "ytor.geojson", "mimeType": "application/geo+json",
              "buffer": json.dumps(BAD_AREAS).encode()}  # fmt: skip
    page.get_by_label(t["areas.file"]).set_input_files(upload)
    page.get_by_label(t["areas.skip_invalid"]).check()
    page.get_by_role("button", name=t["areas.import"]).click()
    report = page.locator("section.report")
    for words in REPORT[lang]:
        report.get_by_text(words).wait_for()
    page.screenshot(
        path=str(artifacts / f"staff-areas-report-{lang}-{backend}.png"), full_page=True
    )
    seen = [s for s in page.evaluate(COLLECT) if s]
    _check(page, "staff", lang, seen, [])
    assert not [s for s in report.all_inner_texts() if "Self-intersection" in s or "Too few" in s]
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
    context = browser.new_context(locale=browser_locale, service_workers="block")
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
