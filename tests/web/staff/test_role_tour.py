"""A tour of each staff role's main screens in Bokmål, on a laptop (1440×900) and a phone
(390×844), on each database, with the service's own basemap imported. On every screen and at
each size: a screenshot (test-artifacts/tour-*.png), axe without serious or critical findings,
no text outside the Bokmål catalogue but the seeded data, and, where the screen has a map,
basemap tiles requested from the service's own origin and drawn; at the phone's size also no
horizontal scroll at 320 CSS px. Each screen is opened once, at the laptop's size, and the
window is then narrowed to the phone's, as a person turning a tablet or narrowing a window
would: one sign-in and one load per screen for both sizes."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from api.outputs.basemap import service
from tests.factories.browser import axe_violations
from tests.factories.pixels import stripe_share, variance
from tests.factories.staff_web import SPOTS, Site, next_frames, open_view
from tests.factories.tilesets import area_tiles, make_mbtiles
from tests.factories.visible_text import COLLECT, INTL_WORDS, foreign_text, nb_context, sign_in_in

# Each language in its own name, as the language choosers and label editors show them.
LANGUAGE_NAMES = ["Norsk bokmål", "Norsk nynorsk", "Svenska", "Dansk", "Suomi", "English"]
SIZES = {"laptop": {"width": 1440, "height": 900}, "phone": {"width": 390, "height": 844}}
# Each role's day: its screens, "{item}" and "{walk}" filled in from the seeded site.
SCREENS = {
    "admin": ["/admin/users", "/admin/categories", "/admin/organization", "/areas", "/notifications"],
    "coordinator": ["/walks", "/walks/new", "/walks/{walk}/live", "/review", "/triage", "/areas"],
    "engineer": ["/items", "/items/{item}"],
    "planner": ["/map", "/charts"],
}  # fmt: skip
# Proper names and data the site was seeded with, and names of things that are not ours.
NAMES = ["safewalk", "Sandnes kommune", "Sentrum", "Evening walk, Sentrum", "MapLibre", "GeoJSON",
         "CSV", "PDF", "Excel", "GeoPackage", "QGIS", "OpenStreetMap", "UTC", "Europe/Oslo",
         "© Test Kart",
         *LANGUAGE_NAMES]  # fmt: skip


@pytest.fixture(scope="module")
def tour_site(site: Site, tmp_path_factory: pytest.TempPathFactory) -> Site:
    """The site with a basemap of its own, as a municipality would import it."""
    path = tmp_path_factory.mktemp("basemap") / "town.mbtiles"
    service.import_file(make_mbtiles(path, area_tiles(range(10, 18))), site.server.data_dir)
    return site


@pytest.fixture(scope="module")
def seeded_data(tour_site: Site) -> list[str]:
    """Every name, title, note and e-mail address the screens may show as data."""
    out = [*NAMES, *tour_site.emails.values(), *(note for *_, note in SPOTS)]
    with tour_site.api("admin") as admin:
        admin.headers["Accept-Language"] = "nb"
        for path, keys in (
            ("/api/v1/action-items?limit=200", ("title",)),
            ("/api/v1/walks", ("title", "join_code")),
            ("/api/v1/areas", ("name", "code")),
            ("/api/v1/users", ("display_name", "email")),
        ):
            body = admin.get(path).json()
            for row in body["items"] if isinstance(body, dict) else body:
                out += [str(row.get(k)) for k in keys if row.get(k)]
        # Departments in words, as the service translates them.
        for g in admin.get("/api/v1/stats/follow-up?group_by=department").json()["groups"]:
            out += [g["label"]] if g["label"] else []
        out += [d["label"] for d in admin.get("/api/v1/departments?limit=500").json()]
        cats = admin.get("/api/v1/categories").json()
        for c in cats["items"] if isinstance(cats, dict) else cats:
            out += [v for v in (c.get("label"), c.get("code"), c.get("label_nb")) if v]
            out += [v for v in (c.get("labels") or {}).values() if isinstance(v, str)]
    return out


def _screens(site: Site, role: str) -> list[str]:
    with site.api("coordinator") as coordinator:
        item = coordinator.get("/api/v1/action-items").json()["items"][0]["id"]
    return [s.format(item=item, walk=site.walk_id) for s in SCREENS[role]]


@pytest.fixture
def tour_page(browser: Any) -> Iterator[Any]:
    context = nb_context(browser, viewport=SIZES["laptop"])
    page = context.new_page()
    page.problems = []
    page.on("pageerror", lambda e: page.problems.append(str(e)))
    page.on(
        "console",
        lambda m: (
            page.problems.append(m.text) if "safewalk i18n" in m.text or m.type == "error" else None
        ),
    )
    page.basemap = []
    page.on("request", lambda r: page.basemap.append(r.url) if "/basemap/" in r.url else None)
    yield page
    context.close()


def _basemap_drawn(page: Any, base: str) -> None:
    canvas = page.locator("canvas.maplibregl-canvas").first
    shot = canvas.screenshot()
    for _ in range(60):
        if stripe_share(shot) > 0.15:
            break
        page.wait_for_timeout(250)
        shot = canvas.screenshot()
    tiles = [u for u in page.basemap if re.search(r"/basemap/\d+/\d+/\d+\.png", u)]
    assert tiles, "no basemap tile was requested"
    assert all(u.startswith(f"{base}/basemap/") for u in page.basemap), page.basemap
    assert stripe_share(shot) > 0.15, "the basemap's tiles are not drawn"
    assert variance(shot) > 500


# The widest elements (not those inside a table's own sideways scroll), named for the report.
TOO_WIDE = """() => {
  const clipped = (el) => {
    for (let p = el.parentElement; p; p = p.parentElement) {
      if (['auto', 'scroll', 'hidden'].includes(getComputedStyle(p).overflowX)) return true;
    }
    return false;
  };
  const wide = (el) => el.getBoundingClientRect().right > 321;
  return [...document.querySelectorAll('body *')]
    .filter((el) => wide(el) && !(el.parentElement && wide(el.parentElement) && el.parentElement !== document.body))
    .filter((el) => !el.closest('.table-wrap') || el.classList.contains('table-wrap'))
    .slice(0, 5).map((el) => el.tagName + '.' + el.className + '#' + el.id);
}"""


def _check_size(page: Any, site: Site, allowed: list[str], shot: Path, size: str) -> dict[str, Any]:
    """The screen as it is drawn now: what is wrong with it, by kind of check."""
    problems: dict[str, Any] = {}
    if page.locator("canvas.maplibregl-canvas").count():
        try:
            _basemap_drawn(page, site.base)
        except AssertionError as exc:
            problems["basemap"] = str(exc)
    # Once the basemap is drawn, as a person sees the screen after a moment.
    page.screenshot(path=str(shot))
    english = foreign_text(page.evaluate(COLLECT), "nb", allowed)
    if english:
        problems["not Bokmål"] = english
    axe = axe_violations(page)
    if axe:
        problems["axe"] = [(v["id"], [n["target"] for n in v["nodes"]][:3]) for v in axe]
    if size == "phone":
        page.set_viewport_size({"width": 320, "height": 844})
        next_frames(page)
        wide = page.evaluate("document.documentElement.scrollWidth")
        if wide > 320:
            problems["320 px"] = (wide, page.evaluate(TOO_WIDE))
    return problems


@pytest.mark.parametrize("role", list(SCREENS))
def test_each_roles_main_screens(
    tour_page: Any,
    tour_site: Site,
    seeded_data: list[str],
    artifacts: Path,
    backend: str,
    role: str,
) -> None:
    page = tour_page
    site = tour_site
    sign_in_in(page, site.base, site.emails[role], "nb")
    allowed = [*seeded_data, *page.evaluate(INTL_WORDS, "nb")]
    findings: dict[str, Any] = {}
    for screen in _screens(site, role):
        url = f"{site.base}/#{screen}"
        if page.url != url:  # the role's home is already open, its requests seen
            page.basemap.clear()
        page.set_viewport_size(SIZES["laptop"])
        open_view(page, url)
        name = re.sub(r"[^a-z]+", "-", re.sub(r"[0-9a-f-]{36}", "x", screen)).strip("-")
        for size, viewport in SIZES.items():
            if size != "laptop":
                page.set_viewport_size(viewport)
                next_frames(page)
            shot = artifacts / f"tour-{role}-{name}-{size}-{backend}.png"
            problems = _check_size(page, site, allowed, shot, size)
            if problems:
                findings[f"{screen} ({size})"] = problems
    assert page.problems == []
    assert {screen: found for screen, found in findings.items() if found} == {}
