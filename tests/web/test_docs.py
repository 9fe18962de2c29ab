"""/docs in a real browser against a real server: it loads nothing from another origin, and the
Authorize button signs in (OAuth2 password flow) so that "Try it out" calls succeed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from api.core.db import create_db_engine
from models import Role
from tests.factories import PASSWORD, make_org, make_user
from tests.factories.live_server import LiveServer


def _seed(url: str) -> str:
    engine = create_db_engine(url)
    try:
        with Session(engine) as s:
            org = make_org(s, "Sandnes")
            user = make_user(s, org, Role.planner)
            s.commit()
            return user.email
    finally:
        engine.dispose()


def test_docs_authorize_and_try_it_out(
    browser: Any, live_server: LiveServer, live_db_url: str, artifacts: Path
) -> None:
    email = _seed(live_db_url)
    page = browser.new_page()
    requested: list[str] = []
    page.on("request", lambda req: requested.append(req.url))
    try:
        page.goto(f"{live_server.base}/docs")
        page.get_by_role("button", name="Authorize").first.click()
        page.locator("#oauth_username").fill(email)
        page.locator("#oauth_password").fill(PASSWORD)
        page.get_by_role("button", name="Apply given OAuth2 credentials").click()
        page.get_by_role("button", name="Remove authorization").wait_for()  # signed in
        page.get_by_role("button", name="Close").first.click()

        page.locator("#operations-auth-me_api_v1_me_get").get_by_role("button").first.click()
        page.get_by_role("button", name="Try it out").click()
        page.get_by_role("button", name="Execute").click()
        # The first row of the live responses table is its header ("Code"); then the answer.
        status = page.locator(".live-responses-table tbody .response-col_status").first
        status.wait_for()
        assert status.inner_text().strip() == "200"
        assert email in page.locator(".live-responses-table").inner_text()
    finally:
        page.screenshot(path=str(artifacts / "docs-try-it-out.png"))
        page.close()
    foreign = [u for u in requested if not u.startswith(live_server.base)]
    assert foreign == []
    assert f"{live_server.base}/api/v1/auth/token" in requested
