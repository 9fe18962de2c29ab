"""The planner's and coordinator's back-office pages in Bokmål, in a real browser on each
database: follow-up over a chosen period with its monthly trend, numbers and months through
Intl; the hotspot legend in plain words with the method one click away; area exports that say
why they are greyed out; areas edited and deleted (after a question); the area import's report
numbered from 1 in Bokmål; the walk report PDF from the walks page; the list tables (areas,
users) at 390 CSS px with each row's buttons on the screen."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.factories.browser import axe_violations
from tests.factories.staff_web import Site, open_view
from tests.factories.visible_text import COLLECT, messages, nb_context, sign_in_in

T = messages("nb")
SQUARE = [[5.70, 58.84], [5.72, 58.84], [5.72, 58.86], [5.70, 58.86], [5.70, 58.84]]
PHONE = {"width": 390, "height": 844}
# Every button of every row, with its box, and the table's own sideways scroll.
BUTTONS = """() => [...document.querySelectorAll('table tbody td button')].map((b) => {
  const r = b.getBoundingClientRect();
  return { text: b.textContent, left: r.left, right: r.right, width: r.width };
})"""


@pytest.fixture
def nb_page(browser: Any, site: Site) -> Iterator[Any]:
    context = nb_context(browser, viewport={"width": 1440, "height": 900}, accept_downloads=True)
    page = context.new_page()
    errors: list[str] = []
    page.on(
        "console",
        lambda m: errors.append(m.text) if m.type == "error" or "safewalk i18n" in m.text else None,
    )
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.console_errors = errors
    yield page
    context.close()


def _idle(page: Any) -> None:
    page.locator("main#main").and_(page.locator("[data-state=idle]")).wait_for(timeout=20_000)


def _no_serious_axe(page: Any) -> None:
    found = axe_violations(page)
    assert found == [], [(v["id"], v["help"], [n["target"] for n in v["nodes"]][:3]) for v in found]


def test_follow_up_over_a_period_with_its_trend(
    nb_page: Any, site: Site, artifacts: Path, backend: str
) -> None:
    page = nb_page
    with site.api("coordinator") as coordinator:
        items = coordinator.get("/api/v1/action-items").json()["items"]
        # One item resolved today: the trend's current month shows it.
        first = items[0]
        r = coordinator.get(f"/api/v1/action-items/{first['id']}")
        coordinator.patch(
            f"/api/v1/action-items/{first['id']}",
            json={"status": "resolved", "resolution_note": "Lampen er skiftet."},
            headers={"If-Match": r.headers["ETag"]},
        ).raise_for_status()
        trend = coordinator.get("/api/v1/stats/trend").json()["months"]
    assert trend[-1]["opened"] >= len(items)
    assert trend[-1]["resolved"] >= 1

    sign_in_in(page, site.base, site.emails["planner"], "nb")
    page.goto(f"{site.base}/#/charts")
    _idle(page)
    trend_table = page.get_by_role("table", name=T["charts.trend"])
    page.get_by_role("region", name=T["charts.trend"]).get_by_text(T["charts.numbers"]).click()
    rows = trend_table.locator("tbody tr")
    assert rows.count() == 12
    last = rows.nth(11)
    month = page.evaluate(
        "() => new Intl.DateTimeFormat('nb', {month: 'long', year: 'numeric'}).format(new Date())"
    )
    assert last.locator("th").inner_text() == month  # "desember 2026", not "2026-12"
    cells = last.locator("td").all_inner_texts()
    assert cells[:2] == [str(trend[-1]["opened"]), str(trend[-1]["resolved"])]
    text = " ".join(page.evaluate(COLLECT))
    assert not re.search(r"\b\d{4}-\d{2}\b", text), "a month written as a code"
    assert not re.search(r"\b\d+\.\d\b", text), "a decimal point in Bokmål"
    page.screenshot(path=str(artifacts / f"planner-charts-nb-{backend}.png"))
    _no_serious_axe(page)

    # A period in the past: the link keeps it, and the figures are those of that period.
    page.get_by_role("button", name=T["charts.preset.last_year"]).click()
    page.wait_for_url(re.compile(r"since=\d{4}-01-01&until=\d{4}-12-31"))
    _idle(page)
    status = page.locator("p.period").inner_text()
    assert status.startswith("Tall for 1. jan. "), status
    assert "31. des." in status, status
    assert page.locator("section[data-months='12']").count() == 1
    nums = page.locator("section[data-months='12'] tbody td").all_text_contents()
    assert set(nums) == {"0"}  # nothing existed last year
    page.get_by_role("button", name=T["charts.preset.all"]).click()
    _idle(page)
    assert page.locator("p.period").inner_text() == T["charts.period_today"]
    # A reversed period is caught on the page, naming the problem.
    page.get_by_label(T["charts.since"]).fill("2026-06-01")
    page.get_by_label(T["charts.until"]).fill("2026-05-01")
    page.get_by_label(T["charts.until"]).dispatch_event("change")
    page.get_by_text(T["charts.bad_period"]).wait_for()
    assert page.console_errors == []


def test_hotspot_legend_and_area_exports(
    nb_page: Any, site: Site, artifacts: Path, backend: str
) -> None:
    page = nb_page
    sign_in_in(page, site.base, site.emails["planner"], "nb")
    page.wait_for_url(re.compile(r"#/map"))
    _idle(page)
    legend = page.locator(".hotspot-legend")
    assert legend.is_visible()
    assert T["hotspot.plain.hot_99"].startswith("Flere meldinger enn ventet her")
    assert legend.get_by_text(T["hotspot.plain.hot_99"]).is_visible()
    # The method is one click away, not in the way.
    method = page.get_by_text(re.compile("Getis-Ord Gi\\*"))
    assert not method.first.is_visible()
    page.get_by_text(T["map.hotspots_how"]).click()
    assert method.first.is_visible()
    # One message with the method in its place, as each language orders it.
    line = T["map.method_line"].replace("{method}", T["map.method_text"])
    assert page.locator(".method").first.text_content() == line

    # No area chosen: the area's exports are greyed out and say why.
    pdf = page.get_by_role("button", name=T["export.action_list_pdf"])
    assert pdf.is_disabled()
    hint = page.get_by_text(T["export.choose_area"])
    assert hint.is_visible()
    assert pdf.get_attribute("aria-describedby") == "area-export-hint"
    page.screenshot(path=str(artifacts / f"planner-map-legend-nb-{backend}.png"))
    page.get_by_role("combobox", name=T["filter.area"]).select_option(index=1)
    _idle(page)
    assert pdf.is_enabled()
    assert not hint.is_visible()
    _no_serious_axe(page)
    assert page.console_errors == []


def test_areas_are_edited_deleted_and_imported_with_a_report_in_bokmal(
    nb_page: Any, site: Site, artifacts: Path, backend: str, tmp_path: Path
) -> None:
    page = nb_page
    with site.api("coordinator") as coordinator:
        coordinator.post(
            "/api/v1/areas",
            json={"name": "Lura", "geometry": {"type": "Polygon", "coordinates": [SQUARE]}},
        ).raise_for_status()
    sign_in_in(page, site.base, site.emails["coordinator"], "nb")
    page.goto(f"{site.base}/#/areas")
    page.get_by_role("button", name="Endre Lura").wait_for()

    # Rename, and a new outline from a file holding one feature.
    outline = tmp_path / "lura.geojson"
    smaller = [[5.70, 58.84], [5.71, 58.84], [5.71, 58.85], [5.70, 58.85], [5.70, 58.84]]
    outline.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {},
                        "geometry": {"type": "Polygon", "coordinates": [smaller]},
                    }
                ],
            }
        )
    )
    page.get_by_role("button", name="Endre Lura").click()
    dialog = page.get_by_role("dialog", name="Endre Lura")
    dialog.get_by_label(T["areas.col.name"]).fill("Lura nord")
    dialog.get_by_label(T["areas.edit.outline"]).set_input_files(str(outline))
    _no_serious_axe(page)
    page.screenshot(path=str(artifacts / f"areas-edit-nb-{backend}.png"))
    dialog.get_by_role("button", name=T["areas.edit.save"]).click()
    page.get_by_text("Lura nord er lagret.").wait_for()
    with site.api("coordinator") as coordinator:
        found = [
            a for a in coordinator.get("/api/v1/areas").json()["items"] if a["name"] == "Lura nord"
        ]
    assert len(found) == 1
    assert found[0]["geometry"]["coordinates"][0][2] == [5.71, 58.85]

    # Delete asks first; cancelling keeps the area.
    page.get_by_role("button", name="Slett Lura nord").click()
    question = page.get_by_role("dialog", name="Slette Lura nord?")
    question.get_by_text(T["areas.delete.consequence"]).wait_for()
    page.screenshot(path=str(artifacts / f"areas-delete-nb-{backend}.png"))
    question.get_by_role("button", name=T["areas.cancel"]).click()
    assert page.get_by_role("row", name=re.compile("Lura nord")).count() == 1
    page.get_by_role("button", name="Slett Lura nord").click()
    page.get_by_role("dialog", name="Slette Lura nord?").get_by_role(
        "button", name=T["areas.delete.confirm"]
    ).click()
    page.get_by_text("Lura nord er slettet.").wait_for()
    assert page.get_by_role("row", name=re.compile("Lura nord")).count() == 0

    # An import whose first feature is a point: the report names it "Objekt 1", in Bokmål.
    bad = tmp_path / "bad.geojson"
    bad.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {"name": "Holdeplass"},
                        "geometry": {"type": "Point", "coordinates": [5.71, 58.85]},
                    },
                    {
                        "type": "Feature",
                        "properties": {"name": "Ganddal"},
                        "geometry": {"type": "Polygon", "coordinates": [SQUARE]},
                    },
                ],
            }
        )
    )
    page.get_by_label(T["areas.file"]).set_input_files(str(bad))
    page.get_by_role("button", name=T["areas.import"], exact=True).click()
    page.get_by_text(T["areas.nothing_imported_fix"]).wait_for()
    item = page.locator(".report li").first
    assert item.inner_text().startswith(f"Objekt 1: {T['areas.reason.bad_geometry']}")
    assert page.get_by_text(re.compile("Point is not allowed")).first.is_visible() is False
    page.get_by_label(T["areas.skip_invalid"]).check()
    page.get_by_role("button", name=T["areas.import"], exact=True).click()
    page.get_by_text("1 område opprettet, 0 oppdatert.").wait_for()
    page.screenshot(path=str(artifacts / f"areas-import-nb-{backend}.png"))
    _no_serious_axe(page)
    # The refused import is the one failed request (the browser logs it), and nothing else.
    assert [e for e in page.console_errors if "status of 422" not in e] == []
    assert len(page.console_errors) == 1


def test_the_walk_report_pdf_from_the_walk_pages(nb_page: Any, site: Site) -> None:
    page = nb_page
    sign_in_in(page, site.base, site.emails["coordinator"], "nb")
    page.goto(f"{site.base}/#/walks")
    button = page.get_by_role("button", name="Vandringsrapport (PDF) for Evening walk, Sentrum")
    with page.expect_download() as download:
        button.click()
    assert Path(download.value.path()).read_bytes()[:5] == b"%PDF-"
    page.goto(f"{site.base}/#/walks/{site.walk_id}/join")
    with page.expect_download() as download:
        page.get_by_role("button", name="Vandringsrapport (PDF) for Evening walk, Sentrum").click()
    assert Path(download.value.path()).read_bytes()[:5] == b"%PDF-"
    assert page.console_errors == []


def test_a_staff_members_department_is_picked_by_name(nb_page: Any, site: Site) -> None:
    page = nb_page
    sign_in_in(page, site.base, site.emails["admin"], "nb")
    page.goto(f"{site.base}/#/admin/users")
    engineer = site.emails["engineer"]
    planner = site.emails["planner"]
    theirs = page.get_by_role("combobox", name=T["users.department_of"].format(name=engineer))
    theirs.wait_for()
    # The organization's departments by name, the engineer's own chosen: no code to type.
    assert theirs.evaluate("e => e.selectedOptions[0].textContent") == "Belysning"
    names = theirs.locator("option").all_inner_texts()
    assert names[0] == T["users.no_department"]
    assert "Vei" in names
    assert "lighting" not in names
    page.get_by_role("combobox", name=T["users.department_of"].format(name=planner)).select_option(
        label="Vei"
    )
    page.get_by_role("button", name=T["users.save_for"].format(name=planner)).click()
    page.get_by_text(T["saved"], exact=True).wait_for()
    with site.api("admin") as admin:
        users = admin.get("/api/v1/users", params={"limit": 500}).json()
        rows = users["items"] if isinstance(users, dict) else users
    by_email = {u["email"]: u for u in rows}
    assert by_email[planner]["department"] == "roads"
    assert by_email[engineer]["department"] == "lighting"
    with site.api("admin") as admin:  # as the other tests of the site expect the planner
        admin.patch(
            f"/api/v1/users/{by_email[planner]['id']}", json={"department": None}
        ).raise_for_status()
    assert page.console_errors == []


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
