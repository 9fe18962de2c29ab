"""Benchmark: the OGC API items pages and the vector tiles.

    python bench/bench_readers.py --backend postgis --items-n 100000 --tiles-n 1000000
    python bench/bench_readers.py --backend spatialite --items-n 100000 --tiles-n 100000

Items: page through /ogc/collections/observations/items (10,000 a page) through the ASGI app,
authenticated with a personal access token as the Basic password, against the very same
feature statements run straight through the driver and joined the same way. Prints both
throughputs and their ratio, measured in one run (goal >= 0.7).

Tiles: z14 tiles over the loaded observations, requested through the ASGI app; prints the
median and p95 latency and the features per tile (aim: <= 50 ms at z14 over 1,000,000 on
PostGIS). Below z15 a tile is counts per cell; the anchor, from the same run and the same
tiles, is the tile with every point in it (``render_points``, what z14 was before), both
rendered in-process, alternating. The table is clustered on its spatial index first
(``safewalk maintain``'s job) unless --no-maintain.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import math
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select, text

sys.path.insert(0, str(Path(__file__).parent))

from _common import create_scratch, drop_scratch  # noqa: E402
from bench_feeds import load  # noqa: E402

from api.app import create_app  # noqa: E402
from api.auth import tokens as token_service  # noqa: E402
from api.auth.deps_router import Principal  # noqa: E402
from api.core import dialect  # noqa: E402
from api.core.db import create_db_engine, make_sessionmaker  # noqa: E402
from api.jobs.maintain import maintain  # noqa: E402
from api.outputs.ogc import service as ogc  # noqa: E402
from api.outputs.tiles import service as tiles  # noqa: E402
from api.settings import Settings  # noqa: E402
from models import Observation, User  # noqa: E402
from models.tokens import TokenCreate  # noqa: E402

PAGE = 10_000
# bench_feeds.load spreads points over this box (Oslo).
MIN_LON, MIN_LAT, MAX_LON, MAX_LAT = 10.65, 59.85, 10.90, 59.97


def _basic(secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"bench:{secret}".encode()).decode()}


async def page_through(app: Any, headers: dict[str, str]) -> tuple[int, int]:
    features = size = 0
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench", timeout=600) as c:
        url: str | None = f"/ogc/collections/observations/items?limit={PAGE}"
        while url:
            r = await c.get(url, headers=headers)
            r.raise_for_status()
            size += len(r.content)
            tail = r.content[r.content.rfind(b'"numberReturned":') :]
            features += int(tail.split(b":")[1].split(b",")[0])
            link = r.headers.get("link")
            url = link.split(">")[0].lstrip("<").replace("http://bench", "") if link else None
    return features, size


def raw_sql(engine: Any, principal: Principal) -> tuple[int, int]:
    """The same feature statements, page after page, straight through the driver."""
    features = size = 0
    factory = make_sessionmaker(engine)
    cursor = None
    c = ogc.get_collection("observations")
    while True:
        with factory() as s:
            page = ogc.items_page(s, principal, c, ogc.ItemsQuery(limit=PAGE, cursor=cursor))
        compiled = str(page.statement.compile(engine, compile_kwargs={"literal_binds": True}))
        raw = engine.raw_connection()
        try:
            cur = raw.cursor()
            cur.execute(compiled)
            rows = cur.fetchall()
            body = (
                b'{"type":"FeatureCollection","features":['
                + ",".join(r[0] for r in rows).encode()
                + b"]}"
            )
        finally:
            raw.close()
        features += len(rows)
        size += len(body)
        cursor = page.next_cursor
        if cursor is None:
            return features, size


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 1 << z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


async def time_tiles(
    app: Any, headers: dict[str, str], z: int, count: int
) -> tuple[list[float], list[int]]:
    import mapbox_vector_tile

    rnd = random.Random(14)
    timings, sizes = [], []
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench", timeout=600) as c:
        for i in range(count + 3):
            lon = MIN_LON + 0.02 + rnd.random() * (MAX_LON - MIN_LON - 0.04)
            lat = MIN_LAT + 0.01 + rnd.random() * (MAX_LAT - MIN_LAT - 0.02)
            x, y = tile_of(lon, lat, z)
            t = time.perf_counter()
            r = await c.get(f"/tiles/observations/{z}/{x}/{y}.mvt", headers=headers)
            elapsed = time.perf_counter() - t
            r.raise_for_status()
            if i < 3:
                continue  # warm-up
            timings.append(elapsed)
            if i < 13:
                sizes.append(len(mapbox_vector_tile.decode(r.content)["observations"]["features"]))
    return timings, sizes


def _widened(*args: Any, general: Any = None, **kw: Any) -> Any:
    """``bbox_filter_shown`` as it was before the index on ``location_general``: the index on
    the true location, asked for the box grown by the largest generalisation shift."""
    del general
    return _BBOX_FILTER_SHOWN(*args, **kw)


_BBOX_FILTER_SHOWN = dialect.bbox_filter_shown


def _cpu(s: Any) -> Any:
    """CPU seconds (user + sys) of this session's PostgreSQL backend plus this process."""
    if s.get_bind().dialect.name == "sqlite":
        return time.process_time
    pid = s.execute(text("SELECT pg_backend_pid()")).scalar_one()
    tick = float(os.sysconf("SC_CLK_TCK"))

    def cpu() -> float:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return time.process_time()
        return (int(fields[11]) + int(fields[12])) / tick + time.process_time()

    return cpu


