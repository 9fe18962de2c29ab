"""The published follow-up page in a real browser: axe-core finds no serious or critical
violation, in Bokmål and in English, and the page works without any script."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from api.core import spatial
from api.core.db import create_db_engine, make_sessionmaker
from models import ActionItem, ActionStatus, utcnow
from tests.factories import make_area, make_category, make_org
from tests.factories.browser import axe_violations
from tests.factories.live_server import LiveServer


def _seed(url: str) -> tuple[str, str]:
    engine = create_db_engine(url)
    try:
        with make_sessionmaker(engine)() as s:
            org = make_org(s, "Bærum kommune")
            org.public_followup = True
            area = make_area(s, org, name="Sandvika sentrum")
            for n, (code, status) in enumerate(
                [
                    ("lighting", ActionStatus.triaged),
                    ("vegetation", ActionStatus.resolved),
                    ("walkway", ActionStatus.in_progress),
                ]  # fmt: skip
            ):
                cat = make_category(s, org, code)
                s.add(
                    ActionItem(
                        organization_id=org.id,
                        area_id=area.id,
                        category_id=cat.id,
                        title=f"{cat.label_nb} – Sandvika sentrum ({n + 1} meldinger)",
                        location=spatial.to_db(spatial.point(5.73 + n * 0.002, 58.85)),
                        status=status,
                        due_date=utcnow().date() + timedelta(days=30 * (n + 1)),
                        resolved_at=utcnow() if status == ActionStatus.resolved else None,
                    )  # fmt: skip
                )
            s.commit()
            return org.slug, str(area.id)
    finally:
        engine.dispose()


def test_public_page_passes_axe(
    browser: Any, live_server: LiveServer, live_db_url: str, artifacts: Path, backend: str
) -> None:
    slug, area_id = _seed(live_db_url)
    context = browser.new_context(locale="nb-NO")  # Accept-Language: nb
    page = context.new_page()
    try:
        for path, lang in (
            (f"/public/{slug}/", "nb"),
            (f"/public/{slug}/areas/{area_id}", "nb"),
            (f"/public/{slug}/areas/{area_id}?lang=en", "en"),
        ):
            res = page.goto(live_server.base + path)
            assert res is not None
            assert res.status == 200
            assert page.get_attribute("html", "lang") == lang
            assert axe_violations(page) == [], path
        assert page.get_by_role("table").count() == 1
        assert page.get_by_role("columnheader", name="Due date").count() == 1
        page.get_by_role("link", name="All areas").click()
        assert (
            page.get_by_role("heading", level=1)
            .inner_text()
            .startswith("Follow-up of safety walks")
        )
        page.screenshot(path=str(artifacts / f"public-page-{backend}.png"))
    finally:
        context.close()
