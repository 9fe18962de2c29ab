"""Benchmark: a walk group of 20 phones PUTting 40 observations each at one corner, at once.

    python bench/bench_walk_group.py --backend postgis [--phones 20] [--each 40] [--workers 2]

A real `safewalk serve` (PostGIS: 2 workers; SQLite: 1) and one walk with ``--phones``
participants. Every phone sends its observations one PUT after another, all phones at the
same time, every point within a few metres of one corner (so every PUT of a category meets
the same group lock and the same item). Prints p50 / p99 of the PUTs, errors, and how many
acknowledged observations the database holds ("0 lost"). Goal: p99 <= 150 ms, 0 errors,
0 lost. The statement counts behind it are in tests/observations/test_set_based_capture.py.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from _common import create_scratch, drop_scratch
from _live import Seeded, Server, load_average, observation, seed

GOAL_P99_MS = 150.0


async def phone(
    client: httpx.AsyncClient, token: str, bodies: list[dict[str, Any]], out: list[Any]
) -> None:
    for body in bodies:
        t0 = time.perf_counter()
        try:
            r = await client.put(
                f"/api/v1/observations/{body['id']}",
                json=body,
                headers={"Authorization": f"Bearer {token}"},
            )
            out.append((time.perf_counter() - t0, r.status_code, body["id"]))
        except httpx.HTTPError:
            out.append((time.perf_counter() - t0, 0, body["id"]))


async def crowd(base: str, seeded: Seeded, per_phone: list[list[dict[str, Any]]]) -> list[Any]:
    out: list[Any] = []
    limits = httpx.Limits(max_connections=len(per_phone) + 2)
    async with httpx.AsyncClient(base_url=base, timeout=120, limits=limits) as client:
        await asyncio.gather(
            *[
                phone(client, seeded.participants[i][1], bodies, out)
                for i, bodies in enumerate(per_phone)
            ]
        )
    return out


def stored(url: str, ids: list[str]) -> int:
    from sqlalchemy import func, select

    from api.core.db import create_db_engine, make_sessionmaker
    from models import Observation

    engine = create_db_engine(url)
    try:
        with make_sessionmaker(engine)() as s:
            wanted = [uuid.UUID(i) for i in ids]
            return int(
                s.scalar(
                    select(func.count()).select_from(Observation).where(Observation.id.in_(wanted))
                )
                or 0
            )
    finally:
        engine.dispose()


def run(backend: str, phones: int, each: int, workers: int) -> None:
    name = "bench_walk_group"
    with tempfile.TemporaryDirectory() as tmp:
        url = create_scratch(backend, name, Path(tmp))
        try:
            seeded = seed(url, Path(tmp), areas=1, participants=phones)
            place = seeded.places[0]
            rnd = random.Random(24)
            minx, miny, maxx, maxy = place.bounds
            corner = ((minx + maxx) / 2, (miny + maxy) / 2)
            cats = ["lighting", "vegetation", "graffiti"]

            def body() -> dict[str, Any]:
                b = observation(place, cats, rnd)
                b["location"]["coordinates"] = [
                    round(corner[0] + rnd.uniform(-4e-5, 4e-5), 7),
                    round(corner[1] + rnd.uniform(-2e-5, 2e-5), 7),
                ]
                return b

            per_phone = [[body() for _ in range(each)] for _ in range(phones)]
            warm = [[body()] for _ in range(phones)]
            with Server(url, Path(tmp), workers=workers) as server:
                asyncio.run(crowd(server.base, seeded, warm))
                load = load_average()
                t0 = time.perf_counter()
                out = asyncio.run(crowd(server.base, seeded, per_phone))
                wall = time.perf_counter() - t0
            acked = [i for _, code, i in out if code in (200, 201)]
            held = stored(url, acked)
        finally:
            drop_scratch(backend, name)
    ms = sorted(t * 1000 for t, _, _ in out)
    p50 = statistics.median(ms)
    p99 = ms[min(len(ms) - 1, int(round(0.99 * (len(ms) - 1))))]
    errors = sum(1 for _, code, _ in out if code not in (200, 201))
    lost = len(acked) - held
    print(f"\n{backend}: {phones} phones x {each} PUTs at one corner, {workers} worker(s)")
    print(f"  load average before the run (1/5/15 min): {load}")
    print(f"  {len(out)} PUTs in {wall:.1f} s ({len(out) / wall:.0f}/s)")
    print(f"  p50 {p50:.0f} ms, p99 {p99:.0f} ms, max {ms[-1]:.0f} ms")
    print(f"  errors {errors}, {lost} lost of {len(acked)} acknowledged")
    verdict = "meets" if p99 <= GOAL_P99_MS and not errors and not lost else "MISSES"
    print(f"  {verdict} the goal (p99 <= {GOAL_P99_MS:.0f} ms, 0 errors, 0 lost)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=["postgis", "spatialite"], action="append")
    parser.add_argument("--phones", type=int, default=20)
    parser.add_argument("--each", type=int, default=40)
    parser.add_argument("--workers", type=int, help="default: 2 on PostGIS, 1 on SQLite")
    args = parser.parse_args()
    for backend in args.backend or ["postgis"]:
        run(backend, args.phones, args.each, args.workers or (2 if backend == "postgis" else 1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