def time_widened(engine: Any, user: Any, z: int, count: int) -> dict[str, list[float]]:
    """The same clustered tiles in-process, alternating: with the index on the generalised
    point (now) and with the widened search on the true location (the anchor: before it).
    Wall and CPU (server + client) per tile."""
    rnd = random.Random(14)
    out: dict[str, list[float]] = {"now": [], "now_cpu": [], "before": [], "before_cpu": []}
    who = Principal(kind="staff", organization_id=user.organization_id, user=user)
    c = ogc.get_collection("observations")
    with make_sessionmaker(engine)() as s:
        cpu = _cpu(s)
        for i in range(count + 3):
            lon = MIN_LON + 0.02 + rnd.random() * (MAX_LON - MIN_LON - 0.04)
            lat = MIN_LAT + 0.01 + rnd.random() * (MAX_LAT - MIN_LAT - 0.02)
            t = tiles.Tile(z, *tile_of(lon, lat, z))
            for name in ("now", "before") if i % 2 else ("before", "now"):
                dialect.bbox_filter_shown = _widened if name == "before" else _BBOX_FILTER_SHOWN
                try:
                    c0, t0 = cpu(), time.perf_counter()
                    tiles.render(s, who, c, t)
                    wall, used = time.perf_counter() - t0, cpu() - c0
                finally:
                    dialect.bbox_filter_shown = _BBOX_FILTER_SHOWN
                s.rollback()
                if i >= 3:
                    out[name].append(wall)
                    out[f"{name}_cpu"].append(used)
    return out


def time_anchor(engine: Any, user: Any, z: int, count: int) -> tuple[list[float], list[float]]:
    """The same tiles in-process: clustered (``render``) and every point (``render_points``)."""
    rnd = random.Random(14)
    clustered, points = [], []
    who = Principal(kind="staff", organization_id=user.organization_id, user=user)
    c = ogc.get_collection("observations")
    with make_sessionmaker(engine)() as s:
        caller = ogc.for_caller(s, who, c)
        for i in range(count + 3):
            lon = MIN_LON + 0.02 + rnd.random() * (MAX_LON - MIN_LON - 0.04)
            lat = MIN_LAT + 0.01 + rnd.random() * (MAX_LAT - MIN_LAT - 0.02)
            t = tiles.Tile(z, *tile_of(lon, lat, z))
            pair = [("c", lambda t=t: tiles.render(s, who, c, t)),
                    ("p", lambda t=t: tiles.render_points(s, who, caller, t))]  # fmt: skip
            for name, fn in pair if i % 2 else reversed(pair):
                t0 = time.perf_counter()
                fn()
                s.rollback()
                if i >= 3:
                    (clustered if name == "c" else points).append(time.perf_counter() - t0)
    return clustered, points


def _app(url: str, tmp: str, engine: Any) -> Any:
    settings = Settings(
        environment="test", data_dir=Path(tmp), database_url=url, secret_key="b" * 64
    )
    return create_app(settings, engine=engine)


def _token(engine: Any, user: Any) -> str:
    with make_sessionmaker(engine)() as s:
        secret = token_service.create_token(s, user, TokenCreate(name="bench")).secret
        s.commit()
    return secret


