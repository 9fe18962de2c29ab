"""Benchmark: a full regroup of one area against the SQL (or driver) limit of the same work.

    python bench/bench_regroup.py                              # both backends, 100,000
    python bench/bench_regroup.py --backend postgis --size 20000 --repeat 1

The data are `bench_assign.py`'s (same seed): N accepted observations in one 10 km x 10 km
area near Oslo, 6 actionable categories, clusters of 1-10 points within 20 m; bulk-loaded
(COPY / executemany), no action items yet. Each run starts from that state and is rolled back,
so every run does the same work; tables are vacuumed between runs (not timed).

Ours: `regroup_area` (read the area once, group and shape in geo/, write with a fixed number of
statements) + flush. Counted: SQL statements (an executemany counts once) and the time spent
inside them.

Anchor, PostGIS: the SQL limit of a regroup of the same rows, as the issue states it:
`ST_ClusterDBSCAN(eps := 30 m, minpoints := 1)` per category in UTM 32N into a temporary table,
the item rows built from it in one INSERT ... SELECT (centroid, footprint = convex hull buffered
by 5 m with 16 segments a quarter circle as ours, count, first and last seen), and one UPDATE
of every observation's item reference. It does less than ours (no titles, priorities,
participant groups, due dates, events, matching of existing items) and groups at one distance,
30 m, where ours uses each category's (20-35 m).

Anchor, SpatiaLite (no clustering in SQL): the pure work in Python plus raw driver calls for
the same rows: one SELECT through the DB-API cursor, `geo.grouping.group_points` and
`group_shapes`, and two raw `executemany`s (INSERT the items, UPDATE every observation).

Afterwards ours runs once more and commits, and a second regroup of the now grouped, unchanged
area is timed (it reads and compares, and writes nothing).
"""

from __future__ import annotations

import argparse
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from _common import create_scratch, drop_scratch
from bench_assign import CATEGORIES, SEED, create_fixtures, load, synthetic_points
from sqlalchemy import Engine, event, text

from api.action_items import grouping
from api.auth.principal import Principal
from api.core.db import create_db_engine, make_sessionmaker
from geo.grouping import GroupPoint, group_points, group_shapes

DB_NAME = "safewalk_bench_regroup_bench"
UTM_32N = 32632


class Statements:
    """Statements sent and seconds spent inside them while ``on``."""

    def __init__(self, engine: Engine) -> None:
        self.on = False
        self.count = 0
        self.seconds = 0.0
        self._t0 = 0.0
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, *_a: Any) -> None:
        self._t0 = time.perf_counter()

    def _after(self, *_a: Any) -> None:
        if self.on:
            self.count += 1
            self.seconds += time.perf_counter() - self._t0

    def start(self) -> None:
        self.on, self.count, self.seconds = True, 0, 0.0

    def stop(self) -> tuple[int, float]:
        self.on = False
        return self.count, self.seconds


# --- anchors ---------------------------------------------------------------------------------

ANCHOR_SQL = [
    (
        "ST_ClusterDBSCAN into a temporary table",
        f"""CREATE TEMP TABLE anchor_cluster ON COMMIT DROP AS
        SELECT o.id, o.category_id, o.recorded_at, ST_Transform(o.location, {UTM_32N}) AS utm,
               ST_ClusterDBSCAN(ST_Transform(o.location, {UTM_32N}), eps := 30, minpoints := 1)
                 OVER (PARTITION BY o.category_id) AS cid
        FROM observation o
        WHERE o.area_id = :area AND o.moderation = 'accepted' AND o.location IS NOT NULL""",
    ),
    (
        "an item id for each cluster",
        """CREATE TEMP TABLE anchor_map ON COMMIT DROP AS
        SELECT category_id, cid, gen_random_uuid() AS item_id
        FROM anchor_cluster GROUP BY category_id, cid""",
    ),
    (
        "INSERT the items (centroid, footprint, count)",
        """INSERT INTO action_item (id, organization_id, area_id, category_id, title,
            title_edited, location, footprint, observation_count, first_seen_at, last_seen_at,
            participant_groups, priority_score, owner_type, status, version, created_at,
            updated_at)
        SELECT m.item_id, :org, :area, m.category_id, 'anchor', false,
               ST_Transform(ST_Centroid(ST_Collect(c.utm)), 4326),
               ST_Transform(ST_Buffer(ST_ConvexHull(ST_Collect(c.utm)), 5, 'quad_segs=16'), 4326),
               count(*), min(c.recorded_at), max(c.recorded_at), '[]', 0, 'municipality',
               'new', 1, now(), now()
        FROM anchor_cluster c JOIN anchor_map m USING (category_id, cid)
        GROUP BY m.item_id, m.category_id""",
    ),
    (
        "UPDATE every observation's item",
        """UPDATE observation o SET action_item_id = m.item_id
        FROM anchor_cluster c JOIN anchor_map m USING (category_id, cid)
        WHERE o.id = c.id""",
    ),
]


