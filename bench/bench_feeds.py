"""Benchmark: the observations feed vs the raw SQL that produces the same Feature bytes.

    python bench/bench_feeds.py --backend postgis --n 100000 1000000
    python bench/bench_feeds.py --backend spatialite --n 100000

For each N: bulk-load N observations (one in 7 of a sensitive category, which the planner
reading the feed gets generalised), then page through the whole feed (10,000 features a
page) through the ASGI app, and run the very same SQL straight through the driver, joining the
rows the same way. Prints throughput of both and their ratio, measured in one run, and the
server-side Python peak memory (tracemalloc) while one page of 2,000 and of 10,000 streams (the feed fetches 2,000 rows at a time).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
import tracemalloc
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, text

from api.app import create_app
from api.auth import organizations, users
from api.auth.deps_router import Principal
from api.auth.security import issue_token, staff_token_expiry
from api.core.db import create_db_engine, make_sessionmaker, session_scope
from api.core.migrate import upgrade
from api.outputs.maps import service as map_service
from api.privacy import sensitive
from api.settings import Settings
from models import Category, Role, Walk, utcnow

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
PAGE = 10_000


def scratch_url(backend: str, tmp: Path) -> str:
    if backend == "spatialite":
        return f"sqlite:///{tmp / 'bench.db'}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text('DROP DATABASE IF EXISTS "safewalk_bench_feeds" WITH (FORCE)'))
        c.execute(text('CREATE DATABASE "safewalk_bench_feeds"'))
    admin.dispose()
    return "postgresql+psycopg://postgres@127.0.0.1:5432/safewalk_bench_feeds"


def drop(backend: str) -> None:
    if backend == "postgis":
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(text('DROP DATABASE IF EXISTS "safewalk_bench_feeds" WITH (FORCE)'))
        admin.dispose()


# Every SENSITIVE_EVERY-th observation is an ``incident`` (a sensitive category): planners, the
# bench's readers, get those at their generalised point (api/privacy/sensitive.py).
SENSITIVE_EVERY = 7


def load(url: str, n: int) -> tuple[Any, Any, Any]:
    engine = create_db_engine(url)
    factory = make_sessionmaker(engine)
    with factory() as s:
        org = organizations.create_organization(s, "Bench kommune", f"bench-{uuid.uuid4().hex[:6]}")
        admin = users.create_user(
            s,
            org,
            email=f"{uuid.uuid4().hex[:8]}@bench.no",
            password="benchmark-password",
            role=Role.planner,
        )
        walk = Walk(organization_id=org.id, title="bench", join_code=uuid.uuid4().hex[:8].upper())
        s.add(walk)
        s.flush()
        cat = s.query(Category).filter_by(organization_id=org.id, code="lighting").one()
        incident = s.query(Category).filter_by(organization_id=org.id, code="incident").one()
        s.commit()
        ids = (org.id, walk.id, cat.id)
    start = utcnow() - timedelta(days=400)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(
                text(
                    """
                    INSERT INTO observation (id, organization_id, walk_id, category_id, location, severity,
                        perceived_safety, note, recorded_at, received_at, is_dark, moderation, body_hash)
                    SELECT gen_random_uuid(), :org, :walk,
                        CASE WHEN g % :every = 0 THEN :incident ELSE :cat END,
                        ST_SetSRID(ST_MakePoint(10.65 + random() * 0.25, 59.85 + random() * 0.12), 4326),
                        1 + (g % 3), g % 4, 'Lamp post out along the path', :start + g * interval '1 minute',
                        :start + g * interval '1 minute', g % 2 = 0, 'accepted', md5(g::text)
                    FROM generate_series(1, :n) AS g
                    """
                ),
                {
                    "org": ids[0],
                    "walk": ids[1],
                    "cat": ids[2],
                    "start": start,
                    "n": n,
                    "incident": incident.id,
                    "every": SENSITIVE_EVERY,
                },  # fmt: skip
            )
            conn.execute(text("ANALYZE observation"))
        else:
            rnd = random.Random(7)
            rows = []
            for g in range(1, n + 1):
                t = (start + timedelta(minutes=g)).strftime("%Y-%m-%d %H:%M:%S.000000")
                rows.append({
                    "id": uuid.uuid4().hex, "org": ids[0].hex, "walk": ids[1].hex,
                    "cat": (incident.id if g % SENSITIVE_EVERY == 0 else ids[2]).hex,
                    "wkt": f"POINT({10.65 + rnd.random() * 0.25} {59.85 + rnd.random() * 0.12})",
                    "sev": 1 + g % 3, "ps": g % 4, "t": t, "dark": g % 2, "h": f"{g:064d}",
                })  # fmt: skip
            conn.execute(
                text(
                    "INSERT INTO observation (id, organization_id, walk_id, category_id, location, severity, "
                    "perceived_safety, note, recorded_at, received_at, is_dark, moderation, body_hash) VALUES "
                    "(:id, :org, :walk, :cat, GeomFromText(:wkt, 4326), :sev, :ps, 'Lamp post out along the path', "
                    ":t, :t, :dark, 'accepted', :h)"
                ),
                rows,
            )
    # Capture keeps every observation's generalised point; here ``safewalk migrate``'s backfill
    # does it, timed, as it would for data from before the column.
    t = time.perf_counter()
    for s in session_scope(factory):
        filled = sensitive.backfill_general_locations(s)
    took = time.perf_counter() - t
    print(
        f"  backfill of location_general: {filled:,} rows in {took:.1f} s ({filled / took:,.0f}/s)"
    )
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("ANALYZE observation"))
    return engine, admin, ids


async def page_through(app: Any, token: str, limit: int) -> tuple[int, int]:
    transport = httpx.ASGITransport(app=app)
    features = size = 0
    async with httpx.AsyncClient(
        transport=transport, base_url="http://bench", timeout=600
    ) as client:
        url: str | None = f"/api/v1/map/observations?limit={limit}"
        while url:
            r = await client.get(url, headers={"Authorization": f"Bearer {token}"})
            r.raise_for_status()
            size += len(r.content)
            # Only the tail: numberReturned; the next page comes from the Link header.
            tail = r.content[r.content.rfind(b'"numberReturned":') :]
            features += int(tail.split(b":")[1].split(b",")[0])
            link = r.headers.get("link")
            url = link.split(">")[0].lstrip("<").replace("http://bench", "") if link else None
    return features, size


def raw_sql(engine: Any, principal: Principal, limit: int) -> tuple[int, int]:
    """The same statements, page after page, straight through the driver."""
    features = size = 0
    factory = make_sessionmaker(engine)
    cursor = None
    while True:
        with factory() as s:
            page = map_service.observations_page(
                s, principal, map_service.FeedFilter(), limit=limit, cursor=cursor
            )
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


def run(backend: str, n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = scratch_url(backend, Path(tmp))
        try:
            upgrade(url)
            t0 = time.perf_counter()
            engine, user, ids = load(url, n)
            load_s = time.perf_counter() - t0
            settings = Settings(
                environment="test", data_dir=Path(tmp), database_url=url, secret_key="b" * 64
            )
            app = create_app(settings, engine=engine)
            token = issue_token(secret=app.state.secret, settings=settings, kind="staff", subject=user.id,
                                organization_id=ids[0], expires_at=staff_token_expiry(settings))  # fmt: skip
            principal = Principal(kind="staff", organization_id=ids[0], user=user)

            t = time.perf_counter()
            api_features, api_bytes = asyncio.run(page_through(app, token, PAGE))
            api_s = time.perf_counter() - t
            t = time.perf_counter()
            sql_features, sql_bytes = raw_sql(engine, principal, PAGE)
            sql_s = time.perf_counter() - t
            assert api_features == n, (api_features, n)

            peaks = {}
            for limit in (2_000, 10_000):
                peaks[limit] = _server_peak_mb(engine, principal, limit)
            print(f"\n{backend}, {n:,} observations (loaded in {load_s:.1f} s), pages of {PAGE:,}")
            print(f"  {'':<28}{'seconds':>9}{'features/s':>14}{'MB':>9}")
            print(
                f"  {'feed endpoint (ASGI)':<28}{api_s:>9.2f}{api_features / api_s:>14,.0f}{api_bytes / 1e6:>9.1f}"
            )
            print(
                f"  {'raw SQL, same bytes':<28}{sql_s:>9.2f}{sql_features / sql_s:>14,.0f}{sql_bytes / 1e6:>9.1f}"
            )
            print(f"  throughput ratio endpoint/raw SQL: {sql_s / api_s:.2f}  (goal >= 0.7)")
            print(
                f"  server-side Python peak for one page: {peaks[2_000]:.2f} MB at 2,000 features, {peaks[10_000]:.2f} MB at 10,000"
            )
            engine.dispose()
        finally:
            drop(backend)


def _server_peak_mb(engine: Any, principal: Principal, limit: int) -> float:
    """Peak Python allocation while the feed's generator streams one page (chunks discarded,
    as a socket would take them)."""
    factory = make_sessionmaker(engine)
    tracemalloc.start()
    with factory() as s:
        page = map_service.observations_page(
            s, principal, map_service.FeedFilter(), limit=limit, cursor=None
        )
    connect = lambda: engine.connect().execution_options(sqlite_begin="DEFERRED")  # noqa: E731
    for _chunk in map_service.stream_collection(connect, [page.statement], {}):
        pass
    peak = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    return peak


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--backend", choices=["postgis", "spatialite"], default="postgis")
    p.add_argument("--n", type=int, nargs="+", default=[100_000])
    args = p.parse_args()
    for n in args.n:
        run(args.backend, n)


if __name__ == "__main__":
    main()
