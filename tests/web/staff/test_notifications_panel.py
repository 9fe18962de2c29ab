"""The staff web's notification settings in a real browser: an engineer chooses per kind and a
language, and the API holds the choice; in Bokmål the same controls carry Bokmål names."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.factories.browser import axe_violations
from tests.factories.staff_web import Site, sign_in


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

    page.get_by_role("combobox", name="Language").first.select_option("nb")
    page.get_by_role("heading", name="Mine varsler").wait_for()
    assert page.get_by_label("Tiltak tildelt meg").input_value() == "digest"
    assert page.console_errors == []
