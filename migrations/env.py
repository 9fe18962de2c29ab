"""Alembic environment for both SpatiaLite and PostGIS, wired with geoalchemy2's helpers."""

from __future__ import annotations

from logging.config import fileConfig
from typing import Any

from alembic import context
from geoalchemy2 import alembic_helpers
from sqlalchemy.engine import Connection

import models  # noqa: F401 - registers every table on the metadata
from api.db import create_db_engine
from api.settings import get_settings
from models.base import metadata

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

# SpatiaLite's and PostGIS's own bookkeeping tables are not ours to migrate.
_SPATIAL_INTERNAL_PREFIXES = (
    "sql_statements_log",
    "spatialite",
    "spatial_ref_sys",
    "spatialindex",
    "elementarygeometries",
    "knn",
    "data_licenses",
    "geometry_columns",
    "views_geometry_columns",
    "virts_geometry_columns",
    "vector_layers",
    "sqlite_",
    "idx_",
    "rl2map_configurations",
    "se_",
    "iso_metadata",
    "stored_procedures",
    "stored_variables",
    "networks",
    "topologies",
    "raster_coverages",
    "wms_",
    "vector_coverages",
)


def include_object(
    obj: Any, name: str | None, obj_type: str, reflected: bool, compare_to: Any
) -> bool:
    if obj_type == "table" and reflected and name and name not in metadata.tables:
        if name.lower().startswith(_SPATIAL_INTERNAL_PREFIXES):
            return False
    return bool(alembic_helpers.include_object(obj, name, obj_type, reflected, compare_to))


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        include_object=include_object,
        process_revision_directives=alembic_helpers.writer,
        render_item=alembic_helpers.render_item,
        compare_type=True,
        render_as_batch=connection.dialect.name == "sqlite",
    )


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    url = config.get_main_option("sqlalchemy.url") or get_settings().resolved_database_url
    engine = create_db_engine(url)
    try:
        with engine.connect() as conn:
            _configure(conn)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported: spatial DDL needs a live database")
run_migrations_online()
