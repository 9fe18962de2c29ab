"""After the walk, in Chromium against a real server on both databases: the phone that made the
observations shows what became of each of them, read from the walk's published report back,
with a link to the page to bookmark; also once the walk's token has expired, from the join
screen."""

from __future__ import annotations

from typing import Any

from tests.factories.browser import axe_violations
from tests.factories.field_app import Field, join, phone, save, wait_status


def _items_of_walk(field: Field) -> dict[str, str]:
    return {o["note"]: o["action_item_id"] for o in field.observations()}


def test_the_phone_shows_what_became_of_its_observations(
    browser: Any, field: Field, artifacts: Any, backend: str
) -> None:
    context = phone(browser, service_workers="block")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    join(page, field)
    save(page, "Poor lighting", "The lamp by the kiosk is dark")
    save(page, "Feels unsafe", "Nobody around at night")
    wait_status(page, "All sent (0 waiting)")

    # Not published yet: the phone says so.
    page.get_by_role("button", name="My reports").click()
    page.get_by_role("button", name="What became of them?").click()
    page.get_by_text("The report back is not published yet").wait_for()

    # The engineer fixes the lamp; the coordinator publishes the report back.
    item_id = _items_of_walk(field)["The lamp by the kiosk is dark"]
    etag = field.api(f"/action-items/{item_id}").headers["etag"]
    r = field.send(
        "PATCH",
        f"/action-items/{item_id}",
        json={"status": "resolved", "resolution_note": "New LED fitted"},
        headers={"If-Match": etag},
    )
    assert r.status_code == 200, r.text
    r = field.send("POST", f"/walks/{field.walk_id}/report-back")
    assert r.status_code == 200, r.text
    url = r.json()["url"]

    page.get_by_role("button", name="Back").click()
    page.get_by_role("button", name="What became of them?").click()
    cards = page.locator("#report-list li")
    lamp = cards.filter(has_text="The lamp by the kiosk is dark")
    lamp.get_by_text("Resolved").wait_for()
    lamp.get_by_text("New LED fitted").wait_for()
    cards.filter(has_text="Nobody around at night").get_by_text("Not an action item").wait_for()
    link = page.get_by_role("link", name="Open the report back page")
    assert link.get_attribute("href") == url
    found = axe_violations(page)
    assert found == [], [(v["id"], [n["html"] for n in v["nodes"]]) for v in found]
    page.screenshot(path=str(artifacts / f"field-report-back-{backend}.png"))

    # The next day the walk's token has expired: the join screen lists the walk.
    page.evaluate(
        """() => {
            const all = JSON.parse(localStorage.getItem('safewalk.sessions'));
            for (const s of Object.values(all)) s.expires_at = '2000-01-01T00:00:00Z';
            localStorage.setItem('safewalk.sessions', JSON.stringify(all));
        }"""
    )
    page.reload()
    page.get_by_role("textbox", name="Join code").wait_for()
    earlier = page.locator("#past-walks")
    earlier.get_by_text("Kveldsvandring sentrum").wait_for()
    earlier.get_by_role("button", name="What became of them?").click()
    page.locator("#report-list li").filter(has_text="New LED fitted").wait_for()

    # The page itself opens from the link, without a token.
    page.get_by_role("link", name="Open the report back page").click()
    page.get_by_role("heading", level=1, name="Report back: Kveldsvandring sentrum").wait_for()
    assert page.get_by_role("cell", name="New LED fitted").count() == 1
    assert axe_violations(page) == []
    assert errors == []
    context.close()
