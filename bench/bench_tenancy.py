"""Benchmark: what the second tenant wall (row-level security, api/core/tenancy.py) costs.

    python bench/bench_tenancy.py --n 100000 --captures 300

PostGIS only (SQLite has no wall of its own). Two organizations with N observations each; the
same app code serves, in the same run, as

- the anchor: the owner (a superuser here, so no policy applies) without the per-transaction
  ``set_config``, i.e. the service as it was before the wall;
- the wall: the app role ``safewalk_app`` under row-level security, as in production.

Measured: single-observation capture (PUT, one transaction each, with grouping) and paging
through the observations map feed of one organization (N features, pages of 10,000). Each
pair is run alternately, best of three, and printed with the ratio wall / anchor.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import event, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from api.app import create_app  # noqa: E402
from api.auth import organizations, users  # noqa: E402
from api.auth.security import issue_token, staff_token_expiry  # noqa: E402
from api.core import tenancy  # noqa: E402
from api.core.db import create_db_engine, make_sessionmaker  # noqa: E402
from api.settings import Settings  # noqa: E402
from bench._common import create_scratch, drop_scratch  # noqa: E402
from models import Role, Walk, WalkStatus, utcnow  # noqa: E402

NAME = "safewalk_bench_rls_bench"
PAGE = 10_000


def load(url: str, n: int) -> dict[str, Any]:
    engine = create_db_engine(url)
    factory = make_sessionmaker(engine)
    out: dict[str, Any] = {}
    with factory() as s:
        for label in ("a", "b"):
            org = organizations.create_organization(s, f"Bench {label}", f"bench-{label}")
            user = users.create_user(
                s, org, email=f"coordinator-{label}@bench.no", password="benchmark-password",
                role=Role.coordinator,
            )  # fmt: skip
            walk = Walk(organization_id=org.id, title="bench", join_code=f"BENCH{label.upper()}",
                        status=WalkStatus.active)  # fmt: skip
            s.add(walk)
            s.flush()
            out[label] = (org.id, user, walk.id)
        s.commit()
    start = utcnow() - timedelta(days=400)
    with engine.begin() as conn:
        for org_id, _, walk_id in out.values():
            conn.execute(
                text(
                    """
                    INSERT INTO observation (id, organization_id, walk_id, category_id, location,
                        severity, perceived_safety, note, recorded_at, received_at, is_dark,
                        moderation, body_hash)
                    SELECT gen_random_uuid(), :org, :walk,
                        (SELECT id FROM category WHERE organization_id = :org AND code = 'graffiti'),
                        ST_SetSRID(ST_MakePoint(10.65 + random() * 0.25, 59.85 + random() * 0.12), 4326),
                        1 + (g % 3), g % 4, 'Tagging on the underpass', :start + g * interval '1 minute',
                        :start + g * interval '1 minute', g % 2 = 0, 'accepted', md5(g::text)
                    FROM generate_series(1, :n) AS g
                    """
                ),
                {"org": org_id, "walk": walk_id, "start": start, "n": n},
            )
        conn.execute(text("ANALYZE"))
    engine.dispose()
    return out


def make_app(url: str, tmp: Path, *, wall: bool) -> Any:
    settings = Settings(environment="test", data_dir=tmp, database_url=url, secret_key="b" * 64)
    engine = create_db_engine(url, role=tenancy.APP_ROLE if wall else None)
    app = create_app(settings, engine=engine)
    if not wall:  # the anchor: no setting per transaction either
        event.remove(app.state.sessionmaker, "after_begin", tenancy._on_begin)
    return app


def token(app: Any, org_id: uuid.UUID, user: Any) -> str:
    settings = app.state.settings
    return issue_token(secret=app.state.secret, settings=settings, kind="staff", subject=user.id,
                       organization_id=org_id, expires_at=staff_token_expiry(settings))  # fmt: skip


async def captures(app: Any, bearer: str, walk_id: uuid.UUID, k: int) -> float:
    transport = httpx.ASGITransport(app=app)
    headers = {"Authorization": f"Bearer {bearer}"}
    recorded = (utcnow() - timedelta(minutes=1)).isoformat()
    # Points about 55 m apart: each starts or joins a small item, so no item grows through the
    # run and later captures cost what earlier ones did (both apps capture the same places).
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        t = time.perf_counter()
        for i in range(k):
            body = {
                "walk_id": str(walk_id), "category": "lighting", "severity": 2,
                "location": {"type": "Point", "coordinates": [10.60 + i * 1e-3, 59.90]},
                "note": "Lamp out", "recorded_at": recorded,
            }  # fmt: skip
            r = await client.put(f"/api/v1/observations/{uuid.uuid4()}", json=body, headers=headers)
            r.raise_for_status()
        return time.perf_counter() - t


async def feed(app: Any, bearer: str, n: int) -> float:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench", timeout=600) as c:
        t = time.perf_counter()
        url: str | None = f"/api/v1/map/observations?limit={PAGE}&category=graffiti"
        features = 0
        while url:
            r = await c.get(url, headers={"Authorization": f"Bearer {bearer}"})
            r.raise_for_status()
            tail = r.content[r.content.rfind(b'"numberReturned":') :]
            features += int(tail.split(b":")[1].split(b",")[0])
            link = r.headers.get("link")
            url = link.split(">")[0].lstrip("<").replace("http://bench", "") if link else None
        elapsed = time.perf_counter() - t
    assert features == n, (features, n)  # one organization's rows, never the other's
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=100_000, help="observations per organization")
    parser.add_argument("--captures", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        url = create_scratch("postgis", NAME, tmp)
        try:
            t0 = time.perf_counter()
            world = load(url, args.n)
            print(
                f"2 organizations x {args.n:,} observations loaded in {time.perf_counter() - t0:.1f} s"
            )
            apps = {"anchor": make_app(url, tmp, wall=False), "wall": make_app(url, tmp, wall=True)}
            org_id, user, walk_id = world["a"]
            best: dict[tuple[str, str], float] = {}
            # Round 0 warms both up and is not counted; the order alternates between rounds.
            for r in range(args.rounds + 1):
                order = list(apps.items()) if r % 2 else list(reversed(apps.items()))
                for name, app in order:
                    bearer = token(app, org_id, user)
                    cap = asyncio.run(captures(app, bearer, walk_id, args.captures))
                    fd = asyncio.run(feed(app, bearer, args.n))
                    if r:
                        best[name, "capture"] = min(best.get((name, "capture"), cap), cap)
                        best[name, "feed"] = min(best.get((name, "feed"), fd), fd)
            print(f"  {'':<34}{'anchor':>10}{'wall':>10}{'wall/anchor':>13}")
            a, w = best["anchor", "capture"], best["wall", "capture"]
            print(f"  {'capture, ms per observation':<34}{a / args.captures * 1e3:>10.2f}"
                  f"{w / args.captures * 1e3:>10.2f}{w / a:>13.2f}")  # fmt: skip
            a, w = best["anchor", "feed"], best["wall", "feed"]
            print(
                f"  {f'map feed, s for {args.n:,} features':<34}{a:>10.2f}{w:>10.2f}{w / a:>13.2f}"
            )
            for app in apps.values():
                app.state.engine.dispose()
        finally:
            drop_scratch("postgis", NAME)
    return 0


if __name__ == "__main__":
    sys.exit(main())
