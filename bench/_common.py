"""Scratch databases for benchmarks: a PostgreSQL database created and dropped by name, or a
SQLite file in a temporary directory. Both are migrated with the real migrations."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, text

from api.core.migrate import upgrade

PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"


def _pg_admin(sql: str) -> None:
    admin = create_engine(f"{PG_SERVER}/postgres", isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as c:
            c.execute(text(sql))
    finally:
        admin.dispose()


def create_scratch(backend: str, name: str, tmp: Path) -> str:
    """A fresh, migrated database; returns its URL. ``tmp`` holds the SQLite file."""
    if backend == "spatialite":
        url = f"sqlite:///{tmp / f'{name}.db'}"
    elif backend == "postgis":
        _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        _pg_admin(f'CREATE DATABASE "{name}"')
        url = f"{PG_SERVER}/{name}"
    else:
        raise ValueError(f"unknown backend {backend!r}")
    upgrade(url)
    return url


def drop_scratch(backend: str, name: str) -> None:
    """Drop the PostgreSQL database (the SQLite file goes with its temporary directory)."""
    if backend == "postgis":
        _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
