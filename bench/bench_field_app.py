"""Budgets of the field app (web/field): what a phone must download, and how soon it can work.

1. Size: JS + CSS of the app shell, gzip-compressed as the server sends them, against the
   budget of 200 kB (the map library is not part of the shell: it loads on the map view only).
2. Time to a usable capture screen (the category buttons drawn) with Chromium's "Slow 4G"
   network throttling set through CDP (562.5 ms latency, 1.44 Mbit/s down, 675 kbit/s up), the
   HTTP cache disabled and no service worker: the worst case of a phone that has joined but has
   nothing cached. Also with the taxonomy not yet on the phone (one more request), the join screen
   of a first visit, and a repeat visit through the service worker. Budget: 3 s.

Run: .venv/bin/python bench/bench_field_app.py [--runs 3]
"""

from __future__ import annotations

import argparse
import gzip
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from api.core.db import create_db_engine, make_sessionmaker, session_scope  # noqa: E402
from api.core.migrate import upgrade  # noqa: E402
from api.http.web import FIELD_DIR, MAPLIBRE_DIR, MAPLIBRE_FILES  # noqa: E402
from tests.factories import make_area, make_org, make_walk  # noqa: E402
from tests.factories.live_server import LiveServer  # noqa: E402

SIZE_BUDGET_KB = 200.0
TIME_BUDGET_S = 3.0
# Chrome DevTools' "Slow 4G" preset (formerly "Fast 3G").
SLOW_4G = {
    "offline": False,
    "latency": 150 * 3.75,
    "downloadThroughput": 1.6 * 1000 * 1000 / 8 * 0.9,
    "uploadThroughput": 750 * 1000 / 8 * 0.9,
}


def gz(path: Path) -> int:
    return len(gzip.compress(path.read_bytes(), compresslevel=9))


def size_budget() -> None:
    shell = sorted(
        [*FIELD_DIR.glob("js/*.js"), *FIELD_DIR.glob("i18n/*.js"), *FIELD_DIR.glob("*.css")]
    )
    raw = sum(p.stat().st_size for p in shell)
    packed = sum(gz(p) for p in shell)
    html = gz(FIELD_DIR / "index.html") + gz(FIELD_DIR / "icons.svg")
    maplib = sum(gz(MAPLIBRE_DIR / name) for name in MAPLIBRE_FILES)
    print(
        f"app shell JS+CSS: {len(shell)} files, {raw / 1000:.1f} kB raw, {packed / 1000:.1f} kB gzip"
    )
    print(f"  budget {SIZE_BUDGET_KB:.0f} kB gzip: {packed / 1000 / SIZE_BUDGET_KB:.1%} used")
    print(f"  plus index.html + icons.svg: {html / 1000:.1f} kB gzip")
    print(f"map library (map view only, not in the shell): {maplib / 1000:.1f} kB gzip")


def _seed(url: str) -> str:
    upgrade(url)
    engine = create_db_engine(url)
    try:
        for session in session_scope(make_sessionmaker(engine)):
            org = make_org(session, "Bench")
            walk = make_walk(session, org, area=make_area(session, org))
            code = walk.join_code
    finally:
        engine.dispose()
    return code


def _throttled(context: Any, page: Any) -> None:
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    cdp.send("Network.emulateNetworkConditions", SLOW_4G)


def _mark(page: Any, name: str) -> float:
    """Seconds from navigation start to the app's performance mark ``name``."""
    for _ in range(3000):
        t = page.evaluate(
            f"() => (performance.getEntriesByName('{name}')[0] || {{}}).startTime ?? null"
        )
        if t is not None:
            return float(t) / 1000
        page.wait_for_timeout(20)
    raise RuntimeError(f"no {name} mark")


def time_budget(runs: int) -> None:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        code = _seed(url)
        with LiveServer(url, Path(tmp) / "data") as server, sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
            results: dict[str, list[float]] = {
                "capture screen, joined, nothing cached": [],
                "capture screen, joined, taxonomy not yet on the phone": [],
                "join screen, first visit from the QR link": [],
                "capture screen, repeat visit (service worker)": [],
            }
            names = list(results)
            for _ in range(runs):
                # Join once at full speed, keep the phone's storage.
                context = browser.new_context(service_workers="block", locale="en-GB")
                page = context.new_page()
                page.goto(f"{server.base}/j/{code}")
                page.get_by_label("I am").select_option("resident")
                page.get_by_role("button", name="Join", exact=True).click()
                page.get_by_role("button", name="Poor lighting").wait_for()
                state = context.storage_state()
                context.close()

                context = browser.new_context(
                    service_workers="block", locale="en-GB", storage_state=state
                )
                page = context.new_page()
                _throttled(context, page)
                page.goto(f"{server.base}/app/", wait_until="commit")
                results[names[0]].append(_mark(page, "capture-usable"))
                context.close()

                context = browser.new_context(
                    service_workers="block", locale="en-GB", storage_state=state
                )
                page = context.new_page()
                page.goto(f"{server.base}/app/404-warmup", wait_until="commit")
                page.evaluate(
                    "() => Object.keys(localStorage).filter((k) => k.startsWith("
                    "'safewalk.categories.')).forEach((k) => localStorage.removeItem(k))"
                )
                _throttled(context, page)
                page.goto(f"{server.base}/app/", wait_until="commit")
                results[names[1]].append(_mark(page, "capture-usable"))
                context.close()

                context = browser.new_context(service_workers="block", locale="en-GB")
                page = context.new_page()
                _throttled(context, page)
                page.goto(f"{server.base}/j/{code}", wait_until="commit")
                # From the QR link: the redirect, then the app (its navigation starts the clock).
                results[names[2]].append(_mark(page, "join-usable"))
                context.close()

                context = browser.new_context(locale="en-GB", storage_state=state)
                page = context.new_page()
                page.goto(f"{server.base}/app/")
                page.evaluate("() => navigator.serviceWorker.ready.then(() => true)")
                page.reload()
                page.get_by_role("button", name="Poor lighting").wait_for()
                cdp = context.new_cdp_session(page)
                cdp.send("Network.enable")
                cdp.send("Network.emulateNetworkConditions", SLOW_4G)
                page.reload(wait_until="commit")
                results[names[3]].append(_mark(page, "capture-usable"))
                context.close()
            browser.close()
    print(
        f"time to usable screen, Chromium 'Slow 4G' via CDP, median of {runs} (budget {TIME_BUDGET_S:.0f} s):"
    )
    for name, values in results.items():
        med = statistics.median(values)
        print(
            f"  {name}: {med:.2f} s  ({med / TIME_BUDGET_S:.0%} of budget; runs "
            + ", ".join(f"{v:.2f}" for v in values)
            + ")"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    size_budget()
    time_budget(args.runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
