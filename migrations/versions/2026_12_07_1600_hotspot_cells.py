"""Hotspot rollups for the map at a million observations: one row per cell with its top
category (`hotspot_cell`), the open action items per cell (`hotspot_item_cell`), and an index
that finds `hotspot_total`'s rows of one cell.

Both tables hold organization_id: the row-level-security revision that follows covers them.
Their rows for existing data are built by `safewalk migrate` (api/jobs/backfill.py), not here.

Revision ID: h07c0e11a001
Revises: sev0unset001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "h07c0e11a001"
down_revision: str | None = "sev0unset001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "hotspot_cell",
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("resolution", sa.SmallInteger(), nullable=False),
        sa.Column("cell", sa.BigInteger(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("dark", sa.Integer(), nullable=False),
        sa.Column("dark_known", sa.Integer(), nullable=False),
        sa.Column("top_category_id", sa.Uuid(), nullable=True),
        sa.Column("top_n", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_hotspot_cell_organization_id_organization"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "organization_id", "resolution", "cell", name=op.f("pk_hotspot_cell")
        ),
    )
    op.create_table(
        "hotspot_item_cell",
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("resolution", sa.SmallInteger(), nullable=False),
        sa.Column("cell", sa.BigInteger(), nullable=False),
        sa.Column("action_item_id", sa.Uuid(), nullable=False),
        sa.Column("category_id", sa.Uuid(), nullable=False),
        sa.Column("area_id", sa.Uuid(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_hotspot_item_cell_organization_id_organization"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "organization_id",
            "resolution",
            "cell",
            "action_item_id",
            "category_id",
            "area_id",
            name=op.f("pk_hotspot_item_cell"),
        ),  # fmt: skip
    )
    op.create_index(
        op.f("ix_hotspot_item_cell_action_item_id"),
        "hotspot_item_cell",
        ["action_item_id"],
        unique=False,
    )
    op.create_index(
        "ix_hotspot_total_org_cell", "hotspot_total", ["organization_id", "cell"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_hotspot_total_org_cell", table_name="hotspot_total")
    op.drop_index(op.f("ix_hotspot_item_cell_action_item_id"), table_name="hotspot_item_cell")
    op.drop_table("hotspot_item_cell")
    op.drop_table("hotspot_cell")
