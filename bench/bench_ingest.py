"""Benchmark: batch ingest over HTTP vs the raw driver inserting the same rows.

    python bench/bench_ingest.py --backend postgis [--n 4000] [--batch 200] [--workers 2]
    python bench/bench_ingest.py --backend spatialite

A real `safewalk serve` (PostGIS: 2 workers by default; SQLite: 1) and a walk joined by
participants. N observations are POSTed to /api/v1/observations/batch in batches of 500 by
one client after another (each participant sends its own batches, over keep-alive HTTP):
validation, the area lookup, H3 cell, darkness, grouping into action items and the response,
each batch one transaction. The anchor, in the same run: the same rows (same columns,
geometry included, the derived columns precomputed outside the timing) inserted into the
observation table with the driver's ``executemany`` (psycopg / sqlite3), one transaction per
batch, no grouping; on PostGIS also the same rows into a bare table with a GiST index (the
driver's limit). Prints the throughputs and the ratios (goal: at least 0.05 of the bare table).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
import tempfile
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from _common import create_scratch, drop_scratch
from _live import Seeded, Server, load_average, observation, seed

from geo.hotspots import cell_r15
from geo.sun import is_dark

GOAL = 0.05  # of the bare-table anchor


def post_batches(base: str, seeded: Seeded, bodies: list[dict[str, Any]], batch: int) -> float:
    """POST every body in batches; returns seconds. Each participant sends its own batches."""
    t0 = time.perf_counter()
    with httpx.Client(base_url=base, timeout=300) as client:
        for k, start in enumerate(range(0, len(bodies), batch)):
            _, token = seeded.participants[k % len(seeded.participants)]
            chunk = bodies[start : start + batch]
            r = client.post(
                "/api/v1/observations/batch",
                json={"observations": chunk},
                headers={"Authorization": f"Bearer {token}"},
            )
            r.raise_for_status()
            out = r.json()
            if out["created"] != len(chunk):
                sys.exit(f"batch {k}: {json.dumps({x: out[x] for x in out if x != 'results'})}")
    return time.perf_counter() - t0


def rows_for(seeded: Seeded, bodies: list[dict[str, Any]], cats: dict[str, uuid.UUID]) -> list[Any]:
    """The same observations as table rows, every column the API would write filled in."""
    place = seeded.places[0]
    rows = []
    for b in bodies:
        x, y = b["location"]["coordinates"]
        at = datetime.fromisoformat(b["recorded_at"])
        rows.append(
            (
                uuid.uuid4(),
                seeded.org_id,
                place.walk_id,
                cats[b["category"]],
                f"POINT({x} {y})",
                b["accuracy_m"],
                b["severity"],
                b["perceived_safety"],
                b["note"],
                at,
                at,
                is_dark(y, x, at),
                place.area_id,
                "accepted",
                cell_r15(y, x),
                hashlib.sha256(json.dumps(b).encode()).hexdigest(),
            )  # fmt: skip
        )
    return rows


def raw_postgis(url: str, rows: list[Any], batch: int) -> float:
    import psycopg

    sql = (
        "INSERT INTO observation (id, organization_id, walk_id, category_id, location, accuracy_m, "
        "severity, perceived_safety, note, recorded_at, received_at, is_dark, area_id, moderation, "
        "h3_r15, body_hash) VALUES (%s, %s, %s, %s, ST_GeomFromText(%s, 4326), %s, %s, %s, %s, "
        "%s, %s, %s, %s, %s, %s, %s)"
    )
    with psycopg.connect(url.replace("postgresql+psycopg", "postgresql")) as conn:
        t0 = time.perf_counter()
        for start in range(0, len(rows), batch):
            with conn.cursor() as cur:
                cur.executemany(sql, rows[start : start + batch])
            conn.commit()
        return time.perf_counter() - t0


def bare_postgis(url: str, rows: list[Any], batch: int) -> float:
    """The same rows into a bare table with only a GiST index: the driver's own limit."""
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg", "postgresql")) as conn:
        conn.execute(
            "CREATE TEMP TABLE bare (id uuid, organization_id uuid, walk_id uuid, "
            "category_id uuid, location geometry(Point, 4326), accuracy_m float8, severity int, "
            "perceived_safety int, note text, recorded_at timestamptz, received_at timestamptz, "
            "is_dark bool, area_id uuid, moderation text, h3_r15 bigint, body_hash text)"
        )
        conn.execute("CREATE INDEX ON bare USING gist (location)")
        conn.commit()
        sql = (
            "INSERT INTO bare VALUES (%s, %s, %s, %s, ST_GeomFromText(%s, 4326), %s, %s, %s, %s, "
            "%s, %s, %s, %s, %s, %s, %s)"
        )
        t0 = time.perf_counter()
        for start in range(0, len(rows), batch):
            with conn.cursor() as cur:
                cur.executemany(sql, rows[start : start + batch])
            conn.commit()
        return time.perf_counter() - t0


