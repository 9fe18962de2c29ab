"""Street lights: the asset register, where items on another owner's asset go, observations
and items naming their lamp, photo exposure and the organization's lighting class.

asset and asset_owner_route are tenant tables (organization_id): the row-level-security
revision that follows covers them.

Revision ID: a55e75000001
Revises: rbph0705001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision: str = "a55e75000001"
down_revision: str | None = "rbph0705001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, column, referred table, on delete).
REFERENCES = (
    ("observation", "asset_id", "asset", "SET NULL"),
    ("action_item", "asset_id", "asset", "SET NULL"),
    ("open311_dispatch", "route_id", "asset_owner_route", "CASCADE"),
)


def _defer_foreign_keys() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("PRAGMA defer_foreign_keys = ON")


def upgrade() -> None:
    op.create_geospatial_table(
        "asset",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("external_id", sa.String(length=120), nullable=False),
        sa.Column("owner", sa.String(length=16), nullable=False),
        sa.Column("owner_name", sa.String(length=200), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column(
            "location",
            Geometry(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("properties", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_asset_organization_id_organization"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_asset")),
        sa.UniqueConstraint(
            "organization_id",
            "kind",
            "external_id",
            name=op.f("uq_asset_organization_id_kind_external_id"),
        ),
    )
    with op.batch_alter_table("asset", schema=None) as batch_op:
        batch_op.create_geospatial_index(
            "idx_asset_location",
            ["location"],
            unique=False,
            postgresql_using="gist",
            postgresql_ops={},
        )
        batch_op.create_index(
            "ix_asset_org_kind_status", ["organization_id", "kind", "status"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_asset_organization_id"), ["organization_id"], unique=False
        )

    op.create_table(
        "asset_owner_route",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("owner", sa.String(length=16), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("api_key", sa.String(length=200), nullable=False),
        sa.Column("jurisdiction_id", sa.String(length=120), nullable=True),
        sa.Column("service_codes", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_asset_owner_route_organization_id_organization"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_asset_owner_route")),
        sa.UniqueConstraint(
            "organization_id", "owner", name=op.f("uq_asset_owner_route_organization_id_owner")
        ),
    )
    op.create_index(
        op.f("ix_asset_owner_route_organization_id"), "asset_owner_route", ["organization_id"]
    )

    # SQLite recreates the tables to add a named reference; the tables pointing at them are
    # checked at commit, when they hold again.
    _defer_foreign_keys()
    for table, column, referred, on_delete in REFERENCES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column(column, sa.Uuid(), nullable=True))
            batch_op.create_index(f"ix_{table}_{column}", [column], unique=False)
            batch_op.create_foreign_key(
                f"fk_{table}_{column}_{referred}", referred, [column], ["id"], ondelete=on_delete
            )

    op.add_column("observation", sa.Column("asset_distance_m", sa.Float(), nullable=True))
    op.add_column("category", sa.Column("asset_kind", sa.String(length=32), nullable=True))
    op.add_column(
        "category",
        sa.Column("asset_snap_m", sa.Float(), server_default=sa.text("15"), nullable=False),
    )
    op.add_column(
        "organization", sa.Column("lighting_target_class", sa.String(length=4), nullable=True)
    )
    op.add_column("photo", sa.Column("exposure_ev100", sa.Float(), nullable=True))
    op.add_column("photo", sa.Column("estimated_lux", sa.Float(), nullable=True))
    # Part of the column's meaning, not a backfill: a lighting report is about a lamp.
    op.execute("UPDATE category SET asset_kind = 'street_light' WHERE code = 'lighting'")


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite >= 3.35): a batch copy of these tables trips the foreign keys
    # that point at them.
    op.drop_column("photo", "estimated_lux")
    op.drop_column("photo", "exposure_ev100")
    op.drop_column("organization", "lighting_target_class")
    op.drop_column("category", "asset_snap_m")
    op.drop_column("category", "asset_kind")
    op.drop_column("observation", "asset_distance_m")
    _defer_foreign_keys()
    for table, column, referred, _on_delete in reversed(REFERENCES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(f"fk_{table}_{column}_{referred}", type_="foreignkey")
            batch_op.drop_index(f"ix_{table}_{column}")
            batch_op.drop_column(column)
    op.drop_index(op.f("ix_asset_owner_route_organization_id"), table_name="asset_owner_route")
    op.drop_table("asset_owner_route")
    with op.batch_alter_table("asset", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_asset_organization_id"))
        batch_op.drop_index("ix_asset_org_kind_status")
        batch_op.drop_geospatial_index(
            "idx_asset_location", postgresql_using="gist", column_name="location"
        )
    op.drop_geospatial_table("asset")
