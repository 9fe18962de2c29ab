"""Which database objects autogenerate compares: ours, not the spatial extensions' own."""

from __future__ import annotations

from typing import Any

from geoalchemy2 import alembic_helpers

from models.base import metadata

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


def is_spatial_internal(name: str) -> bool:
    """A table of SpatiaLite's or PostGIS's own (not in our models)."""
    return name not in metadata.tables and name.lower().startswith(_SPATIAL_INTERNAL_PREFIXES)


# Expression indexes the models cannot spell for both databases (the follow-up median
# indexes, one per grouping): the migration owns them.
_MIGRATION_ONLY_INDEXES = "ix_action_item_days_to_resolve_"


def include_object(
    obj: Any, name: str | None, obj_type: str, reflected: bool, compare_to: Any
) -> bool:
    if obj_type == "table" and reflected and name and is_spatial_internal(name):
        return False
    if obj_type == "index" and reflected and name and name.startswith(_MIGRATION_ONLY_INDEXES):
        return False
    return bool(alembic_helpers.include_object(obj, name, obj_type, reflected, compare_to))
