"""Engines and sessions for both databases: SQLite + SpatiaLite and PostgreSQL + PostGIS.

Everything dialect-specific about *connecting* lives here; dialect-specific SQL lives in
``api/core/dialect.py``.
"""

from __future__ import annotations

import ctypes
import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from models.base import utcnow

SPATIALITE_HINT = (
    "SpatiaLite (mod_spatialite) could not be loaded: install it with "
    "'apt-get install libsqlite3-mod-spatialite' (Debian/Ubuntu) or "
    "'brew install libspatialite' (macOS), or set SPATIALITE_LIBRARY_PATH"
)


class SpatiaLiteMissing(RuntimeError):
    """mod_spatialite is not installed; the message names the package to install."""


def sqlite_module() -> ModuleType:
    """A DB-API sqlite module that can load extensions.

    Many Python builds (pyenv, some distributions) ship an ``sqlite3`` without
    ``enable_load_extension``; the ``pysqlite3`` wheel always has it.
    """
    import sqlite3

    if hasattr(sqlite3.Connection, "enable_load_extension"):
        return sqlite3
    try:
        return importlib.import_module("pysqlite3.dbapi2")
    except ImportError as exc:  # pragma: no cover - depends on the platform
        raise SpatiaLiteMissing(
            "this Python's sqlite3 cannot load extensions; 'pip install pysqlite3-binary'"
        ) from exc


# How long a SQLite writer waits for the write lock before "database is locked".
BUSY_TIMEOUT_MS = 30_000

# Tried in order; the bare name lets the dynamic loader search its usual paths.
SPATIALITE_CANDIDATES = ["mod_spatialite"]


# Packages whose wheels carry their own copy of a native library that mod_spatialite also
# brings in from the system: PROJ, SQLite, libtiff and libcurl (pyproj), GEOS (shapely),
# GDAL with its static SQLite and GEOS (pyogrio), OpenSSL, Kerberos and LDAP (psycopg's libpq),
# libtiff, libjpeg, libwebp, zstd and lzma (Pillow), libffi (cffi), libxml2 (lxml, which the
# tests' OWSLib uses). Listed in import order: psycopg must come before psycopg_binary.
BUNDLING_PACKAGES = (
    "pyproj",
    "shapely",
    "pyogrio",
    "psycopg",
    "psycopg_binary",
    "PIL",
    "_cffi_backend",
    "lxml",
    "_brotli",  # the web files' compression; SpatiaLite's libraries bring the system's libbrotli
)

_bound_lock = threading.Lock()
_bound = False
_EXTENSION_SUFFIXES = tuple(importlib.machinery.EXTENSION_SUFFIXES)


def _dlopen(path: str, mode: int) -> None:
    try:
        ctypes.CDLL(path, mode=mode)
    except OSError:  # an optional part that cannot load here never will
        pass


