"""The staff web in a browser: the seeded server it talks to, an observation to post, signing
in through the form, and opening a view and waiting until it has its data."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tests.factories import PASSWORD
from tests.factories.live_server import LiveServer


@dataclass
class Site:
    server: LiveServer
    emails: dict[str, str]
    tokens: dict[str, str]
    area_id: str
    walk_id: str
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def base(self) -> str:
        return self.server.base

    def api(self, role: str) -> httpx.Client:
        return httpx.Client(
            base_url=self.base, headers={"Authorization": f"Bearer {self.tokens[role]}"}, timeout=30
        )


def observation(walk_id: str, lon: float, lat: float, category: str, note: str) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "walk_id": walk_id,
        "category": category,
        "location": {"type": "Point", "coordinates": [lon, lat]},
        "accuracy_m": 5,
        "severity": 2,
        "perceived_safety": 1,
        "note": note,
        "recorded_at": (datetime.now(UTC) - timedelta(minutes=5)).isoformat(),
    }


def sign_in(page: Any, site: Site, role: str) -> None:
    """Through the form, as a person would: the accessible names are the contract."""
    page.goto(f"{site.base}/")
    page.get_by_role("textbox", name="Email").fill(site.emails[role])
    page.get_by_role("textbox", name="Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="Sign out").wait_for()


# The view on the screen has its data: a <main> other than the one left behind (the app builds
# one per view), no longer busy (the app marks it aria-busy until the view's reads are done),
# no part still loading, and each map loaded (the views mark it data-ready).
VIEW_READY = """() => {
  const main = document.getElementById('main');
  return !!main && main !== window.safewalkTestLeft && !main.hasAttribute('aria-busy')
    && !main.matches('[data-state=loading]') && !main.querySelector('[data-state=loading]')
    && [...main.querySelectorAll('.map')].every((m) => m.dataset.ready === 'true');
}"""


def wait_for_view(page: Any, timeout: float = 60_000) -> None:
    """Until the view shown has its data (generous: two workers share two cores in CI)."""
    page.wait_for_function(VIEW_READY, polling=50, timeout=timeout)


def open_view(page: Any, url: str) -> None:
    """Go to a view's link and wait for it, instead of a fixed pause and network silence."""
    if page.url != url:
        # A link to the same view changes nothing; any other replaces <main>.
        page.evaluate("() => { window.safewalkTestLeft = document.getElementById('main'); }")
        page.goto(url)
    wait_for_view(page)


def next_frames(page: Any) -> None:
    """Two animation frames: what a resize sets off (resize observers, a map's redraw) has run."""
    page.evaluate("() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))")


# A few streets in Sandnes sentrum, inside tests.factories.SANDNES_SQUARE.
SPOTS = [
    (5.7352, 58.8517, "lighting", "Lamp post out along the path"),
    (5.7355, 58.8519, "lighting", "Second lamp dark too"),
    (5.7301, 58.8500, "vegetation", "Hedge hides the corner"),
    (5.7390, 58.8540, "graffiti", "Tags on the underpass wall"),
    (5.7330, 58.8530, "feels_unsafe", "Nobody around after eight"),
    (5.7410, 58.8502, "litter", "Dumped bags by the bins"),
]
