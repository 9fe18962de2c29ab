"""Readers: personal access tokens for OGC API and tiles.

Also registers the Nordic projected systems and Web Mercator in SpatiaLite's
``spatial_ref_sys`` (initialised with WGS84 only), so ``ST_Transform`` can reproject OGC API
output inside the database on SQLite as PostGIS does.

Revision ID: a9c0c0a00013
Revises: a9c0c0a0010b
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a9c0c0a00013"
down_revision: str | None = "a9c0c0a0010b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The output CRSs of /ogc (api/outputs/ogc/crs.py) beyond WGS84.
EXTRA_SRIDS = (25832, 25833, 25835, 3006, 3067, 3857)


def upgrade() -> None:
    op.create_table(
        "personal_access_token",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_personal_access_token_organization_id_organization"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_personal_access_token_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_personal_access_token")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_personal_access_token_token_hash")),
    )
    with op.batch_alter_table("personal_access_token", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_personal_access_token_organization_id"),
            ["organization_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_personal_access_token_user_id"), ["user_id"], unique=False
        )
    if op.get_bind().dialect.name == "sqlite":
        for srid in EXTRA_SRIDS:
            op.execute(
                f"SELECT InsertEpsgSrid({srid}) "
                f"WHERE NOT EXISTS (SELECT 1 FROM spatial_ref_sys WHERE srid = {srid})"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        srids = ", ".join(str(s) for s in EXTRA_SRIDS)
        unused = "NOT EXISTS (SELECT 1 FROM geometry_columns g WHERE g.srid = {t}.srid)"
        # InsertEpsgSrid also fills spatial_ref_sys_aux, which refers to spatial_ref_sys.
        op.execute(
            f"DELETE FROM spatial_ref_sys_aux WHERE srid IN ({srids}) "
            f"AND {unused.format(t='spatial_ref_sys_aux')}"
        )
        op.execute(
            f"DELETE FROM spatial_ref_sys WHERE srid IN ({srids}) "
            f"AND {unused.format(t='spatial_ref_sys')}"
        )
    with op.batch_alter_table("personal_access_token", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_personal_access_token_user_id"))
        batch_op.drop_index(batch_op.f("ix_personal_access_token_organization_id"))
    op.drop_table("personal_access_token")
