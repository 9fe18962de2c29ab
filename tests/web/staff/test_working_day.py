"""The coordinator's and the engineer's working day in Bokmål, in a real browser on each
database: triage with the organization's departments, the review queue with its reasons,
photos, walk and nearby originals, an item page that helps find the spot and tells its
history in words, and walks that ask before starting early or ending. Every screen at phone
(390×844) and laptop (1440×900) size goes to test-artifacts/, holds no English, does not scroll
sideways at 320 px, and has no serious or critical axe finding."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.core.i18n.catalogues import SOURCE_LOCALE_DIR, web_messages
from api.outputs.basemap import service as basemap
from tests.factories import PASSWORD
from tests.factories.browser import axe_violations
from tests.factories.photos import plain_jpeg
from tests.factories.screens import in_viewport, not_in_language, scrolls_sideways, visible_text
from tests.factories.staff_web import SPOTS, Site, next_frames, observation, wait_for_view
from tests.factories.tilesets import area_tiles, make_mbtiles

T = web_messages("nb", "staff", SOURCE_LOCALE_DIR)
PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1440, "height": 900}
# Beside the walk's area (Sentrum, tests.factories.SANDNES_SQUARE), outside every area.
OUTSIDE_ROUTE = {"type": "LineString", "coordinates": [[5.7500, 58.8500], [5.7520, 58.8510]]}


@dataclass
class Day:
    """What the scenarios work on, made through the API as the apps would."""

    held: str  # an observation outside every area, with a photo
    original: str  # the one it repeats, 8 m away
    planned_walk: dict[str, Any]
    live_walk: dict[str, Any]
    lamp_item: str  # an item a young participant reported on
    typed: list[str]  # what people typed: shown as written, in whatever language


@pytest.fixture(scope="module")
def day(site: Site, tmp_path_factory: pytest.TempPathFactory) -> Day:
    # The town's basemap, served by the service itself: the maps show streets, not a blank.
    tiles = area_tiles(range(10, 19), (5.725, 58.845, 5.755, 58.858))
    basemap.import_file(
        make_mbtiles(tmp_path_factory.mktemp("basemap") / "town.mbtiles", tiles),
        site.server.data_dir,
    )
    with site.api("coordinator") as coord:

        def walk(title: str, **kw: Any) -> dict[str, Any]:
            r = coord.post("/api/v1/walks", json={"title": title, **kw})
            r.raise_for_status()
            data: dict[str, Any] = r.json()
            return data

        outside = walk("Kveldsvandring ved elva", route=OUTSIDE_ROUTE)
        coord.patch(f"/api/v1/walks/{outside['id']}", json={"status": "active"}).raise_for_status()
        original = observation(outside["id"], 5.75100, 58.85050, "lighting", "Mørk sti langs elva")
        held = observation(outside["id"], 5.75112, 58.85055, "lighting", "Lyset er borte ved brua")
        for o in (original, held):
            coord.put(f"/api/v1/observations/{o['id']}", json=o).raise_for_status()
        coord.put(
            f"/api/v1/observations/{held['id']}/photos/{uuid.uuid4()}",
            content=plain_jpeg((320, 240), "darkslateblue"),
            headers={"Content-Type": "image/jpeg"},
        ).raise_for_status()
        starts = (datetime.now(UTC) + timedelta(days=3)).replace(microsecond=0)
        planned = walk("Vandring på lørdag", area_id=site.area_id, starts_at=starts.isoformat())
        live = walk("Vandring i kveld", area_id=site.area_id)
        coord.patch(f"/api/v1/walks/{live['id']}", json={"status": "active"}).raise_for_status()
        code = coord.get(f"/api/v1/walks/{site.walk_id}").json()["join_code"]
        titles = [
            i["title"]
            for i in coord.get("/api/v1/action-items", params={"limit": 500}).json()["items"]
        ]
        walks = [
            w["title"] for w in coord.get("/api/v1/walks", params={"limit": 200}).json()["items"]
        ]
    joined = (
        httpx.post(f"{site.base}/api/v1/walks/join", json={"code": code, "group": "youth"})
        .raise_for_status()
        .json()
    )
    youth = {"Authorization": f"Bearer {joined['access_token']}"}
    # A young participant reports a dark stretch twice, a few metres apart: one item, made by
    # a participant, with two reports (away from the seeded lamps' grouping distance).
    reported = []
    for lon in (5.73700, 5.73706):
        seen = observation(site.walk_id, lon, 58.85450, "lighting", "Fortsatt mørkt her")
        r = httpx.put(f"{site.base}/api/v1/observations/{seen['id']}", json=seen, headers=youth)
        reported.append(r.raise_for_status().json()["action_item_id"])
    assert reported[0] == reported[1]
    typed = [*titles, *walks, *(s[3] for s in SPOTS), "Fortsatt mørkt her", "Mørk sti langs elva",
             "Lyset er borte ved brua", *site.emails.values(), "Sentrum"]  # fmt: skip
    return Day(held["id"], original["id"], planned, live, reported[0], typed)


@pytest.fixture
def nb_page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport=LAPTOP, locale="nb-NO")
    context.add_init_script("localStorage.setItem('safewalk.lang', 'nb')")
    pg = context.new_page()
    errors: list[str] = []
    pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.console_errors = errors
    yield pg
    context.close()


def sign_in_nb(page: Any, site: Site, role: str) -> None:
    page.goto(f"{site.base}/")
    page.get_by_role("textbox", name=T["signin.email"]).fill(site.emails[role])
    page.get_by_role("textbox", name=T["signin.password"]).fill(PASSWORD)
    page.get_by_role("button", name=T["signin.button"]).click()
    page.get_by_role("button", name=T["signout"]).wait_for()


def check_screen(page: Any, artifacts: Path, name: str, typed: list[str]) -> None:
    """The screen at both sizes (screenshots), in Bokmål only, no sideways scroll at 320 px,
    no serious or critical axe finding; the laptop size is put back."""
    wait_for_view(page)
    seen = visible_text(page)
    assert not_in_language(seen, "nb", typed) == [], name
    assert not [s for s in seen if re.search(r"\b(null|undefined|NaN)\b", s)], name
    violations = axe_violations(page)
    assert violations == [], [(v["id"], [n["target"] for n in v["nodes"]][:3]) for v in violations]
    page.screenshot(path=str(artifacts / f"staff-day-{name}-laptop-{page.backend}.png"))
    page.set_viewport_size(PHONE)
    next_frames(page)
    page.screenshot(
        path=str(artifacts / f"staff-day-{name}-phone-{page.backend}.png"), full_page=False
    )
    page.set_viewport_size({"width": 320, "height": 720})
    next_frames(page)
    assert not scrolls_sideways(page), name
    page.set_viewport_size(LAPTOP)


def test_triage_picks_departments_by_name_and_sets_due_dates_only_when_asked(
    nb_page: Any, site: Site, day: Day, artifacts: Path, backend: str
) -> None:
    page = nb_page
    page.backend = backend
    sign_in_nb(page, site, "coordinator")
    page.goto(f"{site.base}/#/triage")
    table = page.get_by_role("table", name=T["triage.table"])
    table.get_by_role("row").nth(1).wait_for()
    department = page.get_by_label(T["filter.department"], exact=True)
    # A list of the organization's departments by name: no free text, no codes.
    assert department.evaluate("e => e.tagName") == "SELECT"
    names = department.locator("option").all_inner_texts()
    assert "Belysning" in names
    assert "Park og friområder" in names
    assert "lighting" not in names
    assert table.get_by_role("cell", name="Belysning").count() >= 1
    assert table.get_by_role("cell", name="lighting", exact=True).count() == 0

    with site.api("coordinator") as coord:
        items = coord.get("/api/v1/action-items", params={"status": ["new"], "limit": 500}).json()[
            "items"
        ]
    vegetation = next(i for i in items if i["category"] == "vegetation")
    litter = next(i for i in items if i["category"] == "litter")
    page.get_by_role("checkbox", name=re.compile(re.escape(vegetation["title"]))).check()
    department.select_option(label="Vei")
    page.get_by_label(T["triage.due"]).fill("2027-02-01")
    # Written out the Norwegian way beside the input, whatever language the browser draws the
    # input itself in (Chromium uses its own interface language, not the page's).
    in_words = page.locator(".field:has([name=due_date]) .date-words")
    assert in_words.inner_text() == "mandag 1. februar 2027"
    page.get_by_role("button", name=T["triage.apply"]).click()
    answer = page.get_by_role("status").filter(has_text=re.compile(r"1\b"))
    answer.wait_for()
    assert in_viewport(page, answer)
    # The form is empty again: the next selection gets no due date it was not given.
    assert page.get_by_label(T["triage.due"]).input_value() == ""
    assert in_words.is_hidden()
    assert department.input_value() == ""
    page.get_by_role("checkbox", name=re.compile(re.escape(litter["title"]))).check()
    page.get_by_label(T["triage.status"]).select_option("planned")
    # The first answer ("1 …") is still on screen: wait for this click's own request to be
    # answered, not for a status that is already there.
    with page.expect_response(
        lambda r: r.url.endswith("/api/v1/action-items/bulk") and r.request.method == "POST"
    ) as bulk:
        page.get_by_role("button", name=T["triage.apply"]).click()
    assert bulk.value.ok
    page.get_by_role("status").filter(has_text=re.compile(r"1\b")).wait_for()
    with site.api("coordinator") as coord:
        veg = coord.get(f"/api/v1/action-items/{vegetation['id']}").json()
        lit = coord.get(f"/api/v1/action-items/{litter['id']}").json()
    assert (veg["department"], veg["due_date"]) == ("roads", "2027-02-01")
    assert lit["status"] == "planned"
    assert lit["due_date"] == litter["due_date"]  # untouched
    page.goto(f"{site.base}/#/triage")
    table.get_by_role("row").nth(1).wait_for()
    check_screen(page, artifacts, "triage", day.typed)
    assert page.console_errors == []


def test_review_says_why_and_picks_the_original_from_the_map(
    nb_page: Any, site: Site, day: Day, artifacts: Path, backend: str
) -> None:
    page = nb_page
    page.backend = backend
    sign_in_nb(page, site, "coordinator")
    page.goto(f"{site.base}/#/review")
    card = page.get_by_role("listitem").filter(has_text="Lyset er borte ved brua")
    card.wait_for()
    # Why it waits, which walk it came from, and its photo (a loaded image).
    card.get_by_text(f"{T['review.held_because']}: {T['review.held.outside_areas']}").wait_for()
    card.get_by_text("Vandring: Kveldsvandring ved elva").wait_for()
    photo = card.get_by_role("img", name=re.compile("^Bilde: "))
    photo.wait_for()
    page.wait_for_function(
        "() => [...document.querySelectorAll('img.thumb')].every((i) => i.naturalWidth > 0)"
    )
    # No UUID to type: the original is one of the observations nearby, on a map and a list.
    assert card.get_by_role("textbox").count() == 1  # the reason only
    card.get_by_role("button", name=re.compile(f"^{T['review.find_duplicate']}")).click()
    card.locator(".map[data-ready=true]").wait_for(timeout=20_000)
    choices = card.get_by_role("group", name=T["review.nearby"]).get_by_role("radio")
    assert choices.count() == 1
    choice_label = card.locator("fieldset.nearby label").first.inner_text()
    assert re.search(r"\b\d+ m unna\b", choice_label), choice_label
    check_screen(page, artifacts, "review", day.typed)
    choices.first.check()
    card.get_by_role("button", name=re.compile(f"^{T['review.duplicate']}")).click()
    done = page.get_by_role("status").filter(has_text=T["moderation.duplicate"])
    done.wait_for()
    assert in_viewport(page, done)
    with site.api("coordinator") as coord:
        stored = coord.get(f"/api/v1/observations/{day.held}").json()
    assert (stored["moderation"], stored["duplicate_of_id"]) == ("duplicate", day.original)
    # A reason the service gave reads from its code, in words: here a withdrawn report.
    gone = observation(stored["walk_id"], 5.75130, 58.85060, "litter", "Trukket med vilje")
    with site.api("coordinator") as coord:
        coord.put(f"/api/v1/observations/{gone['id']}", json=gone).raise_for_status()
        coord.delete(f"/api/v1/observations/{gone['id']}").raise_for_status()
    page.get_by_label(T["review.show"]).select_option("hidden")
    withdrawn = page.get_by_role("listitem").filter(has_text="Trukket med vilje")
    withdrawn.get_by_text(
        f"{T['review.reason_given']}: {T['review.held.withdrawn_by_author']}"
    ).wait_for()
    assert page.console_errors == []


def test_an_item_page_helps_find_the_spot_and_tells_its_history_in_words(
    nb_page: Any, site: Site, day: Day, artifacts: Path, backend: str
) -> None:
    page = nb_page
    page.backend = backend
    tiles: list[str] = []
    page.on(
        "request", lambda r: tiles.append(r.url) if re.search(r"/\d+/\d+/\d+\.png", r.url) else None
    )
    sign_in_nb(page, site, "engineer")
    page.goto(f"{site.base}/#/items/{day.lamp_item}")
    page.locator(".map[data-ready=true]").wait_for(timeout=20_000)
    with site.api("engineer") as eng:
        item = eng.get(f"/api/v1/action-items/{day.lamp_item}").json()
        members = eng.get(f"/api/v1/action-items/{day.lamp_item}/observations").json()["items"]
    assert len(members) >= 2
    lon, lat = item["location"]["coordinates"]
    geo = page.get_by_role("link", name=T["item.open_geo"])
    assert geo.get_attribute("href") == f"geo:{lat:.6f},{lon:.6f}"
    web = page.get_by_role("link", name=T["item.open_web_map"])
    assert f"mlat={lat:.6f}" in web.get_attribute("href")
    page.get_by_text(f"{lat:.6f}, {lon:.6f}").wait_for()
    # The member observations are drawn on the basemap, whose tiles come from this service.
    page.locator(f".map[data-members='{len(members)}']").wait_for()
    assert page.get_by_role("note").count() == 0
    assert tiles, "no basemap tile was requested"
    assert all(url.startswith(f"{site.base}/basemap/") for url in tiles), tiles
    # Moves are offered, so the "no moves" sentence is not shown.
    assert page.get_by_role("button", name=T["move.resolved"]).is_visible()
    assert not page.get_by_text(T["item.no_moves"]).is_visible()
    history = page.locator("ol.history")
    history.get_by_text(T["group.youth"]).first.wait_for()
    text = history.inner_text()
    for raw in ("participant:", "user:", "field.", "history.", "group.", "@"):
        assert raw not in text, (raw, text)
    page.get_by_text(T["item.department"]).first.wait_for()
    assert page.locator("dl.facts").get_by_text("Belysning", exact=True).count() == 1
    check_screen(page, artifacts, "item", day.typed)
    assert page.console_errors == []


def test_starting_early_and_ending_a_live_walk_ask_first(
    nb_page: Any, site: Site, day: Day, artifacts: Path, backend: str
) -> None:
    page = nb_page
    page.backend = backend
    sign_in_nb(page, site, "coordinator")
    page.goto(f"{site.base}/#/walks")
    walks = page.get_by_role("table", name=T["walks.table"])
    walks.get_by_role("row").nth(1).wait_for()
    check_screen(page, artifacts, "walks", day.typed)

    planned = day.planned_walk["title"]
    page.get_by_role("button", name=T["walks.start_for"].format(title=planned)).click()
    dialog = page.get_by_role("dialog")
    dialog.wait_for()
    assert "planlagt til" in dialog.inner_text()
    assert in_viewport(page, dialog)
    page.screenshot(path=str(artifacts / f"staff-day-start-early-laptop-{backend}.png"))
    dialog.get_by_role("button", name=T["walks.cancel"]).click()
    with site.api("coordinator") as coord:
        assert coord.get(f"/api/v1/walks/{day.planned_walk['id']}").json()["status"] == "planned"
    page.get_by_role("button", name=T["walks.start_for"].format(title=planned)).click()
    page.get_by_role("dialog").get_by_role("button", name=T["walks.start"]).click()
    page.get_by_role("status").filter(has_text=planned).wait_for()
    with site.api("coordinator") as coord:
        assert coord.get(f"/api/v1/walks/{day.planned_walk['id']}").json()["status"] == "active"

    live = day.live_walk
    page.goto(f"{site.base}/#/walks/{live['id']}/live")
    end = page.get_by_role("button", name=T["walks.end_for"].format(title=live["title"]))
    end.click()
    dialog = page.get_by_role("dialog")
    dialog.wait_for()
    assert in_viewport(page, dialog)
    page.set_viewport_size(PHONE)
    page.screenshot(path=str(artifacts / f"staff-day-end-live-phone-{backend}.png"))
    page.set_viewport_size(LAPTOP)
    dialog.get_by_role("button", name=T["walks.cancel"]).click()
    with site.api("coordinator") as coord:
        assert coord.get(f"/api/v1/walks/{live['id']}").json()["status"] == "active"
    check_screen(page, artifacts, "live", day.typed)
    end.click()
    page.get_by_role("dialog").get_by_role("button", name=T["walks.end"]).click()
    page.get_by_role("status").filter(has_text=live["title"]).wait_for()
    with site.api("coordinator") as coord:
        assert coord.get(f"/api/v1/walks/{live['id']}").json()["status"] == "completed"
    assert page.console_errors == []


def test_chosen_dates_are_written_out_in_bokmal_beside_the_inputs(
    nb_page: Any, site: Site, artifacts: Path, backend: str
) -> None:
    # The person reads Bokmål in a Norwegian browser; this Chromium still draws its own date
    # fields in English ("mm/dd/yyyy"), so the page writes the chosen date out in words.
    page = nb_page
    sign_in_nb(page, site, "coordinator")
    assert page.evaluate("navigator.language") == "nb-NO"
    page.goto(f"{site.base}/#/walks/new")
    starts = page.get_by_label(T["walks.f.starts"])
    in_words = page.locator(".field:has([name=starts_at]) .date-words")
    assert in_words.is_hidden()  # nothing chosen, nothing said
    starts.fill("2027-02-06T19:30")
    assert in_words.inner_text() == "lørdag 6. februar 2027 kl. 19:30"
    page.screenshot(path=str(artifacts / f"staff-date-in-words-laptop-{backend}.png"))
    # A date the view sets itself (a period in the link) is written out too.
    page.goto(f"{site.base}/#/charts?since=2026-06-01&until=2026-06-30")
    since = page.locator(".field:has([name=since]) .date-words")
    since.wait_for()
    assert since.inner_text() == "mandag 1. juni 2026"
    assert page.locator(".field:has([name=until]) .date-words").inner_text() == (
        "tirsdag 30. juni 2026"
    )
    assert page.console_errors == []
