"""Benchmark: the server's resident memory while a planner pulls a 1,000,000-feature feed.

    python bench/bench_feed_memory.py --backend postgis --n 1000000
    python bench/bench_feed_memory.py --backend spatialite --n 100000

Bulk-loads N observations with SQL (not through the API; bench_feeds.load), starts a real
`safewalk serve`, and walks GET /api/v1/map/observations page by page (limit 10,000, the
clamp; the `next` link carries the keyset cursor) until all N features have come, reading
each response as a stream and discarding it, as a map client would. Meanwhile the RSS of the
server's process tree is sampled every 100 ms. Prints RSS before, the peak over the first
10 % of the features and the peak over all of them: memory that stays flat is bounded by the
page and the 2,000-row fetch (api/outputs/maps/service.py), not by the size of the feed.

Why this path: no single request returns a million features. The map feed and OGC items
both clamp at 10,000 a page; the map feed streams each page from a server-side cursor, and
its pages are what QGIS or the staff map pull one after another.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import httpx
from _common import create_scratch, drop_scratch
from _live import RssSampler, Server, load_average, rss_mb, settings_for
from bench_feeds import load as bulk_load

from api.auth.security import issue_token, staff_token_expiry
from tests.factories.live_server import SECRET

PAGE = 10_000


def walk_feed(base: str, token: str, n: int, rss: RssSampler) -> tuple[float, float, int, float]:
    """(peak MB over the first 10 %, peak over all, bytes, seconds)."""
    features = size = 0
    early_peak = 0.0
    url: str | None = f"{base}/api/v1/map/observations?limit={PAGE}"
    t0 = time.perf_counter()
    with httpx.Client(timeout=600) as client:
        while url:
            with client.stream("GET", url, headers={"Authorization": f"Bearer {token}"}) as r:
                r.raise_for_status()
                tail = b""
                for chunk in r.iter_bytes():
                    size += len(chunk)
                    tail = (tail + chunk)[-200:]
                link = r.headers.get("link")
            # Only the tail is kept: numberReturned closes the collection.
            features += int(tail[tail.rfind(b'"numberReturned":') :].split(b":")[1].split(b",")[0])
            if features <= n // 10:
                early_peak = rss.peak
            url = link.split(">")[0].lstrip("<") if link else None
    if features != n:
        sys.exit(f"the feed returned {features:,} features, not {n:,}")
    return early_peak, rss.peak, size, time.perf_counter() - t0


def run(backend: str, n: int, workers: int) -> None:
    name = "safewalk_bench_load_bench_feed_memory"
    with tempfile.TemporaryDirectory() as tmp:
        url = create_scratch(backend, name, Path(tmp))
        try:
            t = time.perf_counter()
            engine, user, ids = bulk_load(url, n)
            engine.dispose()
            load_s = time.perf_counter() - t
            settings = settings_for(url, Path(tmp))
            token = issue_token(secret=SECRET, settings=settings, kind="staff", subject=user.id,
                                organization_id=ids[0], expires_at=staff_token_expiry(settings))  # fmt: skip
            with Server(url, Path(tmp), workers=workers) as server:
                # One small page first, so imports and connection pools are in the baseline.
                httpx.get(
                    f"{server.base}/api/v1/map/observations?limit=10",
                    headers={"Authorization": f"Bearer {token}"},
                ).raise_for_status()
                before = rss_mb(server.pid)
                loads = load_average()
                with RssSampler(server.pid) as rss:
                    early, peak, size, seconds = walk_feed(server.base, token, n, rss)
        finally:
            drop_scratch(backend, name)
    print(f"\n{backend}, {n:,} observations (bulk-loaded in {load_s:.0f} s), server with "
          f"{workers} worker(s), pages of {PAGE:,} from GET /api/v1/map/observations")  # fmt: skip
    print(f"  load average before (1/5/15 min): {loads}")
    print(f"  {n:,} features, {size / 1e6:,.0f} MB of GeoJSON in {seconds:.1f} s "
          f"({n / seconds:,.0f} features/s)")  # fmt: skip
    print(f"  server RSS (process tree, every 100 ms): {before:.0f} MB before; peak "
          f"{early:.0f} MB over the first {n // 10:,} features, {peak:.0f} MB over all {n:,} "
          f"({rss.samples} samples)")  # fmt: skip
    growth = peak - early
    print(f"  growth from {n // 10:,} to {n:,} features: {growth:+.0f} MB "
          f"({'flat' if growth < 0.1 * early else 'NOT flat'})")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=["postgis", "spatialite"], default="postgis")
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, help="default: 2 on PostGIS, 1 on SQLite")
    args = parser.parse_args()
    run(args.backend, args.n, args.workers or (2 if args.backend == "postgis" else 1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