def anchor_postgis(engine: Engine, org: uuid.UUID, area: uuid.UUID) -> tuple[float, list[float]]:
    steps = []
    with engine.connect() as conn:
        t0 = time.perf_counter()
        for _label, sql in ANCHOR_SQL:
            t = time.perf_counter()
            conn.execute(text(sql), {"org": org, "area": area})
            steps.append(time.perf_counter() - t)
        total = time.perf_counter() - t0
        n_items = conn.scalar(text("SELECT count(*) FROM anchor_map"))
        conn.rollback()
    print(f"    anchor items: {n_items:,}")
    return total, steps


def anchor_spatialite(
    engine: Engine, org: uuid.UUID, area: uuid.UUID, distances: dict[str, float]
) -> tuple[float, list[float]]:
    raw = engine.raw_connection()
    code_of = {}
    try:
        cur = raw.cursor()
        for cid, code in cur.execute("SELECT id, code FROM category WHERE organization_id = ?",
                                     (org.hex,)):  # fmt: skip
            code_of[cid] = code
        cur.execute("BEGIN IMMEDIATE")
        t0 = time.perf_counter()
        rows = cur.execute(
            "SELECT id, category_id, X(location), Y(location), recorded_at FROM observation "
            "WHERE area_id = ? AND moderation = 'accepted' AND location IS NOT NULL",
            (area.hex,),
        ).fetchall()
        t1 = time.perf_counter()
        groups = group_points([GroupPoint(r[0], code_of[r[1]], r[2], r[3]) for r in rows],
                              distances)  # fmt: skip
        by_id = {r[0]: r for r in rows}
        members = [by_id[o] for g in groups for o in g]
        shapes = group_shapes(
            [m[2] for m in members], [m[3] for m in members],
            np.repeat(np.arange(len(groups)), [len(g) for g in groups]), len(groups),
        )  # fmt: skip
        t2 = time.perf_counter()
        now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        item_ids = [uuid.uuid4().hex for _ in groups]
        points = shapely.to_wkb(shapely.points(shapes.centroids)).tolist()
        footprints = shapely.to_wkb(shapes.footprints).tolist()
        items = []
        for k, g in enumerate(groups):
            seen = [by_id[o][4] for o in g]
            items.append((item_ids[k], org.hex, area.hex, by_id[g[0]][1], "anchor", 0, points[k],
                          footprints[k], len(g), min(seen), max(seen), "[]", 0.0,
                          "municipality", "new", 1, now, now))  # fmt: skip
        cur.executemany(
            "INSERT INTO action_item (id, organization_id, area_id, category_id, title, "
            "title_edited, location, footprint, observation_count, first_seen_at, last_seen_at, "
            "participant_groups, priority_score, owner_type, status, version, created_at, "
            "updated_at) VALUES (?, ?, ?, ?, ?, ?, GeomFromWKB(?, 4326), GeomFromWKB(?, 4326), "
            "?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            items,
        )
        t3 = time.perf_counter()
        cur.executemany(
            "UPDATE observation SET action_item_id = ? WHERE id = ?",
            [(item_ids[k], o) for k, g in enumerate(groups) for o in g],
        )
        t4 = time.perf_counter()
        cur.execute("ROLLBACK")
    finally:
        raw.close()
    print(f"    anchor items: {len(groups):,}")
    return t4 - t0, [t1 - t0, t2 - t1, t3 - t2, t4 - t3]


SPATIALITE_STEPS = [
    "SELECT the area's observations (DB-API cursor)",
    "group_points + group_shapes (geo/)",
    "executemany INSERT the items",
    "executemany UPDATE every observation's item",
]


# --- ours ------------------------------------------------------------------------------------


def ours(
    engine: Engine, stmts: Statements, principal: Principal, area_id: uuid.UUID, commit: bool
) -> dict[str, Any]:
    factory = make_sessionmaker(engine)
    with factory() as s:
        from models import Area

        area = s.get(Area, area_id)
        assert area is not None
        stmts.start()
        t = time.perf_counter()
        result = grouping.regroup_area(s, principal, area)
        s.flush()
        took = time.perf_counter() - t
        count, in_sql = stmts.stop()
        if commit:
            s.commit()
        else:
            s.rollback()
    return {"s": took, "statements": count, "sql_s": in_sql, "result": result}


def vacuum(engine: Engine) -> None:
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.exec_driver_sql("VACUUM ANALYZE observation")
            c.exec_driver_sql("VACUUM ANALYZE action_item")
            c.exec_driver_sql("VACUUM ANALYZE action_event")


