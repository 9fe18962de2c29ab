"""Benchmark: assigning one new observation to an action item when the area already has N.

    python bench/bench_assign.py                          # both backends, N = 100000
    python bench/bench_assign.py --backend spatialite --n 20000
    python bench/bench_assign.py --no-regroup   # items grouped in Python: minutes, not a quarter hour

For each backend: a scratch database (PostgreSQL `safewalk_bench_assign`, dropped at the end,
or a SQLite file in a temporary directory), migrated with the real migrations. One
organization, one 10 km x 10 km area near Oslo, one walk; N accepted observations in the 6
actionable categories below, as clusters of 1-10 points within 20 m of a centre (one category
per cluster), bulk-loaded (COPY on PostgreSQL, executemany on SQLite) and then grouped into
action items by one `regroup_area` (timed: "regroup of an area with N observations").

Then 200 new observations go through `capture` (the service: place, assign to the nearest open
item through the spatial index, refresh the item), each in its own session and transaction;
capture + commit is timed. Half land within 15 m of an existing observation of the same
category (they join its item), half where nothing lies within 50 m (they start a new item).
A few warm-up captures go first and are not counted.

For comparison, for 50 of them: the candidate lookup as `assign` does it (`_nearby_members`,
bounding box through the spatial index, + `nearest_within`) against the same lookup without
the bounding box (all open members of the category in the area, + `nearest_within`); both must
pick the same item. PostgreSQL is ANALYZEd after loading and after the regroup (autovacuum would
do the same); SQLite is not (the application never runs ANALYZE there).
Everything is seeded, so runs are comparable.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import statistics
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from _common import create_scratch, drop_scratch
from scipy.spatial import cKDTree
from shapely.geometry import Polygon
from sqlalchemy import Engine, event, func, select
from sqlalchemy.orm import Session
from sqlmodel import col

from api.action_items import grouping as action_items
from api.areas import service as areas
from api.auth import organizations, users
from api.auth.deps_router import Principal
from api.core.db import create_db_engine, make_sessionmaker
from api.observations.service import capture
from api.settings import Settings
from geo.grouping import Candidate, GroupPoint, group_points, nearest_within
from geo.hotspots import cell_r15
from geo.projection import local_transformer
from models import OPEN_STATUSES, ActionItem, Category, Moderation, Observation, Role, Walk, utcnow
from models.observations import ObservationIn

DB_NAME = "safewalk_bench_assign"
CENTRE = (10.75, 59.91)  # Oslo
SIDE_M = 10_000.0
MARGIN_M = 100.0  # points stay this far inside the area's border
CLUSTER_RADIUS_M = 20.0
CATEGORIES = ["lighting", "vegetation", "walkway", "damaged_fixture", "graffiti", "litter"]
NEAR_OFFSET_M = 15.0
EMPTY_CLEARANCE_M = 50.0
NEW_OBSERVATIONS = 200
WARMUP = 5
UNINDEXED = 50
SEED = 20261215


# --- synthetic data --------------------------------------------------------------------------


@dataclass
class Points:
    xs: np.ndarray  # metres on the local plane
    ys: np.ndarray
    lons: np.ndarray
    lats: np.ndarray
    cats: np.ndarray  # index into CATEGORIES


def synthetic_points(n: int, rng: np.random.Generator) -> Points:
    sizes: list[int] = []
    while sum(sizes) < n:
        sizes.append(int(rng.integers(1, 11)))
    sizes[-1] -= sum(sizes) - n
    half = SIDE_M / 2 - MARGIN_M
    centres = rng.uniform(-half, half, size=(len(sizes), 2))
    cluster_cat = rng.integers(0, len(CATEGORIES), size=len(sizes))
    cluster_of = np.repeat(np.arange(len(sizes)), sizes)
    radius = CLUSTER_RADIUS_M * np.sqrt(rng.uniform(0.0, 1.0, n))
    angle = rng.uniform(0.0, 2 * np.pi, n)
    xs = centres[cluster_of, 0] + radius * np.cos(angle)
    ys = centres[cluster_of, 1] + radius * np.sin(angle)
    lons, lats = local_transformer(*CENTRE).inverse(xs, ys)
    return Points(xs, ys, lons, lats, cluster_cat[cluster_of])


def area_polygon() -> Polygon:
    h = SIDE_M / 2
    lons, lats = local_transformer(*CENTRE).inverse([-h, h, h, -h], [-h, -h, h, h])
    return Polygon(list(zip(lons.tolist(), lats.tolist(), strict=True)))


def new_positions(pts: Points, rng: np.random.Generator) -> list[tuple[float, float, str, str]]:
    """(lon, lat, category, kind): half next to an existing observation, half in empty space."""
    tr = local_transformer(*CENTRE)
    n_near = NEW_OBSERVATIONS // 2 + WARMUP
    n_empty = NEW_OBSERVATIONS - NEW_OBSERVATIONS // 2
    out: list[tuple[float, float, str, str]] = []
    picks = rng.choice(len(pts.xs), size=n_near, replace=False)
    r = NEAR_OFFSET_M * np.sqrt(rng.uniform(0.0, 1.0, n_near))
    a = rng.uniform(0.0, 2 * np.pi, n_near)
    lons, lats = tr.inverse(pts.xs[picks] + r * np.cos(a), pts.ys[picks] + r * np.sin(a))
    near = [
        (float(lons[i]), float(lats[i]), CATEGORIES[int(pts.cats[p])], "near")
        for i, p in enumerate(picks)
    ]
    tree = cKDTree(np.column_stack([pts.xs, pts.ys]))
    half = SIDE_M / 2 - MARGIN_M
    empty: list[tuple[float, float, str, str]] = []
    while len(empty) < n_empty:
        cand = rng.uniform(-half, half, size=(4 * n_empty, 2))
        dist, _ = tree.query(cand, k=1)
        ok = cand[dist > EMPTY_CLEARANCE_M][: n_empty - len(empty)]
        elon, elat = tr.inverse(ok[:, 0], ok[:, 1])
        for lon, lat in zip(elon.tolist(), elat.tolist(), strict=True):
            empty.append((lon, lat, CATEGORIES[int(rng.integers(0, len(CATEGORIES)))], "empty"))
    # Warm-up first (all "near"), then near and empty interleaved.
    out = near[:WARMUP]
    for a_, b_ in zip(near[WARMUP:], empty, strict=True):
        out += [a_, b_]
    return out


# --- statement timing ------------------------------------------------------------------------


@dataclass
class SqlLog:
    """Every statement the engine runs, with its wall time, while ``on`` is set."""

    on: bool = False
    calls: list[tuple[str, float]] = field(default_factory=list)
    # First statement seen of each kind worth an EXPLAIN: kind -> (sql, driver parameters).
    samples: dict[str, tuple[str, Any]] = field(default_factory=dict)

    def attach(self, engine: Engine) -> None:
        @event.listens_for(engine, "before_cursor_execute")
        def _before(conn: Any, _c: Any, statement: str, params: Any, _ctx: Any, _m: bool) -> None:
            conn.info.setdefault("_bench_t0", []).append(time.perf_counter())

        @event.listens_for(engine, "after_cursor_execute")
        def _after(conn: Any, _c: Any, statement: str, params: Any, _ctx: Any, _m: bool) -> None:
            t0 = conn.info["_bench_t0"].pop()
            if not self.on:
                return
            kind = classify(statement)
            self.calls.append((kind, time.perf_counter() - t0))
            if kind in EXPLAINED:
                self.samples.setdefault(kind, (statement, params))

    def take(self) -> list[tuple[str, float]]:
        out, self.calls = self.calls, []
        return out


EXPLAINED = {
    "SELECT bbox candidates": "bbox candidates (_nearby_members)",
    "SELECT observation by observation.action_item_id": "members of the item (refresh/_members)",
}


def classify(statement: str) -> str:
    s = " ".join(statement.split())
    if "SpatialIndex" in s or "&& ST_MakeEnvelope" in s:
        return "SELECT bbox candidates"
    m = re.match(r"(SELECT|INSERT INTO|UPDATE|DELETE FROM|SAVEPOINT|RELEASE SAVEPOINT)\s*(\S*)", s)
    if m is None:
        return s[:30]
    verb, rest = m.group(1), m.group(2)
    if verb == "SELECT":
        frm = re.search(r"\bFROM (\w+)", s)
        where = re.search(r"\bWHERE (\w+\.\w+)", s)
        return f"SELECT {frm.group(1) if frm else '?'}" + (f" by {where.group(1)}" if where else "")
    if verb.endswith("SAVEPOINT"):
        return verb
    return f"{verb} {rest.strip(chr(34))}"


# --- load ------------------------------------------------------------------------------------


@dataclass
class Setup:
    org_id: uuid.UUID
    area_id: uuid.UUID
    walk_id: uuid.UUID
    user: Any
    cat_ids: dict[str, uuid.UUID]
    distances: dict[str, float]


def create_fixtures(engine: Engine) -> Setup:
    factory = make_sessionmaker(engine)
    with factory() as s:
        org = organizations.create_organization(s, "Bench kommune", f"bench-{uuid.uuid4().hex[:6]}")
        user = users.create_user(
            s, org, email=f"admin-{uuid.uuid4().hex[:8]}@bench.no",
            password="benchmark-password", role=Role.admin,
        )  # fmt: skip
        area = areas.create_area(s, org, name="Oslo sentrum", geometry=area_polygon())
        walk = Walk(organization_id=org.id, title="bench", area_id=area.id,
                    join_code=uuid.uuid4().hex[:8].upper())  # fmt: skip
        s.add(walk)
        s.flush()
        cats = {
            c.code: c
            for c in s.scalars(select(Category).where(col(Category.organization_id) == org.id))
        }
        s.commit()
        return Setup(org.id, area.id, walk.id, user, {c: cats[c].id for c in CATEGORIES},
                     {c: cats[c].group_distance_m for c in CATEGORIES})  # fmt: skip


def load(engine: Engine, st: Setup, pts: Points, rng: np.random.Generator, grouped: bool) -> None:
    """The N observations; with ``grouped``, also their action items, grouped here in Python
    with `group_points` (a stand-in for the regroup, for quick runs)."""
    n = len(pts.xs)
    now = datetime.now(UTC).replace(microsecond=0)
    age_min = rng.integers(0, 365 * 24 * 60, size=n)
    severity = rng.integers(1, 4, size=n)
    recorded = [now - timedelta(minutes=int(m)) for m in age_min]
    item_of: list[uuid.UUID | None] = [None] * n
    items = []
    if grouped:
        gps = [GroupPoint(str(i), CATEGORIES[int(c)], float(x), float(y))
               for i, (c, x, y) in enumerate(zip(pts.cats, pts.lons, pts.lats, strict=True))]  # fmt: skip
        for group in group_points(gps, st.distances):
            idx = [int(i) for i in group]
            iid = uuid.uuid4()
            for i in idx:
                item_of[i] = iid
            code = CATEGORIES[int(pts.cats[idx[0]])]
            lon, lat = float(pts.lons[idx].mean()), float(pts.lats[idx].mean())
            seen = [recorded[i] for i in idx]
            items.append((
                iid, st.org_id, st.area_id, st.cat_ids[code], f"{code} - Oslo sentrum",
                f"POINT({lon:.8f} {lat:.8f})", len(idx), min(seen), max(seen), "[]", 0.0,
                "municipality", "new", 1, now, now,
            ))  # fmt: skip
    bulk_insert(engine, "action_item", (
        "id, organization_id, area_id, category_id, title, location, observation_count, "
        "first_seen_at, last_seen_at, participant_groups, priority_score, owner_type, status, "
        "version, created_at, updated_at"), items)  # fmt: skip
    rows = []
    for i in range(n):
        lon, lat = float(pts.lons[i]), float(pts.lats[i])
        oid = uuid.uuid4()
        rows.append((
            oid, st.org_id, st.walk_id, st.cat_ids[CATEGORIES[int(pts.cats[i])]],
            f"POINT({lon:.8f} {lat:.8f})", int(severity[i]), recorded[i],
            recorded[i] + timedelta(minutes=3), st.area_id, "accepted", cell_r15(lat, lon),
            hashlib.sha256(oid.bytes).hexdigest(), item_of[i],
        ))  # fmt: skip
    bulk_insert(engine, "observation", (
        "id, organization_id, walk_id, category_id, location, severity, recorded_at, "
        "received_at, area_id, moderation, h3_r15, body_hash, action_item_id"), rows)  # fmt: skip
    if engine.dialect.name == "postgresql":
        with engine.connect() as c:
            c.exec_driver_sql("ANALYZE")
            c.commit()


def bulk_insert(engine: Engine, table: str, cols: str, rows: list[tuple[Any, ...]]) -> None:
    """COPY on PostgreSQL, executemany on SQLite; the `location` column is WKT in SRID 4326."""
    names = [c.strip() for c in cols.split(",")]
    geo = names.index("location")
    if not rows:
        return
    if engine.dialect.name == "postgresql":
        raw = engine.raw_connection()
        try:
            with raw.cursor().copy(f"COPY {table} ({cols}) FROM STDIN") as cp:
                for r in rows:
                    cp.write_row([f"SRID=4326;{v}" if k == geo else v for k, v in enumerate(r)])
            raw.commit()
        finally:
            raw.close()
        return

    def sqlite_value(v: Any) -> Any:
        if isinstance(v, uuid.UUID):
            return v.hex
        if isinstance(v, datetime):
            return v.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        return v

    marks = ", ".join("GeomFromText(?, 4326)" if k == geo else "?" for k in range(len(names)))
    with engine.begin() as conn:
        conn.exec_driver_sql(
            f"INSERT INTO {table} ({cols}) VALUES ({marks})",
            [tuple(sqlite_value(v) for v in r) for r in rows],
        )


def warm_projection_cache() -> None:
    h = SIDE_M / 2
    lons, lats = local_transformer(*CENTRE).inverse([-h, h], [-h, h])
    for lon in np.arange(lons[0], lons[1] + 0.01, 0.01):
        for lat in np.arange(lats[0], lats[1] + 0.01, 0.01):
            local_transformer(float(lon), float(lat))


# --- measurements ----------------------------------------------------------------------------


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def scan_members(
    s: Session, obs: Observation, cat: Category
) -> list[tuple[uuid.UUID, float, float]]:
    """`_nearby_members` for open items without the bounding box: every open member of the
    category in the area."""
    stmt = (
        select(col(Observation.action_item_id), func.ST_X(Observation.location),
               func.ST_Y(Observation.location))
        .join(ActionItem, col(ActionItem.id) == col(Observation.action_item_id))
        .where(
            col(Observation.organization_id) == obs.organization_id,
            col(Observation.category_id) == cat.id,
            col(Observation.moderation) == Moderation.accepted,
            col(Observation.id) != obs.id,
            col(ActionItem.status).in_([str(x) for x in OPEN_STATUSES]),
            col(ActionItem.area_id) == obs.area_id,
        )
    )  # fmt: skip
    return [(r[0], float(r[1]), float(r[2])) for r in s.execute(stmt).all() if r[0] is not None]


def pick(
    lon: float, lat: float, rows: list[tuple[uuid.UUID, float, float]], d: float
) -> str | None:
    best = nearest_within(lon, lat, [Candidate(str(i), x, y) for i, x, y in rows], d)
    return best.key if best else None


def compare(
    s: Session, obs: Observation, cat: Category, lon: float, lat: float
) -> tuple[float, float, int, bool]:
    """Seconds for the indexed and the unindexed lookup, candidate rows scanned, same pick."""
    d = cat.group_distance_m
    t0 = time.perf_counter()
    a = pick(lon, lat, action_items._nearby_members(s, obs, cat, OPEN_STATUSES, lon, lat), d)
    t1 = time.perf_counter()
    rows = scan_members(s, obs, cat)
    b = pick(lon, lat, rows, d)
    t2 = time.perf_counter()
    return t1 - t0, t2 - t1, len(rows), a == b


def ms(values: list[float]) -> str:
    return f"{statistics.median(values) * 1e3:.2f}"


def p95(values: list[float]) -> float:
    return float(np.percentile(values, 95))


def explain(engine: Engine, sql: tuple[str, Any]) -> list[str]:
    statement, params = sql
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        if engine.dialect.name == "sqlite":
            cur.execute("EXPLAIN QUERY PLAN " + statement, params)
            return [str(r[-1]) for r in cur.fetchall()]
        cur.execute("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) " + statement, params)
        return [str(r[0]) for r in cur.fetchall()]
    finally:
        raw.rollback()
        raw.close()


def run(backend: str, n: int, regroup: bool) -> dict[str, Any]:
    rng = np.random.default_rng(SEED)
    settings = Settings()
    with tempfile.TemporaryDirectory() as tmp:
        url = create_scratch(backend, DB_NAME, Path(tmp))
        engine = create_db_engine(url)
        log = SqlLog()
        log.attach(engine)
        try:
            st = create_fixtures(engine)
            pts = synthetic_points(n, rng)
            load_s, _ = timed(lambda: load(engine, st, pts, rng, grouped=not regroup))
            principal = Principal(kind="staff", organization_id=st.org_id, user=st.user)
            factory = make_sessionmaker(engine)

            # One regroup creates the action items (and is itself a figure).
            regroup_line = "regroup_area: skipped (--no-regroup: items grouped in Python)"
            regroup_s: float | None = None
            if regroup:
                with factory() as s:
                    area = areas.get_area(s, st.org_id, st.area_id)
                    log.on = True
                    t = time.perf_counter()
                    result = action_items.regroup_area(s, principal, area)
                    regroup_call_s = time.perf_counter() - t
                    s.commit()
                    regroup_s = time.perf_counter() - t
                    log.on = False
                    regroup_line = (
                        f"regroup_area: {result.observations:,} observations, {regroup_call_s:.1f} s"
                        f" + commit {regroup_s - regroup_call_s:.1f} s, {len(log.take()):,} SQL"
                        " statements"
                    )
            if backend == "postgis":
                with engine.connect() as c:
                    c.exec_driver_sql("ANALYZE")
                    c.commit()
            with factory() as s:
                n_items = s.scalar(select(func.count()).select_from(ActionItem)) or 0

            # The regroup has built geo.projection's transformer for every 0.01 degree cell of
            # the area; without it the first refresh in each cell would pay for one (~6 ms).
            warm_projection_cache()

            # Captures: one session and one transaction each, like one PUT.
            captured: list[tuple[uuid.UUID, float, float, str, str]] = []
            cap_s: list[float] = []
            total_s: list[float] = []
            per_capture: list[list[tuple[str, float]]] = []
            outcome: dict[tuple[str, str], int] = defaultdict(int)
            for k, (lon, lat, code, kind) in enumerate(new_positions(pts, rng)):
                body = ObservationIn.model_validate({
                    "walk_id": str(st.walk_id), "category": code, "severity": 2,
                    "location": {"type": "Point", "coordinates": [lon, lat]},
                    "recorded_at": utcnow().isoformat(),
                })  # fmt: skip
                obs_id = uuid.uuid4()
                with factory() as s:
                    s.info["settings"] = settings
                    log.on = True
                    t0 = time.perf_counter()
                    done = capture(s, principal, obs_id, body)
                    t1 = time.perf_counter()
                    s.commit()
                    t2 = time.perf_counter()
                    log.on = False
                    stmts = log.take()
                    item = s.get(ActionItem, done.observation.action_item_id)
                    assert item is not None, "capture did not assign an item"
                if k < WARMUP:
                    continue
                cap_s.append(t1 - t0)
                total_s.append(t2 - t0)
                per_capture.append(stmts)
                outcome[(kind, "joined" if item.observation_count > 1 else "new item")] += 1
                captured.append((obs_id, lon, lat, code, kind))

            # Indexed vs unindexed candidate lookup, same observations, same session.
            idx_s: list[float] = []
            scan_s: list[float] = []
            scan_rows: list[int] = []
            disagree = 0
            sample = [captured[i] for i in np.linspace(0, len(captured) - 1, UNINDEXED).astype(int)]
            with factory() as s:
                for obs_id, lon, lat, code, _kind in sample:
                    obs = s.get(Observation, obs_id)
                    cat = s.get(Category, st.cat_ids[code])
                    assert obs is not None
                    assert cat is not None
                    ti, tu, n_rows, same = compare(s, obs, cat, lon, lat)
                    idx_s.append(ti)
                    scan_s.append(tu)
                    scan_rows.append(n_rows)
                    disagree += not same
                s.rollback()

            plans = {EXPLAINED[k]: explain(engine, sql) for k, sql in log.samples.items()}
        finally:
            engine.dispose()
            drop_scratch(backend, DB_NAME)

    # Where a capture's time goes, by statement kind.
    by_kind: dict[str, list[float]] = defaultdict(list)
    for stmts in per_capture:
        for kind, took in stmts:
            by_kind[kind].append(took)
    sql_total = [sum(x for _, x in stmts) for stmts in per_capture]
    print(f"\n{backend}: {n:,} observations loaded in {load_s:.1f} s (not a figure)")
    print(f"  {regroup_line}; {n_items:,} action items")
    print(
        f"  capture: {len(cap_s)} timed (+{WARMUP} warm-up), outcomes "
        + ", ".join(f"{k[0]}->{k[1]}: {v}" for k, v in sorted(outcome.items()))
    )
    print(f"  capture() median {ms(cap_s)} ms, p95 {p95(cap_s) * 1e3:.2f} ms; "
          f"with commit median {ms(total_s)} ms, p95 {p95(total_s) * 1e3:.2f} ms")  # fmt: skip
    print(f"  SQL per capture: median {statistics.median(len(c) for c in per_capture):.0f} "
          f"statements, {ms(sql_total)} ms in the driver")  # fmt: skip
    print(f"    {'statement kind':<50}{'per capture':>12}{'median ms':>11}{'sum ms':>9}")
    for kind, times in sorted(by_kind.items(), key=lambda kv: -sum(kv[1]))[:10]:
        print(f"    {kind:<50}{len(times) / len(per_capture):>12.2f}{ms(times):>11}"
              f"{sum(times) * 1e3:>9.1f}")  # fmt: skip
    print(f"  lookup on {len(idx_s)} captured: indexed median {ms(idx_s)} ms, "
          f"unindexed median {ms(scan_s)} ms over median {statistics.median(scan_rows):,.0f} "
          f"candidate rows; different picks: {disagree}")  # fmt: skip
    for what, plan in plans.items():
        print(f"  plan of {what}:")
        for line in plan:
            print(f"    {line}")
    return {
        "backend": backend, "n": n, "regroup_s": regroup_s,
        "med": statistics.median(total_s) * 1e3, "p95": p95(total_s) * 1e3,
        "cap_med": statistics.median(cap_s) * 1e3,
        "idx": statistics.median(idx_s) * 1e3, "scan": statistics.median(scan_s) * 1e3,
    }  # fmt: skip


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--backend", choices=["postgis", "spatialite", "both"], default="both")
    p.add_argument("--n", type=int, default=100_000)
    p.add_argument(
        "--no-regroup",
        action="store_true",
        help="skip the (slow) regroup: bulk-load items grouped in Python instead",
    )
    args = p.parse_args()
    backends = ["postgis", "spatialite"] if args.backend == "both" else [args.backend]
    results = [run(b, args.n, not args.no_regroup) for b in backends]

    header = (f"{'backend':<11}{'N':>9}{'regroup s':>11}{'assign med ms':>15}{'p95 ms':>9}"
              f"{'lookup idx ms':>15}{'unindexed ms':>14}{'assign/unidx':>14}{'idx/unidx':>11}")  # fmt: skip
    print("\nassign one observation (capture + commit) on a large table")
    print(header)
    print("-" * len(header))
    for r in results:
        rg = "-" if r["regroup_s"] is None else f"{r['regroup_s']:.1f}"
        print(f"{r['backend']:<11}{r['n']:>9,}{rg:>11}{r['med']:>15.2f}"
              f"{r['p95']:>9.2f}{r['idx']:>15.2f}{r['scan']:>14.2f}"
              f"{r['med'] / r['scan']:>14.3f}{r['idx'] / r['scan']:>11.3f}")  # fmt: skip


if __name__ == "__main__":
    main()
