"""The migrations build the whole schema on both databases, go down and up again, and match the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from api.core.db import create_db_engine
from api.core.migrate import alembic_config, code_heads, downgrade, upgrade
from migrations.filters import include_object, is_spatial_internal
from models.base import metadata

# Every table of the models, whichever revision adds it.
TABLES = set(metadata.tables)


def _drift(url: str) -> list[object]:
    engine = create_db_engine(url)
    try:
        with engine.connect() as conn:
            ctx = MigrationContext.configure(
                conn, opts={"include_object": include_object, "compare_type": True}
            )
            return list(compare_metadata(ctx, metadata))
    finally:
        engine.dispose()


def _tables(url: str) -> set[str]:
    """Every table in the database but the spatial extension's own."""
    engine = create_db_engine(url)
    try:
        return {t for t in inspect(engine).get_table_names() if not is_spatial_internal(t)}
    finally:
        engine.dispose()


def test_upgrade_downgrade_upgrade_round_trip(fresh_db_url: str) -> None:
    upgrade(fresh_db_url)
    assert _tables(fresh_db_url) == TABLES | {"alembic_version"}
    downgrade(fresh_db_url)
    assert _tables(fresh_db_url) <= {"alembic_version"}
    upgrade(fresh_db_url)
    assert _tables(fresh_db_url) == TABLES | {"alembic_version"}


def test_models_and_migrations_do_not_drift(migrated_db_url: str) -> None:
    assert _drift(migrated_db_url) == []


def test_spatial_columns_are_registered_with_indexes(migrated_db_url: str) -> None:
    engine = create_db_engine(migrated_db_url)
    try:
        with engine.connect() as conn:
            if conn.dialect.name == "sqlite":
                rows = conn.exec_driver_sql(
                    "SELECT f_table_name, f_geometry_column, srid, spatial_index_enabled "
                    "FROM geometry_columns"
                ).all()
                found = {(t, c): (srid, idx) for t, c, srid, idx in rows}
            else:
                rows = conn.exec_driver_sql(
                    "SELECT f_table_name, f_geometry_column, srid FROM geometry_columns"
                ).all()
                gist = conn.exec_driver_sql(
                    "SELECT tablename, indexdef FROM pg_indexes WHERE indexdef LIKE '%%USING gist%%'"
                ).all()
                found = {
                    (t, c): (srid, int(any(tn == t and f"({c})" in d for tn, d in gist)))
                    for t, c, srid in rows
                }
    finally:
        engine.dispose()
    expected = {
        ("area", "geometry"), ("walk", "route"), ("observation", "location"),
        ("action_item", "location"), ("action_item", "footprint"),
    }  # fmt: skip
    assert expected <= set(found)
    for key in expected:
        assert found[key] == (4326, 1), key


def test_the_heads_read_from_the_files_are_alembics() -> None:
    # /readyz reads the expected revision from the files without importing Alembic.
    from alembic.script import ScriptDirectory

    expected = ScriptDirectory.from_config(alembic_config()).get_heads()
    assert code_heads() == frozenset(expected)
    assert len(expected) == 1
