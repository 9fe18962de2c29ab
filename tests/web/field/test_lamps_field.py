""" "This lamp" in the field app: a participant sees the lamp posts of the walk's area (kept at
join), taps one while offline, the report syncs when the network is back, and the engineer sees
the lamp's number on the item in the staff web. On SpatiaLite and PostGIS."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from shapely.geometry import LineString

from api.core import spatial
from api.core.db import create_db_engine, make_sessionmaker, session_scope
from models import AssetOwner, Role, utcnow
from tests.factories import PASSWORD, make_area, make_org, make_user, make_walk
from tests.factories.assets import make_lamp
from tests.factories.browser import axe_violations, require_browser
from tests.factories.databases import DatabaseFactory
from tests.factories.field_app import LAT, LON, ROUTE, phone, sync_now, wait_status
from tests.factories.live_server import LiveServer

M_LAT = 1 / 111_320
M_LON = 1 / (111_320 * math.cos(math.radians(LAT)))


@dataclass
class Scene:
    base: str
    code: str
    engineer: str
    admin: dict[str, str]


@pytest.fixture(scope="module")
def scene(databases: DatabaseFactory, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scene]:
    require_browser()
    url = databases.migrated_url()  # a copy of the worker's migrated template
    engine = create_db_engine(url)
    try:
        for s in session_scope(make_sessionmaker(engine)):
            org = make_org(s, "Sandnes")
            area = make_area(s, org)
            walk = make_walk(
                s, org, area=area, title="Kveldsvandring", route=spatial.to_db(LineString(ROUTE)),
                starts_at=utcnow() - timedelta(minutes=30),
            )  # fmt: skip
            # The phone stands between two lamps: the nearer one is not the one that is out.
            make_lamp(s, org, "SND-0042", LON + 6 * M_LON, LAT)
            make_lamp(s, org, "SND-0043", LON, LAT + 20 * M_LAT, owner=AssetOwner.municipality)
            make_lamp(s, org, "FAR-9", LON + 0.01, LAT)
            engineer = make_user(s, org, Role.engineer)
            admin = make_user(s, org, Role.admin)
            code, engineer_email, admin_email = walk.join_code, engineer.email, admin.email
    finally:
        engine.dispose()
    with LiveServer(url, Path(tmp_path_factory.mktemp("lamps-field"))) as server:
        token = httpx.post(
            f"{server.base}/api/v1/auth/token",
            data={"username": admin_email, "password": PASSWORD},
            timeout=10,
        ).json()["access_token"]
        yield Scene(server.base, code, engineer_email, {"Authorization": f"Bearer {token}"})


def test_a_participant_taps_a_lamp_offline_and_the_engineer_sees_its_number(
    browser: Any, scene: Scene, artifacts: Path, backend: str
) -> None:
    context = phone(browser)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{scene.base}/j/{scene.code}")
    page.get_by_label("I am").select_option("resident")
    page.get_by_role("button", name="Join", exact=True).click()
    page.get_by_role("button", name="Poor lighting").wait_for()
    page.locator("#location-text", has_text="±").wait_for()
    # The lamps were kept at join: the network may go now.
    page.evaluate(
        """async () => {
            while (!Object.keys(localStorage).some((k) => k.startsWith('safewalk.assets.'))) {
                await new Promise((r) => setTimeout(r, 50));
            }
        }"""
    )
    context.set_offline(True)
    page.get_by_role("button", name="Poor lighting").click()
    lamps = page.get_by_role("group", name="Which lamp?")
    lamps.get_by_role("button", name="This lamp: SND-0042, 6 m away").wait_for()
    names = [b.get_attribute("aria-pressed") for b in lamps.get_by_role("button").all()]
    assert names == ["false", "false"]  # the far lamp is not offered
    chosen = lamps.get_by_role("button", name="This lamp: SND-0043, 20 m away")
    chosen.click()
    assert chosen.get_attribute("aria-pressed") == "true"
    page.get_by_role("textbox", name="Note").fill("The lamp by the bench is out")
    page.screenshot(path=str(artifacts / f"field-this-lamp-{backend}.png"))
    assert axe_violations(page) == []
    page.get_by_role("button", name="Save observation").click()
    wait_status(page, "1 observation waiting")

    context.set_offline(False)
    sync_now(page)
    wait_status(page, "All sent (0 waiting)")
    found = httpx.get(f"{scene.base}/api/v1/observations", headers=scene.admin, timeout=10).json()[
        "items"
    ]
    assert len(found) == 1
    assert found[0]["asset_id"] is not None
    assert found[0]["asset_distance_m"] == pytest.approx(20, abs=1)
    assert errors == []
    context.close()

    staff = browser.new_context(viewport={"width": 1280, "height": 860}, locale="en-GB")
    desk = staff.new_page()
    desk.goto(f"{scene.base}/")
    desk.get_by_role("textbox", name="Email").fill(scene.engineer)
    desk.get_by_role("textbox", name="Password").fill(PASSWORD)
    desk.get_by_role("button", name="Sign in").click()
    desk.get_by_role("button", name="Sign out").wait_for()
    desk.goto(f"{scene.base}/#/items")
    table = desk.get_by_role("table", name="Action items")
    table.get_by_text("Lamp SND-0043").wait_for()
    table.get_by_role("link").first.click()
    desk.get_by_role("definition").filter(has_text="SND-0043").wait_for()
    desk.screenshot(path=str(artifacts / f"staff-item-lamp-{backend}.png"))
    staff.close()