def raw_sqlite(url: str, rows: list[Any], batch: int) -> float:
    from api.core.db import create_db_engine

    # The app's own connection set-up (SpatiaLite loaded, WAL), through the bare DB-API driver.
    engine = create_db_engine(url)
    conn = engine.raw_connection()
    sql = (
        "INSERT INTO observation (id, organization_id, walk_id, category_id, location, accuracy_m, "
        "severity, perceived_safety, note, recorded_at, received_at, is_dark, area_id, moderation, "
        "h3_r15, body_hash) VALUES (?, ?, ?, ?, GeomFromText(?, 4326), ?, ?, ?, ?, ?, ?, ?, ?, ?, "
        "?, ?)"
    )
    stamp = "%Y-%m-%d %H:%M:%S.%f"  # how SQLAlchemy stores them here

    def plain(row: Any) -> tuple[Any, ...]:
        return tuple(
            v.hex
            if isinstance(v, uuid.UUID)
            else v.strftime(stamp)
            if isinstance(v, datetime)
            else v
            for v in row
        )

    prepared = [plain(r) for r in rows]
    try:
        cur = conn.cursor()
        t0 = time.perf_counter()
        for start in range(0, len(prepared), batch):
            cur.execute("BEGIN IMMEDIATE")
            cur.executemany(sql, prepared[start : start + batch])
            cur.execute("COMMIT")
        return time.perf_counter() - t0
    finally:
        conn.close()
        engine.dispose()


def category_ids(url: str, org_id: uuid.UUID) -> dict[str, uuid.UUID]:
    from sqlalchemy import select

    from api.core.db import create_db_engine, make_sessionmaker
    from models import Category

    engine = create_db_engine(url)
    try:
        with make_sessionmaker(engine)() as s:
            cats = s.scalars(select(Category).where(Category.organization_id == org_id))
            return {c.code: c.id for c in cats}
    finally:
        engine.dispose()


def run(backend: str, n: int, batch: int, workers: int) -> float:
    name = "safewalk_bench_load_bench_ingest"
    with tempfile.TemporaryDirectory() as tmp:
        url = create_scratch(backend, name, Path(tmp))
        try:
            seeded = seed(url, Path(tmp), areas=1, participants=max(1, n // batch))
            rnd = random.Random(15)
            place = seeded.places[0]
            bodies = [observation(place, seeded.categories, rnd) for _ in range(n)]
            warm = [observation(place, seeded.categories, rnd) for _ in range(50)]
            cats = category_ids(url, seeded.org_id)
            with Server(url, Path(tmp), workers=workers) as server:
                post_batches(server.base, seeded, warm, batch)  # connections, imports, caches
                load = load_average()
                api_s = post_batches(server.base, seeded, bodies, batch)
            rows = rows_for(seeded, bodies, cats)
            bare_s = None
            if backend == "postgis":
                raw_s = raw_postgis(url, rows, batch)
                bare_s = bare_postgis(url, rows_for(seeded, bodies, cats), batch)
            else:
                raw_s = raw_sqlite(url, rows, batch)
        finally:
            drop_scratch(backend, name)
    api_rate, raw_rate = n / api_s, n / raw_s
    ratio = api_rate / (n / bare_s if bare_s else raw_rate)
    print(f"\n{backend}, {n:,} observations in batches of {batch}, server with {workers} worker(s)")
    print(f"  load average before the run (1/5/15 min): {load}")
    print(f"  {'':<44}{'seconds':>9}{'obs/s':>10}")
    print(f"  {'POST /observations/batch over HTTP':<44}{api_s:>9.2f}{api_rate:>10,.0f}")
    driver = "psycopg executemany" if backend == "postgis" else "sqlite3 executemany"
    print(f"  {'raw ' + driver + ' into observation':<44}{raw_s:>9.2f}{raw_rate:>10,.0f}")
    if bare_s:
        print(
            f"  {'anchor: ' + driver + ', bare table + GiST':<44}{bare_s:>9.2f}{n / bare_s:>10,.0f}"
        )
    print(f"  ratio API / observation table: {api_rate / raw_rate:.3f}")
    verdict = "meets" if ratio >= GOAL else "MISSES"
    print(f"  ratio API / anchor: {ratio:.3f} ({verdict} the goal of {GOAL})")
    return ratio


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backend", choices=["postgis", "spatialite"], action="append")
    parser.add_argument("--n", type=int, default=4_000)
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--workers", type=int, help="default: 2 on PostGIS, 1 on SQLite")
    args = parser.parse_args()
    for backend in args.backend or ["postgis", "spatialite"]:
        workers = args.workers or (2 if backend == "postgis" else 1)
        run(backend, args.n, args.batch, workers)
    return 0


if __name__ == "__main__":
    sys.exit(main())