def best(runs: list[float]) -> float:
    return min(runs)


def run(backend: str, n: int, repeat: int) -> dict[str, Any]:
    rng = np.random.default_rng(SEED)
    with tempfile.TemporaryDirectory() as tmp:
        url = create_scratch(backend, DB_NAME, Path(tmp))
        engine = create_db_engine(url)
        stmts = Statements(engine)
        try:
            st = create_fixtures(engine)
            pts = synthetic_points(n, rng)
            t = time.perf_counter()
            load(engine, st, pts, rng, grouped=False)
            print(f"\n{backend}: {n:,} observations loaded in {time.perf_counter() - t:.1f} s "
                  "(not a figure)")  # fmt: skip
            principal = Principal(kind="staff", organization_id=st.org_id, user=st.user)
            vacuum(engine)
            anchor_s: list[float] = []
            anchor_steps: list[list[float]] = []
            ours_runs: list[dict[str, Any]] = []
            anchor: Callable[[], tuple[float, list[float]]] = (
                (lambda: anchor_postgis(engine, st.org_id, st.area_id))
                if backend == "postgis"
                else (lambda: anchor_spatialite(engine, st.org_id, st.area_id, st.distances))
            )
            for r in range(repeat):
                total, steps = anchor()
                anchor_s.append(total)
                anchor_steps.append(steps)
                vacuum(engine)
                ours_runs.append(ours(engine, stmts, principal, st.area_id, commit=False))
                vacuum(engine)
                print(f"  run {r + 1}: anchor {total:.2f} s, ours {ours_runs[-1]['s']:.2f} s "
                      f"({ours_runs[-1]['statements']} statements, "
                      f"{ours_runs[-1]['sql_s']:.2f} s in SQL)")  # fmt: skip
            committed = ours(engine, stmts, principal, st.area_id, commit=True)
            vacuum(engine)
            again = ours(engine, stmts, principal, st.area_id, commit=True)
        finally:
            engine.dispose()
            drop_scratch(backend, DB_NAME)

    res = ours_runs[0]["result"]
    fastest = min(ours_runs, key=lambda x: x["s"])
    k = anchor_s.index(best(anchor_s))
    labels = [label for label, _ in ANCHOR_SQL] if backend == "postgis" else SPATIALITE_STEPS
    print(f"  ours: {res.observations:,} observations -> {res.items_created:,} items")
    print(f"  anchor, best of {repeat}: {anchor_s[k]:.2f} s")
    for label, took in zip(labels, anchor_steps[k], strict=True):
        print(f"    {label:<50}{took:>8.2f} s")
    print(f"  ours, best of {repeat}: {fastest['s']:.2f} s, {fastest['statements']} statements, "
          f"{fastest['sql_s']:.2f} s inside them, {fastest['s'] - fastest['sql_s']:.2f} s Python")  # fmt: skip
    print(f"  ours / anchor: {fastest['s'] / anchor_s[k]:.2f}")
    print(f"  committed regroup {committed['s']:.2f} s; a second regroup of the unchanged area "
          f"{again['s']:.2f} s, {again['statements']} statements, "
          f"{again['result'].items_kept:,} items kept, "
          f"{again['result'].items_created} created")  # fmt: skip
    return {
        "backend": backend, "n": n, "items": res.items_created, "anchor": anchor_s[k],
        "ours": fastest["s"], "statements": fastest["statements"], "again": again["s"],
        "again_statements": again["statements"],
    }  # fmt: skip


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--backend", choices=["postgis", "spatialite", "both"], default="both")
    p.add_argument("--size", type=int, default=100_000, help="observations in the area")
    p.add_argument("--repeat", type=int, default=2, help="anchor/ours pairs (best of)")
    args = p.parse_args()
    backends = ["postgis", "spatialite"] if args.backend == "both" else [args.backend]
    results = [run(b, args.size, args.repeat) for b in backends]

    header = (f"{'backend':<11}{'N':>9}{'items':>8}{'anchor s':>10}{'ours s':>8}"
              f"{'ours/anchor':>13}{'statements':>12}{'again s':>9}{'stmts':>7}")  # fmt: skip
    print(f"\nregroup of one area ({', '.join(CATEGORIES)})")
    print(header)
    print("-" * len(header))
    for r in results:
        print(f"{r['backend']:<11}{r['n']:>9,}{r['items']:>8,}{r['anchor']:>10.2f}"
              f"{r['ours']:>8.2f}{r['ours'] / r['anchor']:>13.2f}{r['statements']:>12}"
              f"{r['again']:>9.2f}{r['again_statements']:>7}")  # fmt: skip


if __name__ == "__main__":
    main()
