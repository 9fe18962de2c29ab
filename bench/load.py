"""Mixed load against a real server on loopback: per-route p50/p99, errors and peak RSS.

    python bench/load.py --db postgis --clients 50 200 --seconds 60
    python bench/load.py --db spatialite --clients 50 200 --seconds 60

Starts `safewalk serve` on a scratch database (PostGIS: 2 uvicorn workers; SQLite: 1), seeds
an organization with one active walk per area, participants and staff (tokens issued directly,
see bench/_live.py), sends a warm-up so the engineers find action items, then runs N
concurrent virtual clients (asyncio + httpx, one keep-alive connection each) for a fixed
time and stops:

- participants (70 %): PUT one observation, or (``--batch-share``, 10 %) POST a batch of 20-200
  (a phone's offline queue catching up);
- engineers (15 %): list their department's action items, read one, PATCH it with the ETag
  as If-Match (a status move the item allows, else a comment). A 412 is another engineer
  winning the race: counted as ``stale``, not as an error; a 409/403 refusal as ``refused``;
- planners (15 %): the observation and action-item feeds of one area, hotspots, OGC items.

Every client waits a random 0.5-1.5x ``--think`` seconds between requests (a closed loop:
with no think time, N clients on 2 cores measure the queue, not the service). Errors are 5xx
answers, transport errors (refused, reset, timeouts) and batch items that came back
``failed``. After the run every observation the server acknowledged is looked up in the
database: one missing is a lost observation. The server's peak RSS is the sum over its process
tree (supervisor and workers), sampled every 100 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from _common import create_scratch, drop_scratch
from _live import Place, RssSampler, Seeded, Server, load_average, observation, rss_mb, seed
from sqlalchemy import func, select

from api.core.db import create_db_engine, make_sessionmaker
from models import Observation

CAPTURE = "PUT /observations/{id}"
CAPTURE_GOAL_MS = 150.0
SKIP_MOVES = {"wont_fix", "referred", "duplicate"}  # need a reason or a target; not a load path


@dataclass
class Stats:
    latency: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    outcome: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    acknowledged: list[str] = field(default_factory=list)  # observation ids the server stored
    failed_items: int = 0
    first_errors: list[str] = field(default_factory=list)

    def note(self, route: str, ms: float, kind: str, detail: str = "") -> None:
        self.latency[route].append(ms)
        self.outcome[route][kind] += 1
        if kind in ("5xx", "transport") and len(self.first_errors) < 10:
            self.first_errors.append(f"{route}: {detail[:300]}")


def classify(status: int) -> str:
    if status < 400:
        return "ok"
    if status == 412:
        return "stale"
    if status in (403, 409):
        return "refused"
    if status >= 500:
        return "5xx"
    return "4xx"


class Driver:
    def __init__(
        self,
        base: str,
        seeded: Seeded,
        stats: Stats,
        deadline: float,
        think: float,
        batch_share: float,
    ) -> None:
        self.batch_share = batch_share
        self.base = base
        self.seeded = seeded
        self.stats = stats
        self.deadline = deadline
        self.think = think

    async def call(
        self,
        client: httpx.AsyncClient,
        route: str,
        method: str,
        url: str,
        token: str,
        **kw: Any,
    ) -> httpx.Response | None:
        headers = {"Authorization": f"Bearer {token}", **kw.pop("headers", {})}
        t0 = time.perf_counter()
        try:
            r = await client.request(method, url, headers=headers, **kw)
        except httpx.HTTPError as exc:
            self.stats.note(route, (time.perf_counter() - t0) * 1000, "transport", repr(exc))
            return None
        kind = classify(r.status_code)
        self.stats.note(route, (time.perf_counter() - t0) * 1000, kind, r.text)
        return r

    async def pause(self, rnd: random.Random) -> bool:
        await asyncio.sleep(rnd.uniform(0.5, 1.5) * self.think)
        return time.monotonic() < self.deadline

    async def participant(self, client: httpx.AsyncClient, n: int, rnd: random.Random) -> None:
        index, token = self.seeded.participants[n % len(self.seeded.participants)]
        place = self.seeded.places[index]
        cats = self.seeded.categories
        while await self.pause(rnd):
            if rnd.random() >= self.batch_share:
                body = observation(place, cats, rnd)
                r = await self.call(
                    client, CAPTURE, "PUT", f"/api/v1/observations/{body['id']}", token, json=body
                )
                if r is not None and r.status_code in (200, 201):
                    self.stats.acknowledged.append(body["id"])
            else:
                bodies = [observation(place, cats, rnd) for _ in range(rnd.randint(20, 200))]
                r = await self.call(
                    client, "POST /observations/batch", "POST", "/api/v1/observations/batch",
                    token, json={"observations": bodies},
                )  # fmt: skip
                if r is not None and r.status_code == 200:
                    for item in r.json()["results"]:
                        if item["status"] in ("created", "duplicate"):
                            self.stats.acknowledged.append(item["id"])
                        else:
                            self.stats.failed_items += 1
                            if len(self.stats.first_errors) < 10:
                                self.stats.first_errors.append(f"batch item: {item}")

    async def engineer(self, client: httpx.AsyncClient, n: int, rnd: random.Random) -> None:
        dept, token = self.seeded.engineers[n % len(self.seeded.engineers)]
        while await self.pause(rnd):
            r = await self.call(
                client, "GET /action-items", "GET", "/api/v1/action-items", token,
                params={"department": dept, "status": ["new", "triaged", "planned", "in_progress", "reopened"],
                        "limit": 50},
            )  # fmt: skip
            if r is None or r.status_code != 200 or not r.json()["items"]:
                continue
            item = rnd.choice(r.json()["items"])
            if not await self.pause(rnd):
                break
            url = f"/api/v1/action-items/{item['id']}"
            r = await self.call(client, "GET /action-items/{id}", "GET", url, token)
            if r is None or r.status_code != 200:
                continue
            etag = r.headers["ETag"]
            moves = [m for m in r.json().get("allowed_moves", []) if m not in SKIP_MOVES]
            body: dict[str, Any] = {"comment": "checked on site"}
            if moves and rnd.random() < 0.6:
                body["status"] = rnd.choice(moves)
                if body["status"] == "resolved":
                    body["resolution_note"] = "fixed"
            if not await self.pause(rnd):
                break
            await self.call(
                client, "PATCH /action-items/{id}", "PATCH", url, token, json=body,
                headers={"If-Match": etag},
            )  # fmt: skip

    async def planner(self, client: httpx.AsyncClient, n: int, rnd: random.Random) -> None:
        token = self.seeded.planners[n % len(self.seeded.planners)]
        while await self.pause(rnd):
            place: Place = rnd.choice(self.seeded.places)
            bbox = ",".join(f"{v:.6f}" for v in place.bounds)
            choice = rnd.randrange(4)
            if choice == 0:
                await self.call(
                    client, "GET /map/observations", "GET", "/api/v1/map/observations", token,
                    params={"bbox": bbox},
                )  # fmt: skip
            elif choice == 1:
                await self.call(
                    client, "GET /map/action-items", "GET", "/api/v1/map/action-items", token,
                    params={"bbox": bbox},
                )  # fmt: skip
            elif choice == 2:
                await self.call(client, "GET /map/hotspots", "GET", "/api/v1/map/hotspots", token)
            else:
                await self.call(
                    client, "GET /ogc/.../observations/items", "GET",
                    "/ogc/collections/observations/items", token,
                    params={"bbox": bbox, "limit": 100},
                )  # fmt: skip


async def drive(
    base: str, seeded: Seeded, clients: int, seconds: float, think: float, batch_share: float
) -> Stats:
    stats = Stats()
    driver = Driver(base, seeded, stats, time.monotonic() + seconds, think, batch_share)
    n_eng = max(1, round(clients * 0.15))
    n_plan = max(1, round(clients * 0.15))
    n_part = max(1, clients - n_eng - n_plan)
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as client:
        tasks = []
        for i in range(n_part):
            tasks.append(driver.participant(client, i, random.Random(i)))
        for i in range(n_eng):
            tasks.append(driver.engineer(client, i, random.Random(10_000 + i)))
        for i in range(n_plan):
            tasks.append(driver.planner(client, i, random.Random(20_000 + i)))
        await asyncio.gather(*tasks)
    return stats


async def warm_up(base: str, seeded: Seeded) -> None:
    """A batch of 100 per walk, so engineers have items and planners something to map."""
    rnd = random.Random(0)
    by_walk = {index: token for index, token in seeded.participants}
    async with httpx.AsyncClient(base_url=base, timeout=300) as client:
        for index, token in by_walk.items():
            bodies = [observation(seeded.places[index], seeded.categories, rnd) for _ in range(100)]
            r = await client.post(
                "/api/v1/observations/batch",
                json={"observations": bodies},
                headers={"Authorization": f"Bearer {token}"},
            )
            r.raise_for_status()


def pct(values: list[float], q: float) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def lost(url: str, ids: list[str]) -> int:
    engine = create_db_engine(url)
    try:
        with make_sessionmaker(engine)() as s:
            # A read: on SQLite it must not queue for the write lock behind requests the
            # server is still working off after the clients gave up on them.
            s.connection(execution_options={"sqlite_begin": "DEFERRED"})
            found = 0
            for start in range(0, len(ids), 500):
                chunk = [uuid.UUID(i) for i in ids[start : start + 500]]
                found += (
                    s.scalar(
                        select(func.count())
                        .select_from(Observation)
                        .where(Observation.id.in_(chunk))  # type: ignore[attr-defined]
                    )
                    or 0
                )
        return len(set(ids)) - found
    finally:
        engine.dispose()


def report(
    db: str, workers: int, clients: int, seconds: float, stats: Stats, rss: RssSampler,
    base_rss: float, loads: tuple[str, str], missing: int,
) -> bool:  # fmt: skip
    print(f"\n{db}, {workers} worker(s), {clients} concurrent clients, {seconds:.0f} s")
    print(f"  load average (1/5/15 min) before: {loads[0]}, after: {loads[1]}")
    head = f"  {'route':<34}{'count':>7}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}"
    print(head + f"{'stale':>7}{'refused':>8}{'4xx':>5}{'5xx':>5}{'transport':>10}")
    total = errors = 0
    for route in sorted(stats.latency):
        lat = stats.latency[route]
        c = stats.outcome[route]
        total += len(lat)
        errors += c["5xx"] + c["transport"]
        print(
            f"  {route:<34}{len(lat):>7}{pct(lat, 50):>9.1f}{pct(lat, 99):>9.1f}{max(lat):>9.1f}"
            f"{c['stale']:>7}{c['refused']:>8}{c['4xx']:>5}{c['5xx']:>5}{c['transport']:>10}"
        )
    print(f"  {total:,} requests, {total / seconds:,.0f}/s; {len(stats.acknowledged):,} "
          f"observations acknowledged, {missing} lost (acknowledged, missing from the database); "
          f"{stats.failed_items} batch items failed")  # fmt: skip
    print(f"  errors (5xx + transport + failed batch items + lost): "
          f"{errors + stats.failed_items + missing}")  # fmt: skip
    print(f"  server RSS (process tree, every 100 ms): {base_rss:.0f} MB before, "
          f"peak {rss.peak:.0f} MB ({rss.samples} samples)")  # fmt: skip
    for line in stats.first_errors:
        print(f"    {line}")
    capture = stats.latency.get(CAPTURE, [])
    ok = bool(capture) and errors + stats.failed_items + missing == 0
    if capture:
        p99 = pct(capture, 99)
        verdict = "within" if p99 <= CAPTURE_GOAL_MS else "OVER"
        print(f"  capture p99 {p99:.0f} ms: {verdict} the {CAPTURE_GOAL_MS:.0f} ms goal")
    return ok


def server_errors(log: str) -> Counter[str]:
    """The exceptions the server logged, by their last traceback line."""
    found: Counter[str] = Counter()
    for line in log.splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if entry.get("level") in ("error", "critical"):
            detail = str(entry.get("exception") or entry.get("message", ""))
            # The exception's own line, not SQLAlchemy's "(Background on this error ...)".
            lines = [
                x for x in detail.strip().splitlines() if not x.startswith(("(Background", "[SQL:"))
            ]
            found[lines[-1][:200] if lines else detail[:200]] += 1
    return found


def run(
    db: str,
    clients_list: list[int],
    seconds: float,
    think: float,
    batch_share: float,
    workers: int,
) -> bool:
    name = "safewalk_bench_load_bench_load"
    backend = "postgis" if db == "postgis" else "spatialite"
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        url = create_scratch(backend, name, Path(tmp))
        try:
            most = max(clients_list)
            seeded = seed(url, Path(tmp), areas=9, participants=most, engineers=12, planners=6)
            with Server(url, Path(tmp), workers=workers) as server:
                asyncio.run(warm_up(server.base, seeded))
                for clients in clients_list:
                    base_rss = rss_mb(server.pid)
                    log_start = len(server.log(tail=None))
                    before = load_average()
                    with RssSampler(server.pid) as rss:
                        stats = asyncio.run(
                            drive(server.base, seeded, clients, seconds, think, batch_share)
                        )
                    missing = lost(url, stats.acknowledged)
                    ok &= report(
                        f"{db}, think {think:g} s, batches {batch_share:.0%} of participant requests",
                        workers, clients, seconds, stats, rss, base_rss,
                        (before, load_average()), missing,
                    )  # fmt: skip
                    logged = server_errors(server.log(tail=None)[log_start:])
                    for error, count in logged.most_common(5):
                        print(f"  the server logged {count}x: {error}")
        finally:
            drop_scratch(backend, name)
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=["postgis", "spatialite"], action="append")
    parser.add_argument("--clients", type=int, nargs="+", default=[50, 200])
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--think", type=float, default=5.0, help="mean seconds between requests")
    parser.add_argument(
        "--batch-share",
        type=float,
        default=0.1,
        help="share of participant requests that are batches",
    )
    parser.add_argument("--workers", type=int, help="default: 2 on PostGIS, 1 on SQLite")
    args = parser.parse_args()
    ok = True
    for db in args.db or ["postgis", "spatialite"]:
        workers = args.workers or (2 if db == "postgis" else 1)
        ok &= run(db, args.clients, args.seconds, args.think, args.batch_share, workers)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
