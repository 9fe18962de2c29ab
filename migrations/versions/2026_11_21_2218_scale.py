"""Scale: exact H3 cells per observation and the hotspot rollups.

Observations get their exact H3 cell at resolutions 5..12 (`h3.latlng_to_cell`, not the
bitwise parent of the resolution-15 cell), an index for reading the partial days at the edges
of a time filter, and three tables: `hotspot_day` and `hotspot_total` (counts per
organization, area, category, resolution, cell and UTC day, or over all time) and
`hotspot_member` (what each counted observation adds). The cells and rollups of existing
observations are filled by `safewalk migrate` (api/core/migrate.py), batch by batch, not here.

Revision ID: a9c0c0a00015
Revises: a9c0c0a0016d
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a9c0c0a00015"
down_revision: str | None = "a9c0c0a0016d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RESOLUTIONS = range(5, 13)
COUNTERS = ("n", "score", "dark", "dark_known")


def _counters() -> list[sa.Column]:  # type: ignore[type-arg]
    return [sa.Column(c, sa.Integer(), nullable=False) for c in COUNTERS]


def upgrade() -> None:
    with op.batch_alter_table("observation", schema=None) as batch_op:
        for r in RESOLUTIONS:
            batch_op.add_column(sa.Column(f"h3_r{r}", sa.BigInteger(), nullable=True))
        batch_op.create_index(
            "ix_observation_org_recorded", ["organization_id", "recorded_at"], unique=False
        )

    op.create_table(
        "hotspot_day",
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("resolution", sa.SmallInteger(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("area_id", sa.Uuid(), nullable=False),
        sa.Column("category_id", sa.Uuid(), nullable=False),
        sa.Column("cell", sa.BigInteger(), nullable=False),
        *_counters(),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_hotspot_day_organization_id_organization"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "organization_id",
            "resolution",
            "day",
            "area_id",
            "category_id",
            "cell",
            name=op.f("pk_hotspot_day"),
        ),  # fmt: skip
    )
    op.create_table(
        "hotspot_total",
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("resolution", sa.SmallInteger(), nullable=False),
        sa.Column("area_id", sa.Uuid(), nullable=False),
        sa.Column("category_id", sa.Uuid(), nullable=False),
        sa.Column("cell", sa.BigInteger(), nullable=False),
        *_counters(),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_hotspot_total_organization_id_organization"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "organization_id",
            "resolution",
            "area_id",
            "category_id",
            "cell",
            name=op.f("pk_hotspot_total"),
        ),  # fmt: skip
    )
    op.create_table(
        "hotspot_member",
        sa.Column("observation_id", sa.Uuid(), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("area_id", sa.Uuid(), nullable=False),
        sa.Column("category_id", sa.Uuid(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("severity", sa.Integer(), nullable=False),
        sa.Column("is_dark", sa.Boolean(), nullable=True),
        *[sa.Column(f"h3_r{r}", sa.BigInteger(), nullable=False) for r in RESOLUTIONS],
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_hotspot_member_organization_id_organization"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("observation_id", name=op.f("pk_hotspot_member")),
    )
    with op.batch_alter_table("hotspot_member", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_hotspot_member_area_id"), ["area_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("hotspot_member", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_hotspot_member_area_id"))
    op.drop_table("hotspot_member")
    op.drop_table("hotspot_total")
    op.drop_table("hotspot_day")
    op.drop_index("ix_observation_org_recorded", table_name="observation")
    # ALTER TABLE ... DROP COLUMN on both (SQLite >= 3.35): a batch copy of the observation
    # table would trip over the foreign keys that point at it.
    for r in reversed(RESOLUTIONS):
        op.execute(f"ALTER TABLE observation DROP COLUMN h3_r{r}")
