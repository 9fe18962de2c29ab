"""Steps the field app's browser tests share (tests/web/field/): join a walk, save an
observation, wait for the queue's status. `page` is a Playwright page on a phone context and
`field` the module's live server (tests/web/field/conftest.py)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

# What the capture form answers once an observation is queued: "Saved. It will be sent …" at
# once, and "Saved and sent." as soon as the send that follows returns, often within milliseconds;
# waiting for the first alone misses it when the server is quick and the test is slow.
SAVED = re.compile(r"^Saved(\. It will be sent when there is a network| and sent)\.$")


def syncs(page: Any) -> int:
    return int(page.evaluate("Number(document.body.dataset.syncs || 0)"))


def sync_now(page: Any) -> None:
    """What the browser does when the network returns: the app flushes on `online`."""
    # (page.evaluate, not wait_for_function: the app's CSP forbids the eval that the latter uses)
    page.evaluate(
        """async (before) => {
            dispatchEvent(new Event('online'));
            while (Number(document.body.dataset.syncs || 0) <= before) {
                await new Promise((r) => setTimeout(r, 50));
            }
        }""",
        syncs(page),
    )


def status(page: Any) -> str:
    return str(page.get_by_role("status").text_content())


def wait_status(page: Any, text: str) -> None:
    page.get_by_role("status").filter(has_text=text).wait_for()


def join(page: Any, field: Any, code: str | None = None) -> None:
    code = code or field.code
    page.goto(f"{field.base}/j/{code}")
    assert page.get_by_role("textbox", name="Join code").input_value() == code
    page.get_by_label("I am").select_option("resident")
    page.get_by_role("button", name="Join", exact=True).click()
    page.get_by_role("button", name="Poor lighting").wait_for()


def save(page: Any, category: str, note: str, photo: Path | None = None) -> None:
    page.get_by_role("button", name=category).click()
    page.get_by_role("textbox", name="Note").fill(note)
    if photo is not None:
        page.locator("#photo-input").set_input_files(str(photo))
        page.get_by_role("img", name="Photo 1").wait_for()
    page.get_by_role("button", name="Save observation").click()
    page.locator("#capture-done").filter(has_text=SAVED).wait_for()


def join_nb(page: Any, field: Any, code: str | None = None, *, load: bool = True) -> None:
    """Join as a resident with the phone in Bokmål (`load=False`: from the join screen the
    page already shows, opened by the walk's link)."""
    if load:
        page.goto(f"{field.base}/j/{code or field.code}")
    page.get_by_label("Jeg er").select_option("resident")
    page.get_by_role("button", name="Bli med").click()
    page.get_by_role("button", name="Dårlig belysning").wait_for()


def in_viewport(page: Any, locator: Any) -> bool:
    """Whether the element's box lies wholly on screen (no scrolling needed to see it)."""
    box = locator.bounding_box()
    size = page.viewport_size
    return bool(
        box
        and box["x"] >= 0
        and box["y"] >= 0
        and box["x"] + box["width"] <= size["width"]
        and box["y"] + box["height"] <= size["height"]
    )


# The text a person can see: text nodes of rendered elements (not the map's canvas), and the
# chosen option of each select.
VISIBLE_TEXT = """() => {
    const out = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    while (walker.nextNode()) {
        const text = walker.currentNode.textContent.trim();
        const el = walker.currentNode.parentElement;
        if (!text || !el || el.closest('option, script, style')) continue;
        if (!el.checkVisibility({ visibilityProperty: true })) continue;
        out.push(text);
    }
    for (const select of document.querySelectorAll('select')) {
        if (select.checkVisibility() && select.selectedOptions[0]) out.push(select.selectedOptions[0].text.trim());
    }
    return out;
}"""


def catalogue_patterns(messages: dict[str, Any]) -> list[re.Pattern[str]]:
    """Each message of a compiled catalogue (web/<app>/i18n/<lang>.json) as a pattern its
    placeholders ({n}, {m}, …) match anything in."""
    texts: list[str] = []
    for value in messages.values():
        texts.extend(value.values() if isinstance(value, dict) else [value])
    return [
        re.compile("^" + re.sub(r"\\\{\w+\\\}", ".+?", re.escape(t.strip())) + "$")
        for t in texts
        if t.strip()
    ]


def not_in_catalogue(
    texts: list[str], patterns: list[re.Pattern[str]], data: set[str]
) -> list[str]:
    """The texts (split at the app's " · " joints) that are neither a catalogue message nor
    data (`data`: names, notes, labels the server gives) nor mere digits and signs."""
    odd = []
    for text in texts:
        for part in text.split(" · "):
            part = part.strip()
            if not re.search(r"[^\W\d_]", part) or part in data:
                continue
            if not any(p.match(part) for p in patterns):
                odd.append(part)
    return odd


# Where the emulated phone is: inside the seeded area, on the route.
LAT, LON = 58.8512, 5.7351


ROUTE = [(5.7300, 58.8500), (5.7351, 58.8512), (5.7400, 58.8530)]


@dataclass
class Field:
    base: str
    code: str
    closed_code: str
    follow_up_code: str
    walk_id: str
    admin: dict[str, str]
    data_dir: Path = Path()  # the server's, where a basemap file may be put

    def api(self, path: str, **kw: Any) -> httpx.Response:
        return httpx.get(f"{self.base}/api/v1{path}", headers=self.admin, timeout=10, **kw)

    def send(self, method: str, path: str, **kw: Any) -> httpx.Response:
        headers = {**self.admin, **kw.pop("headers", {})}
        return httpx.request(method, f"{self.base}/api/v1{path}", headers=headers, timeout=10, **kw)

    def observations(self) -> list[dict[str, Any]]:
        r = self.api("/observations", params={"walk_id": self.walk_id, "limit": 100})
        assert r.status_code == 200, r.text
        items: list[dict[str, Any]] = r.json()["items"]
        return items


def phone(
    browser: Any,
    *,
    locale: str = "en-GB",
    viewport: tuple[int, int] = (390, 844),
    **kw: Any,
) -> Any:
    """A phone-sized context with the position granted and emulated.

    At one device pixel per CSS pixel: what the tests check is layout in CSS pixels, and a
    real phone's density 2 would give Chromium four times the pixels to draw in software
    (MapLibre on SwiftShader) and to encode in every screenshot."""
    return browser.new_context(
        viewport={"width": viewport[0], "height": viewport[1]},
        device_scale_factor=1,
        is_mobile=True,
        has_touch=True,
        locale=locale,
        geolocation={"latitude": LAT, "longitude": LON, "accuracy": 8},
        permissions=["geolocation"],
        **kw,
    )