def bench_items(backend: str, n: int) -> None:
    name = "safewalk_bench_readers_items"
    with tempfile.TemporaryDirectory() as tmp:
        url = create_scratch(backend, name, Path(tmp))
        try:
            t0 = time.perf_counter()
            engine, user, ids = load(url, n)
            load_s = time.perf_counter() - t0
            app = _app(url, tmp, engine)
            headers = _basic(_token(engine, user))
            principal = Principal(kind="staff", organization_id=ids[0], user=user)
            t = time.perf_counter()
            api_features, api_bytes = asyncio.run(page_through(app, headers))
            api_s = time.perf_counter() - t
            t = time.perf_counter()
            sql_features, sql_bytes = raw_sql(engine, principal)
            sql_s = time.perf_counter() - t
            assert api_features == sql_features == n, (api_features, sql_features, n)
            print(
                f"\nOGC items, {backend}, {n:,} observations (loaded in {load_s:.1f} s), pages of {PAGE:,}"
            )
            print(f"  {'':<32}{'seconds':>9}{'features/s':>14}{'MB':>9}")
            print(
                f"  {'/ogc/.../items (ASGI, token)':<32}{api_s:>9.2f}{api_features / api_s:>14,.0f}{api_bytes / 1e6:>9.1f}"
            )
            print(
                f"  {'raw SQL, same features':<32}{sql_s:>9.2f}{sql_features / sql_s:>14,.0f}{sql_bytes / 1e6:>9.1f}"
            )
            print(f"  throughput ratio OGC items/raw SQL: {sql_s / api_s:.2f}  (goal >= 0.7)")
            engine.dispose()
        finally:
            drop_scratch(backend, name)


def bench_tiles(
    backend: str,
    n: int,
    zooms: list[int],
    count: int,
    reuse: str | None = None,
    maintain_first: bool = True,
) -> None:
    """``reuse``: the URL of a database already loaded by bench_feeds.load, left as it is."""
    name = "safewalk_bench_readers_tiles"
    with tempfile.TemporaryDirectory() as tmp:
        url = reuse or create_scratch(backend, name, Path(tmp))
        try:
            t0 = time.perf_counter()
            if reuse is None:
                engine, user, _ = load(url, n)
            else:
                engine = create_db_engine(url)
                with make_sessionmaker(engine)() as s:
                    user = s.scalars(select(User)).one()
                    n = s.scalar(select(func.count()).select_from(Observation)) or 0
            load_s = time.perf_counter() - t0
            if maintain_first:
                t0 = time.perf_counter()
                for step in maintain(engine):
                    print(f"  {step.message} ({time.perf_counter() - t0:.1f} s)")
            app = _app(url, tmp, engine)
            headers = _basic(_token(engine, user))
            for z in zooms:
                timings, sizes = asyncio.run(time_tiles(app, headers, z, count))
                ms = sorted(t * 1000 for t in timings)
                p95 = ms[min(len(ms) - 1, math.ceil(0.95 * len(ms)) - 1)]
                print(
                    f"\nMVT tiles, {backend}, {n:,} observations (loaded in {load_s:.1f} s), z{z}, {len(ms)} tiles"
                )
                print(
                    f"  features per tile: median {statistics.median(sizes):,.0f} (min {min(sizes):,}, max {max(sizes):,})"
                )
                print(
                    f"  latency: median {statistics.median(ms):.1f} ms, p95 {p95:.1f} ms, max {ms[-1]:.1f} ms  (aim at z14: <= 50 ms)"
                )
                if z < tiles.CLUSTER_ZOOM:
                    cl, pts = time_anchor(engine, user, z, count)
                    mc, mp = statistics.median(cl) * 1000, statistics.median(pts) * 1000
                    print(
                        f"  in-process, same tiles: clustered median {mc:.1f} ms, every point (anchor) median {mp:.1f} ms: {mp / mc:.1f}x faster"
                    )
                    w = time_widened(engine, user, z, count)
                    med = {k: statistics.median(v) * 1000 for k, v in w.items()}
                    print(
                        f"  in-process, same tiles, a planner: with the index on the generalised point median {med['now']:.1f} ms (CPU {med['now_cpu']:.1f} ms), "
                        f"widened search on the true location (before) median {med['before']:.1f} ms (CPU {med['before_cpu']:.1f} ms): "
                        f"{med['before'] / med['now']:.1f}x wall, {med['before_cpu'] / max(med['now_cpu'], 1e-9):.1f}x CPU"
                    )
            engine.dispose()
        finally:
            if reuse is None:
                drop_scratch(backend, name)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--backend", choices=["postgis", "spatialite"], default="postgis")
    p.add_argument("--items-n", type=int, default=100_000)
    p.add_argument("--tiles-n", type=int, default=1_000_000)
    p.add_argument("--zoom", type=int, nargs="+", default=[14, 16])
    p.add_argument("--tiles", type=int, default=60)
    p.add_argument("--tiles-url", help="reuse a database loaded by bench_feeds.load")
    p.add_argument("--no-maintain", action="store_true", help="do not cluster the table first")
    args = p.parse_args()
    if args.items_n:
        bench_items(args.backend, args.items_n)
    if args.tiles_n:
        bench_tiles(
            args.backend,
            args.tiles_n,
            args.zoom,
            args.tiles,
            args.tiles_url,
            maintain_first=not args.no_maintain,
        )


if __name__ == "__main__":
    main()
