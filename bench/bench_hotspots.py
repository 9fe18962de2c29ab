"""Benchmark: the hotspot map from the rollups, end to end, against the h3-py + libpysal +
esda pipeline on the same points, in one run.

    python bench/bench_hotspots.py                                  # PostGIS, 1,000,000 rows
    python bench/bench_hotspots.py --url sqlite:///var/bench_hotspots.db --n 100000

Without --url a scratch PostgreSQL database `safewalk_bench_hotspots` is created on
postgres@127.0.0.1:5432, migrated, and dropped at the end. A --url you give is migrated and
kept (use an empty database: the script adds its own organization).

Data (seeded, so runs compare): N observations within 20 km of Oslo, half as uniform
background and half in 200 clusters of 30-400 m, 15 categories, 90 % accepted, two years of
recorded_at, severity and is_dark filled. Observations of actionable categories belong to action
items (one per category and ~25 m patch), of every status. The exact cells (h3_r5..h3_r12) are
computed in Python as capture does. The load goes through COPY on PostgreSQL and executemany
on SQLite; the rollups are then built by the same backfill `safewalk migrate` runs (timed,
reported, not part of the map figure).

Measured at resolution 9 (and 8), best of 3 with time.perf_counter:
  SQL       the default map's two reads alone (cell rows, open items per cell), rows fetched
  service   `hotspot_map`: categories, the same SQL, Gi*, sorting
  response  `feature_collection_json`: outlines and the GeoJSON bytes
  endpoint  service + response (what GET /map/hotspots does besides auth and sending)
  anchor    on the same accepted points of the same categories: h3.latlng_to_cell binning,
            a libpysal W of the cells and their ring-1 neighbours, esda.G_Local(transform="B",
            star=True, permutations=0), and the same GeoJSON built with json.dumps
and the check that every non-empty cell's z equals esda's to 1e-6 and the bins are identical.
"""

from __future__ import annotations

import argparse
import json
import math
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import h3
import numpy as np
from h3.api import basic_int
from sqlalchemy import Engine, Select, create_engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session
from sqlmodel import col

from api.auth import organizations
from api.core.db import create_db_engine, make_sessionmaker
from api.core.migrate import upgrade
from api.hotspots import rollup as hotspot_rollup
from api.hotspots import service
from geo.hotspots import STORED_RESOLUTIONS, parent_mask
from models import ActionStatus, Category, Moderation, Walk

PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"
SCRATCH_DB = "safewalk_bench_hotspots"
OSLO = (59.9139, 10.7522)
RADIUS_M = 20_000.0
CLUSTERS = 200
REPEATS = 3
SEED = 20261215
M_PER_DEG = 111_320.0


# --------------------------------------------------------------------------- scratch database


def _admin() -> Engine:
    return create_engine(f"{PG_SERVER}/postgres", isolation_level="AUTOCOMMIT")


def create_scratch() -> str:
    admin = _admin()
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{SCRATCH_DB}" WITH (FORCE)'))
        c.execute(text(f'CREATE DATABASE "{SCRATCH_DB}"'))
    admin.dispose()
    return f"{PG_SERVER}/{SCRATCH_DB}"


def drop_scratch() -> None:
    admin = _admin()
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{SCRATCH_DB}" WITH (FORCE)'))
    admin.dispose()


# --------------------------------------------------------------------------- synthetic data