class _DeepBindFinder(importlib.abc.MetaPathFinder):
    """Loads each extension module of BUNDLING_PACKAGES, when it is first imported, with
    RTLD_DEEPBIND: the module and the libraries it brings look up symbols in their own scope
    before the global one, so the system's copies SpatiaLite put there cannot take them over.
    The import that follows finds the file already loaded. Nothing is loaded before it is
    used (pyogrio's GDAL alone is 12 MB that an idle worker does not need)."""

    def find_spec(
        self, fullname: str, path: Any = None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname.partition(".")[0] not in BUNDLING_PACKAGES:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        origin = spec.origin if spec is not None else None
        if origin is not None and origin.endswith(_EXTENSION_SUFFIXES):
            _dlopen(origin, os.RTLD_NOW | os.RTLD_DEEPBIND)
        return None  # the usual finders import it


def _bind_bundled_libraries() -> None:
    """Keep the wheels' native libraries bound to their own copies once SpatiaLite is loaded.

    SQLite dlopens an extension with RTLD_GLOBAL, so mod_spatialite and everything it links
    (the system's PROJ 9.1, GEOS 3.11, SQLite, libtiff, libcurl, OpenSSL, ...) join the
    global symbol scope, which the dynamic linker searches before a library's own. A wheel's
    library or module loaded after that binds its references, even to its own exported
    symbols, to the system's copies: pyproj's PROJ constructs C++ globals that live in the
    system's PROJ and registers their destructors too, both libraries destroy them at exit,
    and the process dies with "double free or corruption" (exit 134) after `safewalk migrate`
    has done its work; meanwhile pyproj calls the system's PROJ with its own newer proj.db and
    shapely runs half on the system's GEOS.

    What is loaded already bound its references to its own copies for good. What comes later
    is loaded with RTLD_DEEPBIND (_DeepBindFinder). Where the C library has no RTLD_DEEPBIND
    (it is glibc's), every extension file is loaded now instead (ctypes: RTLD_NOW,
    RTLD_LOCAL), only the files, not the Python packages: importing pyogrio would import
    geopandas and pandas."""
    global _bound
    with _bound_lock:
        if _bound:
            return
        if hasattr(os, "RTLD_DEEPBIND"):
            sys.meta_path.insert(0, _DeepBindFinder())
            _bound = True
            return
        for name in BUNDLING_PACKAGES:
            try:
                spec = importlib.util.find_spec(name)
            except (ImportError, ValueError):
                spec = None
            if spec is None:  # not installed here, so nothing of it can be loaded later
                continue
            if spec.submodule_search_locations is not None:
                files = sorted(
                    p
                    for d in spec.submodule_search_locations
                    for p in Path(d).rglob("*")
                    if p.name.endswith(_EXTENSION_SUFFIXES)
                )
            elif spec.origin is not None and spec.origin.endswith(_EXTENSION_SUFFIXES):
                files = [Path(spec.origin)]
            else:
                files = []
            for path in files:
                _dlopen(str(path), os.RTLD_NOW | os.RTLD_LOCAL)
        _bound = True


def _load_spatialite(dbapi_conn: Any) -> None:
    _bind_bundled_libraries()
    candidates = [os.environ.get("SPATIALITE_LIBRARY_PATH", ""), *SPATIALITE_CANDIDATES]
    dbapi_conn.enable_load_extension(True)
    try:
        for path in filter(None, candidates):
            try:
                dbapi_conn.load_extension(path)
                return
            except Exception:  # noqa: S112 - try the next candidate, report once below
                continue
        raise SpatiaLiteMissing(SPATIALITE_HINT)
    finally:
        dbapi_conn.enable_load_extension(False)


def _on_sqlite_connect(dbapi_conn: Any, _record: Any) -> None:
    # We issue BEGIN ourselves (see _on_sqlite_begin) so SAVEPOINTs work as documented.
    dbapi_conn.isolation_level = None
    _load_spatialite(dbapi_conn)
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys = ON")
    cur.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    if cur.execute("PRAGMA journal_mode").fetchone()[0] != "memory":
        cur.execute("PRAGMA journal_mode = WAL")
    if cur.execute("SELECT CheckSpatialMetaData()").fetchone()[0] < 1:
        # Only the WGS84 family of SRIDs: we store 4326 and project in Python.
        cur.execute("SELECT InitSpatialMetaData(1, 'WGS84')")
    cur.close()


def _on_sqlite_begin(conn: Any) -> None:
    # IMMEDIATE takes the write lock up front: concurrent writers wait on busy_timeout
    # instead of failing with SQLITE_BUSY when a read transaction later tries to write.
    options = conn.get_execution_options()
    mode = options.get("sqlite_begin", "IMMEDIATE")
    wait = options.get("sqlite_lock_wait_ms")
    if wait is None:
        conn.exec_driver_sql(f"BEGIN {mode}")
        return
    # Work that may be skipped (bookkeeping) waits this long for the lock, not 30 s.
    conn.exec_driver_sql(f"PRAGMA busy_timeout = {int(wait)}")
    try:
        conn.exec_driver_sql(f"BEGIN {mode}")
    finally:
        conn.exec_driver_sql(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")


def _set_role(role: str) -> Any:
    def on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Session-level, once per pooled connection. psycopg binds values, not identifiers.
        with dbapi_conn.cursor() as cur:
            cur.execute('SET ROLE "{}"'.format(role.replace('"', '""')))
        dbapi_conn.commit()

    return on_connect


def create_db_engine(url: str, *, role: str | None = None, **kwargs: Any) -> Engine:
    """Create an engine for either backend with the right connection set-up; on PostgreSQL,
    ``role`` is a role every connection becomes (``SET ROLE``, see api/core/tenancy.py)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            module=sqlite_module(),
            connect_args={"check_same_thread": False, "timeout": 30},
            **kwargs,
        )
        event.listen(engine, "connect", _on_sqlite_connect)
        event.listen(engine, "begin", _on_sqlite_begin)
        return engine
    if parsed.get_backend_name() == "postgresql":
        engine = create_engine(url, pool_pre_ping=True, **kwargs)
        if role:
            event.listen(engine, "connect", _set_role(role))
        return engine
    raise ValueError(
        f"unsupported database URL {parsed.render_as_string()!r}: use sqlite or postgresql"
    )


def pool_options(url: str, size: int, overflow: int, timeout: float) -> dict[str, Any]:
    """Pool settings for a server's engine; none for an in-memory SQLite database, whose
    single connection is the database."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database in (None, "", ":memory:"):
        return {}
    return {"pool_size": size, "max_overflow": overflow, "pool_timeout": timeout}


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=True)


def session_scope(
    factory: sessionmaker[Session], info: dict[str, Any] | None = None, *, read_only: bool = False
) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error. ``read_only`` units begin
    DEFERRED on SQLite, taking no write lock (the option means nothing to PostgreSQL)."""
    session = factory()
    session.info.update(info or {})
    if read_only:
        session.connection(execution_options={"sqlite_begin": "DEFERRED"})
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


# SQLSTATEs a retry can cure: serialization failure, deadlock, lock not available.
_TRANSIENT_SQLSTATES = frozenset({"40001", "40P01", "55P03"})


def is_transient(exc: BaseException) -> bool:
    """A failure that says "someone else was writing the same rows; try again", on either
    database: PostgreSQL's serialization failures and deadlocks, SQLite's busy lock, and an
    optimistic-lock miss (``UPDATE ... WHERE version = n`` matched nothing)."""
    if isinstance(exc, StaleDataError):
        return True
    if isinstance(exc, DBAPIError):
        orig = exc.orig
        if getattr(orig, "sqlstate", None) in _TRANSIENT_SQLSTATES:
            return True
        return "database is locked" in str(orig)
    return False


Row = TypeVar("Row")


def save_row(
    session: Session, row: Row | None, data: Mapping[str, Any], new: Callable[..., Row]
) -> Row:
    """A setting kept as one row: ``row`` updated with ``data`` (its ``updated_at`` moved on),
    or, where there is none yet, ``new(**data)`` added. Flushed, not committed."""
    if row is None:
        row = new(**data)
        session.add(row)
    else:
        for key, value in data.items():
            setattr(row, key, value)
        row.updated_at = utcnow()  # type: ignore[attr-defined]
    session.flush()
    return row
