"""Every SQL spelling that differs between SpatiaLite and PostGIS, and the only module that
knows which of the two a session is on.

Callers pass the session (or a connection or engine) they run on, and get the dialect's
spelling back; no other module reads a dialect name or passes one along. What is the same on
both databases (geometry to and from WKB) is in ``api.core.spatial``; connecting (extensions,
pragmas, roles) is in ``api.core.db``.

| need                 | PostGIS                          | SpatiaLite 5.0                          |
|----------------------|----------------------------------|-----------------------------------------|
| bbox via the index   | geom && ST_MakeEnvelope(...)     | rowid IN (SELECT FROM SpatialIndex ...) |
| ... then exactly     | ST_X/ST_Y BETWEEN, or ST_Intersects(geom, envelope), on both |             |
| GeoJSON              | ST_AsGeoJSON(g, 6)               | AsGeoJSON(g, 6)                         |
| many rows, one stmt  | INSERT/UPDATE ... unnest(arrays) | executemany (a loop inside the driver)  |

The whole table is in docs/architecture.md ("Two databases, one code path").
"""

from __future__ import annotations

import enum
import hashlib
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import shapely
from geoalchemy2 import Geometry
from shapely.geometry.base import BaseGeometry
from sqlalchemy import (
    JSON,
    ColumnElement,
    Connection,
    Date,
    Engine,
    Integer,
    LargeBinary,
    Select,
    String,
    Table,
    and_,
    bindparam,
    case,
    cast,
    func,
    insert,
    literal,
    literal_column,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import InstrumentedAttribute, Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from api.core.spatial import geom_literal
from geo.mercator import MAX_LATITUDE
from geo.units import EARTH_RADIUS_M
from models.base import SRID

Bind = Session | Connection | Engine
Box = tuple[float, float, float, float]


def _sqlite(bind: Bind) -> bool:
    engine_or_conn = bind.get_bind() if isinstance(bind, Session) else bind
    return engine_or_conn.dialect.name == "sqlite"


# --- what a database can do --------------------------------------------------------------------


def has_row_security(bind: Bind) -> bool:
    """PostgreSQL enforces the tenant wall itself (row-level security); on SQLite the
    application's filters are the wall."""
    return not _sqlite(bind)


def has_mvt(bind: Bind) -> bool:
    """PostGIS encodes Mapbox Vector Tiles itself; SpatiaLite does not (Python encodes)."""
    return not _sqlite(bind)


def lock_wait(session: Session, ms: int) -> None:
    """Begin ``session``'s transaction waiting at most ``ms`` for a lock (SQLite's write lock,
    PostgreSQL's row locks), for work that may be skipped rather than queue behind others.
    Call it before the transaction's first statement."""
    session.connection(execution_options={"sqlite_lock_wait_ms": ms})
    if not _sqlite(session):
        session.execute(text(f"SET LOCAL lock_timeout = {int(ms)}"))


def tune_for_report(session: Session) -> None:
    """For one read-only transaction of large sorts and one-off plans (the follow-up figures):
    on PostgreSQL, sort in memory rather than in temporary files, and skip JIT compilation,
    which costs more than it saves for a plan run once. SQLite has nothing to tune."""
    if not _sqlite(session):
        session.execute(text("SET LOCAL work_mem = '64MB'"))
        session.execute(text("SET LOCAL jit = off"))


def for_update(session: Session, stmt: Select[Any]) -> Select[Any]:
    """``stmt ... FOR UPDATE`` on PostgreSQL; SQLite writers already run one at a time."""
    return stmt if _sqlite(session) else stmt.with_for_update()


def lock_rows(session: Session, stmt: Select[Any]) -> None:
    """`SELECT ... FOR UPDATE` on PostgreSQL; SQLite writers already run one at a time."""
    if not _sqlite(session):
        session.execute(stmt.with_for_update())


# --- predicates --------------------------------------------------------------------------------


def _true(session: Session, condition: ColumnElement[Any]) -> ColumnElement[bool]:
    """A spatial predicate as a boolean: SpatiaLite's answer 1, 0 or -1, PostGIS' a boolean."""
    return condition == 1 if _sqlite(session) else condition


def contains_point(session: Session, area_col: Any, geom: BaseGeometry) -> ColumnElement[bool]:
    """Area covers the point, border included (a point on a shared border is in both)."""
    return _true(session, func.ST_Covers(area_col, geom_literal(geom)))


def _is_point(geom: Any) -> bool:
    """Whether ``geom`` is a column declared as POINT (its type says so)."""
    return getattr(getattr(geom, "type", None), "geometry_type", None) == "POINT"


def in_box(session: Session, geom: Any, bbox: Box, *, points: bool) -> ColumnElement[bool]:
    """``geom`` meets ``bbox``, border included, in double precision on both databases.

    Points compare their coordinates (cheap, and what a box means for a point); other shapes
    take ``ST_Intersects`` with the envelope, which is OGC API's rule for ``bbox``: a polygon
    whose bounding box meets the box but whose shape does not is not selected."""
    minx, miny, maxx, maxy = bbox
    if points:
        return and_(
            func.ST_X(geom).between(minx, maxx),
            func.ST_Y(geom).between(miny, maxy),
        )
    if _sqlite(session):
        return func.ST_Intersects(geom, func.BuildMbr(minx, miny, maxx, maxy, SRID)) == 1
    return func.ST_Intersects(geom, func.ST_MakeEnvelope(minx, miny, maxx, maxy, SRID))


def _index_candidates(
    session: Session, table_name: str, geom_col: InstrumentedAttribute[Any], bbox: Box
) -> ColumnElement[bool]:
    """Rows the spatial index offers for ``bbox``: a superset, since both indexes keep their
    boxes in single precision rounded outwards (PostGIS' ``&&`` also takes a point 1e-7
    degrees outside an edge). Never a filter on its own: see ``bbox_filter``."""
    minx, miny, maxx, maxy = bbox
    if _sqlite(session):
        # SpatiaLite only uses its R*Tree through the SpatialIndex virtual table, which
        # answers SQLite's implicit row ids.
        # Bound values, not named text parameters: several boxes in one statement (an OR of
        # them) each keep their own.
        idx = (
            select(text("ROWID"))
            .select_from(text("SpatialIndex"))
            .where(
                literal_column("f_table_name") == literal(table_name),
                literal_column("f_geometry_column") == literal(geom_col.key),
                literal_column("search_frame") == func.BuildMbr(minx, miny, maxx, maxy, SRID),
            )
        )
        found: ColumnElement[bool] = literal_column(f"{table_name}.rowid").in_(idx)
        return found
    return geom_col.op("&&")(func.ST_MakeEnvelope(minx, miny, maxx, maxy, SRID))


def bbox_filter(
    session: Session, table_name: str, geom_col: InstrumentedAttribute[Any], bbox: Box
) -> ColumnElement[bool]:
    """Rows whose geometry meets ``bbox`` exactly (``in_box``), found through the spatial
    index. Every bbox of every reader (OGC items, map feeds, observation lists, tiles, the
    prefilters of distance searches) is this one test, so both databases answer alike."""
    return and_(
        _index_candidates(session, table_name, geom_col, bbox),
        in_box(session, geom_col, bbox, points=_is_point(geom_col)),
    )


def bbox_filter_shown(
    session: Session,
    table_name: str,
    geom_col: InstrumentedAttribute[Any],
    bbox: Box,
    shown: Any,
    search: Box,
    general: InstrumentedAttribute[Any] | None = None,
) -> ColumnElement[bool]:
    """Rows whose *shown* point (an expression, such as a generalised location) lies in
    ``bbox``, then tested on the shown point. Found through the index on ``geom_col`` with the
    wider box ``search``, which holds every row whose shown point can be in ``bbox``; or, when
    the shown point is either ``geom_col`` or the indexed column ``general``, through both
    indexes with ``bbox`` itself (a few rows more, not a margin's worth)."""
    if general is not None:
        candidates = or_(
            _index_candidates(session, table_name, geom_col, bbox),
            _index_candidates(session, table_name, general, bbox),
        )
    else:
        candidates = _index_candidates(session, table_name, geom_col, search)
    return and_(candidates, in_box(session, shown, bbox, points=True))


def intersects(
    session: Session, table_name: str, geom_col: InstrumentedAttribute[Any], geom: BaseGeometry
) -> ColumnElement[bool]:
    """Rows whose geometry meets ``geom`` (lon/lat): the spatial index first, then exactly."""
    prefilter = _index_candidates(session, table_name, geom_col, geom.bounds)
    return and_(prefilter, _true(session, func.ST_Intersects(geom_col, geom_literal(geom))))


def intersects_shown(
    session: Session,
    table_name: str,
    geom_col: InstrumentedAttribute[Any],
    geom: BaseGeometry,
    shown: Any,
    search: Box,
) -> ColumnElement[bool]:
    """As ``intersects``, on the shown point: the index with the wider box ``search`` first."""
    prefilter = _index_candidates(session, table_name, geom_col, search)
    return and_(prefilter, _true(session, func.ST_Intersects(shown, geom_literal(geom))))


_GLOB_SPECIAL = str.maketrans({"*": "[*]", "?": "[?]", "[": "[[]"})


def like(
    session: Session, column: Any, pattern: str, *, nocase: bool = False
) -> ColumnElement[bool]:
    """SQL LIKE with CQL2's meaning (``%``, ``_``, backslash escapes; case-sensitive unless
    ``nocase``). SQLite's LIKE ignores ASCII case, so a GLOB of the same pattern adds it back."""
    plain: ColumnElement[bool] = column.like(pattern, escape="\\")
    if not _sqlite(session):
        return column.ilike(pattern, escape="\\") if nocase else plain
    if nocase:
        return plain
    glob, i = [], 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            glob.append(pattern[i + 1].translate(_GLOB_SPECIAL))
            i += 2
            continue
        glob.append("*" if ch == "%" else "?" if ch == "_" else ch.translate(_GLOB_SPECIAL))
        i += 1
    return and_(plain, column.op("GLOB")("".join(glob)))


# --- values ------------------------------------------------------------------------------------


def as_geojson(session: Session, geom_col: Any, decimals: int = 6) -> ColumnElement[str]:
    if _sqlite(session):
        return func.AsGeoJSON(geom_col, decimals)
    return func.ST_AsGeoJSON(geom_col, decimals)


def as_wkb(session: Session, geom: Any) -> Any:
    return func.AsBinary(geom) if _sqlite(session) else func.ST_AsBinary(geom)


def utc_day(session: Session, ts: Any) -> Any:
    """The UTC calendar day of a stored timestamp (SQLite keeps UTC text, see UTCDateTime)."""
    if _sqlite(session):
        return func.date(ts)
    return cast(func.timezone("UTC", ts), Date)


def days_between(session: Session, later: Any, earlier: Any) -> Any:
    """Days from ``earlier`` to ``later`` as a float (SQLite has no interval type)."""
    if _sqlite(session):
        return func.julianday(later) - func.julianday(earlier)
    return func.extract("epoch", later - earlier) / 86400.0


def days_to_resolve_order(session: Session, later: Any, earlier: Any) -> Any:
    """An expression in the order of `days_between`, spelled as the follow-up rollup
    migration's median indexes are, so that a window ordered by it walks the index."""
    if _sqlite(session):
        return func.julianday(later) - func.julianday(earlier)
    return func.extract("epoch", later - earlier)


class date_text(FunctionElement[str]):  # noqa: N801 (used as a function, like func.*)
    """A DATE column as ``YYYY-MM-DD`` text. An SQL construct that picks its spelling when the
    statement is compiled, so that definitions built once for both databases (a collection's
    property list) can hold it: SQLite stores dates as that text already."""

    type = String()
    inherit_cache = True
    name = "date_text"


@compiles(date_text)
def _date_text_postgres(element: date_text, compiler: SQLCompiler, **kw: Any) -> str:
    return f"to_char({compiler.process(element.clauses, **kw)}, 'YYYY-MM-DD')"


@compiles(date_text, "sqlite")
def _date_text_sqlite(element: date_text, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.clauses, **kw)


# --- JSON emitted by the database (feeds) ------------------------------------------------------
# Each Feature is built as JSON text by the database, so large pages never become Python dicts.


def uuid_text(session: Session, column: Any) -> ColumnElement[str]:
    """UUIDs as canonical text: PostgreSQL has a uuid type, SQLite stores 32 hex characters."""
    if _sqlite(session):
        parts = [
            func.substr(column, start, length)
            for start, length in ((1, 8), (9, 4), (13, 4), (17, 4), (21, 12))
        ]
        out: Any = parts[0]
        for p in parts[1:]:
            out = out.op("||")(literal("-")).op("||")(p)
        return func.lower(out)
    return cast(column, String)


def json_value(session: Session, kind: str, column: Any) -> Any:
    """One property value, typed for JSON: text, number, bool, uuid, time (RFC 3339, UTC) or date."""
    sqlite = _sqlite(session)
    if kind == "uuid":
        return uuid_text(session, column)
    if kind == "time":
        if sqlite:
            return func.strftime("%Y-%m-%dT%H:%M:%SZ", column)
        return func.to_char(func.timezone("UTC", column), 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
    if kind == "bool" and sqlite:
        return case(
            (column.is_(None), func.json("null")),
            (column == 1, func.json("true")),
            else_=func.json("false"),
        )
    if kind == "json" and sqlite:
        return func.json(column)
    return column


def feature_json(
    session: Session,
    id_column: Any,
    geom_column: Any,
    properties: list[tuple[str, str, Any]],
    *,
    geometry_text: Any = None,
) -> ColumnElement[str]:
    """A GeoJSON Feature as JSON text: string id, geometry with 6 decimals, typed properties.

    ``geometry_text`` replaces the geometry's GeoJSON text (see ``geometry_geojson``)."""
    props: list[Any] = []
    for name, kind, column in properties:
        props += [literal(name), json_value(session, kind, column)]
    if _sqlite(session):
        geom_text = func.AsGeoJSON(geom_column, 6) if geometry_text is None else geometry_text
        return func.json_object(
            "type", "Feature",
            "id", uuid_text(session, id_column),
            "geometry", func.json(geom_text),
            "properties", func.json_object(*props),
        )  # fmt: skip
    geom_text = func.ST_AsGeoJSON(geom_column, 6) if geometry_text is None else geometry_text
    return cast(
        func.json_build_object(
            "type", "Feature",
            "id", uuid_text(session, id_column),
            "geometry", cast(geom_text, JSON),
            "properties", func.json_build_object(*props),
        ),
        String,
    )  # fmt: skip


# --- locks -----------------------------------------------------------------------------------
#
# Grouping reads an area's open items of one category and then rewrites them. Two phones saving
# at the same spot must not both read "no item here" or both rewrite one item's counters, so
# every writer of a (organization, area, category) group takes that group's lock first, always
# in ascending key order. PostgreSQL: a transaction-level advisory lock (released at commit or
# rollback, and at the rollback of the savepoint that took it). SQLite: writers already run one
# at a time (BEGIN IMMEDIATE), so there is nothing to take.

GroupKey = tuple[Any, Any, Any]  # (organization id, area id or None, category id)


def group_lock_id(key: GroupKey) -> int:
    """A stable signed 64-bit id for an advisory lock."""
    digest = hashlib.blake2b("|".join(str(k) for k in key).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def lock_groups(session: Session, keys: Iterable[GroupKey]) -> None:
    """Take the groups' locks in one statement, in ascending order (the subquery's order)."""
    if _sqlite(session):
        return
    ids = sorted({group_lock_id(k) for k in keys})
    if len(ids) == 1:
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": ids[0]})
    elif ids:
        session.execute(
            text(
                "SELECT pg_advisory_xact_lock(k) FROM "
                "(SELECT unnest(CAST(:ks AS bigint[])) AS k ORDER BY k) AS ordered"
            ),
            {"ks": ids},
        )


# --- bulk writes (regroup) ---------------------------------------------------------------------
#
# A regroup writes thousands of items and moves up to every observation of an area: one
# statement per table, whatever the number of rows. PostgreSQL takes each column as one array
# parameter (INSERT ... SELECT FROM unnest(...), UPDATE ... FROM unnest(...)); SQLite runs one
# executemany, a loop inside the driver. Rows are dicts by column name; geometry values are
# shapely geometries in SRID 4326.

Row = Mapping[str, Any]


def bulk_insert(session: Session, table: Table, rows: Sequence[Row]) -> None:
    """Insert ``rows`` (all with the same keys) in one statement."""
    if not rows:
        return
    names = list(rows[0])
    if _sqlite(session):
        geo = [n for n in names if isinstance(table.c[n].type, Geometry)]
        stmt = insert(table)
        if geo:
            stmt = stmt.values({n: _geom_from_wkb(f"{n}__wkb") for n in geo})
        session.execute(stmt, _sqlite_rows(rows, names, geo))
        return
    _pg_insert_arrays(session, table, names, rows)


def _pg_insert_arrays(
    session: Session,
    table: Table,
    names: list[str],
    rows: Sequence[Row],
    *,
    conflict_keys: Sequence[str] = (),
    updates: dict[str, str] | None = None,
) -> None:
    """One ``INSERT ... SELECT * FROM unnest(arrays)`` on PostgreSQL: a single statement over
    arrays, not an executemany the server runs row by row. With ``conflict_keys``, the rows whose
    keys are there already set ``updates`` (column: SQL expression) instead."""
    arrays, params = _pg_arrays(session, table, names, rows)
    sql = f"INSERT INTO {table.name} ({', '.join(names)}) SELECT * FROM unnest({arrays})"
    if conflict_keys:
        sets = ", ".join(f"{c} = {expr}" for c, expr in (updates or {}).items())
        sql += f" ON CONFLICT ({', '.join(conflict_keys)}) DO UPDATE SET {sets}"
    session.connection().exec_driver_sql(sql, params)


def bulk_update(
    session: Session,
    table: Table,
    rows: Sequence[Row],
    *,
    key: str = "id",
    version: str | None = None,
) -> int:
    """Update many rows by ``key`` in one statement; each row sets the other columns it names.

    With ``version`` (a column name), each row carries the version it was read at under that
    name: only rows still at that version are written, and their version goes up by one
    (optimistic locking, like the ORM's). Returns how many rows were written.
    """
    if not rows:
        return 0
    names = list(rows[0])
    sets = [n for n in names if n not in (key, version)]
    if _sqlite(session):
        geo = [n for n in sets if isinstance(table.c[n].type, Geometry)]
        # Bound names must differ from the column names of an UPDATE's SET clause.
        where = table.c[key] == bindparam(f"{key}__key", type_=table.c[key].type)
        values: dict[str, Any] = {
            n: _geom_from_wkb(f"{n}__wkb")
            if n in geo
            else bindparam(f"{n}__set", type_=table.c[n].type)
            for n in sets
        }
        if version is not None:
            where = and_(where, table.c[version] == bindparam(f"{version}__key"))
            values[version] = table.c[version] + 1
        renamed = {key: f"{key}__key", **{n: f"{n}__set" for n in sets}}
        if version is not None:
            renamed[version] = f"{version}__key"
        many = [
            {renamed.get(k, k): v for k, v in row.items()} for row in _sqlite_rows(rows, names, geo)
        ]
        result = session.execute(update(table).where(where).values(values), many)
        return int(result.rowcount)  # type: ignore[attr-defined]
    arrays, params = _pg_arrays(session, table, names, rows)
    assignments = [f"{n} = v.{n}" for n in sets]
    match = f"t.{key} = v.{key}"
    if version is not None:
        assignments.append(f"{version} = t.{version} + 1")
        match += f" AND t.{version} = v.{version}"
    result = session.connection().exec_driver_sql(
        f"UPDATE {table.name} AS t SET {', '.join(assignments)} "
        f"FROM unnest({arrays}) AS v({', '.join(names)}) WHERE {match}",
        params,
    )
    return int(result.rowcount)


def _geom_from_wkb(name: str) -> ColumnElement[Any]:
    return func.GeomFromWKB(bindparam(name, type_=LargeBinary), SRID)


def _sqlite_rows(rows: Sequence[Row], names: list[str], geo: list[str]) -> list[dict[str, Any]]:
    """Rows for an executemany on SQLite: geometry columns as WKB under ``<name>__wkb`` (the
    other values go through the columns' own types)."""
    wkb = {n: shapely.to_wkb(np.array([r[n] for r in rows], dtype=object)).tolist() for n in geo}
    out = []
    for i, row in enumerate(rows):
        values = {n: row[n] for n in names if n not in geo}
        values.update({f"{n}__wkb": wkb[n][i] for n in geo})
        out.append(values)
    return out


def _pg_arrays(
    session: Session, table: Table, names: list[str], rows: Sequence[Row]
) -> tuple[str, dict[str, Any]]:
    """``CAST(%(c0)b AS type[]), ...`` for unnest, and one list parameter per column.

    Driver SQL, for psycopg's ``%b``: arrays go in binary format, several times faster to send
    than text arrays, whose every element psycopg checks for quoting."""
    dialect = session.get_bind().dialect  # compiles the columns' types
    casts, params = [], {}
    for i, name in enumerate(names):
        column_type = table.c[name].type
        values = [r[name] for r in rows]
        if isinstance(column_type, Geometry):
            geoms = shapely.set_srid(np.array(values, dtype=object), SRID)
            values = shapely.to_wkb(geoms, include_srid=True).tolist()  # EWKB
            casts.append(f"CAST(CAST(%(c{i})b AS BYTEA[]) AS geometry[])")
        else:
            if isinstance(column_type, JSON):
                values = [None if v is None else json.dumps(v) for v in values]
            else:
                values = [v.value if isinstance(v, enum.Enum) else v for v in values]
            casts.append(f"CAST(%(c{i})b AS {column_type.compile(dialect=dialect)}[])")
        params[f"c{i}"] = values
    return ", ".join(casts), params


# --- OGC API output and filters (api/outputs/ogc) -------------------------------------------------


def transform(geom: Any, srid: int) -> Any:
    """Reproject in the database (both use PROJ; SpatiaLite needs the SRID in spatial_ref_sys,
    which the readers migration adds)."""
    return geom if srid == SRID else func.ST_Transform(geom, srid)


def swap_axes(session: Session, geom: Any) -> Any:
    """Latitude first (EPSG:4326 and other north-first CRSs, in OGC API Part 2)."""
    return func.SwapCoordinates(geom) if _sqlite(session) else func.ST_FlipCoordinates(geom)


def multi(session: Session, geom: Any) -> Any:
    """Polygon -> MultiPolygon, so a layer has one declared geometry type."""
    return func.CastToMulti(geom) if _sqlite(session) else func.ST_Multi(geom)


def geometry_geojson(session: Session, geom: Any, decimals: int) -> ColumnElement[str]:
    """GeoJSON text of ``geom`` without a ``crs`` member (PostGIS adds one outside 4326)."""
    if _sqlite(session):
        return func.AsGeoJSON(geom, decimals)
    return func.ST_AsGeoJSON(geom, decimals, 0)


def extent(session: Session, geom_col: Any) -> list[Any]:
    """minx, miny, maxx, maxy of a column, as aggregate expressions."""
    if _sqlite(session):
        ext = func.Extent(geom_col)
        return [func.MbrMinX(ext), func.MbrMinY(ext), func.MbrMaxX(ext), func.MbrMaxY(ext)]
    ext = func.ST_Extent(geom_col)
    return [func.ST_XMin(ext), func.ST_YMin(ext), func.ST_XMax(ext), func.ST_YMax(ext)]


# --- vector tiles (api/outputs/tiles) -------------------------------------------------------------


def as_mvt(
    session: Session,
    stmt: Select[Any],
    *,
    layer: str,
    geom: Any,
    tile: tuple[int, int, int],
    columns: list[tuple[str, Any]],
    extent: int,
    buffer: int,
    projected: bool = False,
) -> bytes:
    """PostGIS: the rows of ``stmt`` as one MVT layer (``ST_AsMVTGeom`` clips and quantises).
    ``projected``: ``geom`` is in Web Mercator already."""
    z, x, y = tile
    envelope = func.ST_TileEnvelope(z, x, y)
    merc = geom if projected else func.ST_Transform(geom, 3857)
    mvt_geom = func.ST_AsMVTGeom(merc, envelope, extent, buffer, True)
    rows = stmt.with_only_columns(
        mvt_geom.label("geom"), *[expr.label(name) for name, expr in columns]
    ).subquery("t")
    inner = select(rows).where(rows.c.geom.is_not(None)).subquery("q")
    # A tile reads thousands of rows at most: starting parallel workers costs more than it
    # saves, and concurrent tile requests should not compete for them.
    session.execute(text("SET LOCAL max_parallel_workers_per_gather = 0"))
    data = session.scalar(
        select(func.ST_AsMVT(literal_column("q"), layer, extent, "geom")).select_from(inner)
    )
    return bytes(data) if data else b""


def cluster_on(conn: Connection, table: str, index: str) -> bool:
    """PostgreSQL: rewrite ``table`` in the order of ``index``, mark the index for later plain
    ``CLUSTER`` runs, and refresh the planner's statistics. SQLite: nothing (False)."""
    if _sqlite(conn):
        return False
    conn.exec_driver_sql(f'ALTER TABLE "{table}" CLUSTER ON "{index}"')
    conn.exec_driver_sql(f'CLUSTER "{table}" USING "{index}"')
    conn.exec_driver_sql(f'ANALYZE "{table}"')
    return True


def web_mercator_xy(session: Session, geom: Any) -> tuple[Any, Any]:
    """A point column's Web Mercator x and y in metres. PostgreSQL computes the spherical
    formulas (``geo.mercator.from_lonlat``) inline: an eighth of the time of ``ST_Transform``,
    whose per-row PROJ call dominated a z14 tile of thousands of points. SQLite's ``ln`` and
    ``tan`` are optional, so SpatiaLite reprojects."""
    if _sqlite(session):
        g = func.ST_Transform(geom, 3857)
        return func.ST_X(g), func.ST_Y(g)
    lat = func.greatest(func.least(func.ST_Y(geom), MAX_LATITUDE), -MAX_LATITUDE)
    x = EARTH_RADIUS_M * func.radians(func.ST_X(geom))
    y = EARTH_RADIUS_M * func.ln(func.tan(math.pi / 4 + func.radians(lat) / 2))
    return x, y


def web_mercator_point(session: Session, x: Any, y: Any) -> Any:
    """A point in Web Mercator (EPSG:3857) from two metre columns."""
    if _sqlite(session):
        return func.MakePoint(x, y, 3857)
    return func.ST_SetSRID(func.ST_MakePoint(x, y), 3857)


def cell_index(session: Session, value: Any) -> Any:
    """``floor(value)`` as an integer, for a non-negative ``value`` (a grid cell's number).
    PostgreSQL's integer cast rounds, so it floors first; SQLite's truncates, which is the
    floor of a non-negative number (its ``floor`` needs the optional math functions)."""
    if _sqlite(session):
        return cast(value, Integer)
    return cast(func.floor(value), Integer)


# --- Rollups: atomic counter upserts ----------------------------------------------------------
# `INSERT ... ON CONFLICT (key) DO UPDATE SET n = t.n + excluded.n` is the same SQL on both
# databases; only SQLAlchemy's construct for it lives in a dialect module.


def upsert_add(
    session: Session,
    table: Any,
    keys: Sequence[str],
    counters: Sequence[str],
    rows: Sequence[dict[str, Any]] | None = None,
    *,
    from_select: Select[Any] | None = None,
) -> None:
    """Add `rows` (or the rows of `from_select`, columns `keys + counters`) to `table`'s
    counters, inserting the keys that are not there yet. Atomic under concurrency: the
    database does the addition on the locked row."""
    if not _sqlite(session) and rows and from_select is None:
        added = {c: f"{table.name}.{c} + excluded.{c}" for c in counters}
        _pg_insert_arrays(
            session, table, [*keys, *counters], rows, conflict_keys=keys, updates=added
        )
        return
    ins: Any = sqlite_insert(table) if _sqlite(session) else pg_insert(table)
    if from_select is not None:
        ins = ins.from_select([*keys, *counters], from_select)
    stmt = ins.on_conflict_do_update(
        index_elements=list(keys),
        set_={c: table.c[c] + ins.excluded[c] for c in counters},
    )
    if from_select is not None:
        session.execute(stmt)
    elif rows:
        session.execute(stmt, list(rows))


def upsert_set(
    session: Session,
    table: Any,
    keys: Sequence[str],
    values: Sequence[str],
    rows: Sequence[dict[str, Any]],
) -> None:
    """Write `rows` (columns `keys + values`), replacing the values of keys already there:
    `INSERT ... ON CONFLICT (keys) DO UPDATE SET v = excluded.v`, one statement over arrays on
    PostgreSQL, an executemany on SQLite."""
    if not rows:
        return
    names = [*keys, *values]
    if not _sqlite(session):
        replaced = {c: f"excluded.{c}" for c in values}
        _pg_insert_arrays(session, table, names, rows, conflict_keys=keys, updates=replaced)
        return
    ins: Any = sqlite_insert(table)
    stmt = ins.on_conflict_do_update(
        index_elements=list(keys), set_={c: ins.excluded[c] for c in values}
    )
    session.execute(stmt, [{n: r[n] for n in names} for r in rows])