def positions(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(lat, lon) arrays: half uniform in the disc, half in Gaussian clusters."""
    n_bg = n // 2
    r = RADIUS_M * np.sqrt(rng.uniform(0, 1, n_bg))
    a = rng.uniform(0, 2 * np.pi, n_bg)
    east, north = r * np.cos(a), r * np.sin(a)
    centres_r = RADIUS_M * 0.9 * np.sqrt(rng.uniform(0, 1, CLUSTERS))
    centres_a = rng.uniform(0, 2 * np.pi, CLUSTERS)
    sigma = rng.uniform(30, 400, CLUSTERS)
    weight = rng.pareto(1.5, CLUSTERS) + 1
    which = rng.choice(CLUSTERS, size=n - n_bg, p=weight / weight.sum())
    c_east = centres_r[which] * np.cos(centres_a[which]) + rng.normal(0, sigma[which])
    c_north = centres_r[which] * np.sin(centres_a[which]) + rng.normal(0, sigma[which])
    east = np.concatenate([east, c_east])
    north = np.concatenate([north, c_north])
    lat = OSLO[0] + north / M_PER_DEG
    lon = OSLO[1] + east / (M_PER_DEG * math.cos(math.radians(OSLO[0])))
    return lat, lon


class World:
    def __init__(
        self,
        org: uuid.UUID,
        walk: uuid.UUID,
        categories: list[uuid.UUID],
        actionable: list[bool],
        codes: list[str],
    ) -> None:
        self.org, self.walk = org, walk
        self.categories, self.actionable, self.codes = categories, actionable, codes


def setup(engine: Engine) -> World:
    with make_sessionmaker(engine)() as s:
        org = organizations.create_organization(
            s, "Bench kommune", f"bench-hotspots-{uuid.uuid4().hex[:6]}"
        )
        walk = Walk(organization_id=org.id, title="bench", join_code=uuid.uuid4().hex[:8].upper())
        s.add(walk)
        s.flush()
        cats = s.execute(
            select(col(Category.id), col(Category.actionable), col(Category.code))
            .where(col(Category.organization_id) == org.id)
            .order_by(col(Category.code))
        ).all()
        s.commit()
        return World(
            org.id, walk.id, [c for c, _, _ in cats], [a for _, a, _ in cats], [c for *_, c in cats]
        )


class Data:
    """N observations as columns, and the action items they belong to."""

    def __init__(self, world: World, n: int) -> None:
        rng = np.random.default_rng(SEED)
        self.lat, self.lon = positions(n, rng)
        self.cat = rng.choice(len(world.categories), size=n)
        self.severity = rng.integers(1, 4, size=n)
        self.dark = rng.choice([0, 1, 2], size=n, p=[0.5, 0.4, 0.1])  # 2: unknown
        self.moderation = rng.choice(
            [str(m) for m in Moderation], size=n, p=[0.04, 0.9, 0.02, 0.02, 0.02]
        )
        self.minutes = rng.integers(0, 2 * 365 * 24 * 60, size=n)
        self.h3 = np.fromiter(
            (
                basic_int.latlng_to_cell(la, lo, 15)
                for la, lo in zip(self.lat, self.lon, strict=True)
            ),
            dtype=np.int64,
            count=n,
        )
        # The exact cells, as capture stores them.
        self.cells = {
            r: np.fromiter(
                (
                    basic_int.latlng_to_cell(la, lo, r)
                    for la, lo in zip(self.lat, self.lon, strict=True)
                ),
                dtype=np.int64,
                count=n,
            )
            for r in STORED_RESOLUTIONS
        }
        # Items as the grouping makes them: one per actionable category and small patch of
        # ground (a resolution-11 cell, ~25 m edge: the grouping distance); perception-only categories get none.
        and11, or11 = parent_mask(11)
        patch = (self.h3 & and11) | or11
        actionable = np.asarray(world.actionable)[self.cat]
        pairs = np.column_stack([patch, self.cat])[actionable]
        uniq, inverse = np.unique(pairs, axis=0, return_inverse=True)
        self.item = np.full(n, -1)
        self.item[actionable] = inverse.reshape(-1)
        n_items = len(uniq)
        self.item_ids = [uuid.uuid4() for _ in range(n_items)]
        statuses = [str(x) for x in ActionStatus]
        self.item_status = rng.choice(statuses, size=n_items)
        first = np.full(n_items, -1)
        has = self.item >= 0
        first[self.item[has][::-1]] = np.flatnonzero(has)[::-1]
        self.item_first = first


COLUMNS = (
    "id, organization_id, walk_id, category_id, action_item_id, location, severity, "
    "recorded_at, received_at, is_dark, moderation, h3_r15, body_hash, "
    + ", ".join(f"h3_r{r}" for r in STORED_RESOLUTIONS)
)
ITEM_COLUMNS = (
    "id, organization_id, category_id, title, location, observation_count, participant_groups, "
    "priority_score, owner_type, status, version, created_at, updated_at"
)


def _uuid(value: uuid.UUID | None, sqlite: bool) -> Any:
    return value.hex if sqlite and value is not None else value


def _time(value: datetime, sqlite: bool) -> Any:
    return value.replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f") if sqlite else value


def _point(lon: float, lat: float, sqlite: bool) -> str:
    return f"POINT({lon} {lat})" if sqlite else f"SRID=4326;POINT({lon} {lat})"


def item_rows(world: World, d: Data, sqlite: bool) -> Iterator[tuple[Any, ...]]:
    now = _time(datetime.now(UTC), sqlite)
    org = _uuid(world.org, sqlite)
    for i, item_id in enumerate(d.item_ids):
        j = int(d.item_first[i])
        yield (
            _uuid(item_id, sqlite),
            org,
            _uuid(world.categories[int(d.cat[j])], sqlite),
            "bench",
            _point(float(d.lon[j]), float(d.lat[j]), sqlite),
            0,
            "[]",
            0.0,
            "municipality",
            str(d.item_status[i]),
            1,
            now,
            now,
        )


def observation_rows(world: World, d: Data, sqlite: bool) -> Iterator[tuple[Any, ...]]:
    start = datetime.now(UTC) - timedelta(days=2 * 365)
    org, walk = _uuid(world.org, sqlite), _uuid(world.walk, sqlite)
    cats = [_uuid(c, sqlite) for c in world.categories]
    items = [_uuid(i, sqlite) for i in d.item_ids]
    for i in range(len(d.lat)):
        at = _time(start + timedelta(minutes=int(d.minutes[i])), sqlite)
        dark = int(d.dark[i])
        item = int(d.item[i])
        yield (
            _uuid(uuid.uuid4(), sqlite),
            org,
            walk,
            cats[int(d.cat[i])],
            items[item] if item >= 0 else None,
            _point(float(d.lon[i]), float(d.lat[i]), sqlite),
            int(d.severity[i]),
            at,
            at,
            None if dark == 2 else bool(dark),
            str(d.moderation[i]),
            int(d.h3[i]),
            uuid.uuid4().hex * 2,
            *(int(d.cells[r][i]) for r in STORED_RESOLUTIONS),
        )


def load(engine: Engine, world: World, d: Data) -> int:
    """Load the data; returns the number of action items."""
    sqlite = engine.dialect.name == "sqlite"
    raw = engine.raw_connection()
    try:
        if sqlite:
            cur = raw.cursor()
            cur.executemany(
                f"INSERT INTO action_item ({ITEM_COLUMNS}) VALUES "
                "(?, ?, ?, ?, GeomFromText(?, 4326), ?, ?, ?, ?, ?, ?, ?, ?)",
                list(item_rows(world, d, sqlite=True)),
            )
            cur.executemany(
                f"INSERT INTO observation ({COLUMNS}) VALUES "
                "(?, ?, ?, ?, ?, GeomFromText(?, 4326), ?, ?, ?, ?, ?, ?, ?"
                + ", ?" * len(STORED_RESOLUTIONS)
                + ")",
                list(observation_rows(world, d, sqlite=True)),
            )
            raw.commit()
            cur.execute("ANALYZE")
        else:
            pg: Any = raw.driver_connection
            with pg.cursor() as cur:
                with cur.copy(f"COPY action_item ({ITEM_COLUMNS}) FROM STDIN") as copy:
                    for row in item_rows(world, d, sqlite=False):
                        copy.write_row(row)
                with cur.copy(f"COPY observation ({COLUMNS}) FROM STDIN") as copy:
                    for row in observation_rows(world, d, sqlite=False):
                        copy.write_row(row)
            pg.commit()
            pg.autocommit = True
            pg.execute("VACUUM ANALYZE observation")
            pg.execute("VACUUM ANALYZE action_item")
    finally:
        raw.close()
    return len(d.item_ids)


# --------------------------------------------------------------------------- timing


def best_of(fn: Callable[[], Any]) -> tuple[float, Any]:
    best, out = math.inf, None
    for _ in range(REPEATS):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def _run_sql(session: Session, statements: tuple[Select[Any], ...]) -> list[list[Any]]:
    return [list(session.execute(st).all()) for st in statements]


def _endpoint(session: Session, world: World, q: service.HotspotQuery) -> tuple[Any, bytes]:
    result = service.hotspot_map(session, world.org, q)
    return result, service.feature_collection_json(result)


def anchor_points(world: World, d: Data) -> tuple[np.ndarray, np.ndarray]:
    """The points the map counts: accepted, of every category but positive_place."""
    keep = (d.moderation == "accepted") & (np.asarray(world.codes)[d.cat] != "positive_place")
    return d.lat[keep], d.lon[keep]


def anchor(
    lat: np.ndarray, lon: np.ndarray, res: int
) -> tuple[dict[str, int], dict[str, float], bytes]:
    """h3-py binning, libpysal weights and esda's G_Local, then the GeoJSON with json.dumps:
    what a planner would write with the PyData stack."""
    import esda
    from libpysal import weights

    counts: dict[str, int] = {}
    for la, lo in zip(lat.tolist(), lon.tolist(), strict=True):
        c = h3.latlng_to_cell(la, lo, res)
        counts[c] = counts.get(c, 0) + 1
    region: set[str] = set(counts)
    for cell in counts:
        region.update(h3.grid_disk(cell, 1))
    ids = sorted(region)
    neighbours = {c: [x for x in h3.grid_disk(c, 1) if x != c and x in region] for c in ids}
    w = weights.W(neighbours, id_order=ids, silence_warnings=True)
    y = np.array([counts.get(c, 0) for c in ids], dtype=np.float64)
    g = esda.G_Local(y, w, transform="B", star=True, permutations=0)
    z = {c: float(g.Zs[i]) for i, c in enumerate(ids) if c in counts}
    doc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": c,
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [
                        [[round(b, 6), round(a, 6)] for a, b in h3.cell_to_boundary(c)]
                    ],
                },
                "properties": {"h3": c, "count": counts[c], "gi_z": z[c]},
            }
            for c in counts
        ],
    }
    return counts, z, json.dumps(doc).encode()


def measure(engine: Engine, world: World, d: Data) -> list[dict[str, Any]]:
    import warnings

    factory = make_sessionmaker(engine)
    results = []
    lat, lon = anchor_points(world, d)
    for res in (9, 8):
        q = service.HotspotQuery(resolution=res, exact_places=True)
        with factory() as s:
            categories = service.category_filter(s, world.org, None)
            # The default map's reads: one row per cell, and the open items per cell.
            statements = (
                service.per_cell_statement(world.org, q.resolution),
                service.open_per_cell_statement(world.org, list(categories), q),
            )
            sql_s, (sql_rows, _) = best_of(partial(_run_sql, s, statements))
        with factory() as s:
            svc_s, result = best_of(partial(service.hotspot_map, s, world.org, q))
        # The cell rows leave out sensitive categories, which the map adds in place here.
        assert len(result.cells) >= len(sql_rows)
        out_s, body = best_of(partial(service.feature_collection_json, result))
        with factory() as s:
            end_s, _ = best_of(partial(_endpoint, s, world, q))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            anchor_s, (counts, z, anchor_body) = best_of(partial(anchor, lat, lon, res))
        mine = {c.h3: c for c in result.cells}
        same_bins = {h: c.count for h, c in mine.items()} == counts
        dz = max(abs((mine[h].gi_z or 0.0) - z[h]) for h in mine) if same_bins else math.inf
        hot = sum(c.hotspot_class.startswith("hot") for c in result.cells)
        print(
            f"  resolution {res}: {len(result.cells):,} cells, {hot:,} hot, "
            f"{len(body) / 1e6:.1f} MB (anchor's GeoJSON {len(anchor_body) / 1e6:.1f} MB); "
            f"bins identical to h3.latlng_to_cell: {same_bins}; max |z - esda z| = {dz:.2e}"
        )
        assert same_bins
        assert dz <= 1e-6
        results.append(
            {"res": res, "cells": len(result.cells), "sql": sql_s, "service": svc_s,
             "response": out_s, "endpoint": end_s, "anchor": anchor_s}
        )  # fmt: skip
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="database URL (default: scratch PostgreSQL database)")
    parser.add_argument("--n", type=int, default=1_000_000, help="observations to load")
    args = parser.parse_args()
    scratch = args.url is None
    url = create_scratch() if scratch else args.url
    try:
        upgrade(url)
        engine = create_db_engine(url)
        world = setup(engine)
        t = time.perf_counter()
        d = Data(world, args.n)
        data_s = time.perf_counter() - t
        t = time.perf_counter()
        items = load(engine, world, d)
        load_s = time.perf_counter() - t
        t = time.perf_counter()
        added = hotspot_rollup.backfill(make_sessionmaker(engine), batch=100_000)
        backfill_s = time.perf_counter() - t
        if engine.dialect.name == "postgresql":
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                for table in (
                    "hotspot_day", "hotspot_total", "hotspot_member", "hotspot_cell",
                    "hotspot_item_cell", "observation",
                ):  # fmt: skip
                    c.execute(text(f"VACUUM ANALYZE {table}"))
        else:
            with engine.begin() as c:
                c.execute(text("ANALYZE"))
        backend = "PostGIS" if engine.dialect.name == "postgresql" else "SpatiaLite"
        where = make_url(url).render_as_string(hide_password=True)
        with engine.connect() as c:
            total_rows = c.execute(text("SELECT count(*) FROM hotspot_total")).scalar()
            day_rows = c.execute(text("SELECT count(*) FROM hotspot_day")).scalar()
            cell_rows = c.execute(text("SELECT count(*) FROM hotspot_cell")).scalar()
            pair_rows = c.execute(text("SELECT count(*) FROM hotspot_item_cell")).scalar()
        print(
            f"\n{backend} ({where}): {args.n:,} observations and {items:,} action items "
            f"(cells computed in {data_s:.1f} s, loaded in {load_s:.1f} s); rollups built by the "
            f"backfill in {backfill_s:.1f} s for {added:,} counted observations: "
            f"{total_rows:,} total rows, {day_rows:,} day rows, {cell_rows:,} cell rows, "
            f"{pair_rows:,} (cell, open item) rows (all resolutions)"
        )
        results = measure(engine, world, d)
        engine.dispose()
        print(f"\n  best of {REPEATS}, seconds")
        print(
            f"  {'res':>3} {'cells':>7} {'SQL':>7} {'service':>8} {'response':>9} "
            f"{'endpoint':>9} {'anchor':>7} {'anchor/endpoint':>16}"
        )
        for m in results:
            print(
                f"  {m['res']:>3} {m['cells']:>7,} {m['sql']:>7.3f} {m['service']:>8.3f} "
                f"{m['response']:>9.3f} {m['endpoint']:>9.3f} {m['anchor']:>7.3f} "
                f"{m['anchor'] / m['endpoint']:>15.1f}x"
            )
    finally:
        if scratch:
            drop_scratch()


if __name__ == "__main__":
    main()
