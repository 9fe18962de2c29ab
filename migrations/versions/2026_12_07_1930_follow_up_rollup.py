"""Follow-up figures at 500,000 items: the stock/flow rollup (`follow_up_count`), what each
item adds to it (`follow_up_member`), two indexes for the partial days at a period's edges,
and per grouping an index that hands the resolved items in order of their days to resolve,
so that the exact median is read without a sort.

Both tables hold organization_id: the row-level-security revision that follows covers them.
Their rows for existing items are built by `safewalk migrate` (api/jobs/backfill.py), not here.

Revision ID: f0110wup001
Revises: h07c0e11a001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "f0110wup001"
down_revision: str | None = "h07c0e11a001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Static copies (a migration must not change when the models or the service do).
MEDIAN_GROUPS = {"area": "area_id", "department": "department", "category": "category_id"}
DONE = "('resolved', 'verified')"


def _days(sqlite: bool) -> str:
    if sqlite:
        return "(julianday(resolved_at) - julianday(created_at))"
    return "(EXTRACT(epoch FROM resolved_at - created_at))"


def upgrade() -> None:
    op.create_table(
        "follow_up_count",
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("dim", sa.SmallInteger(), nullable=False),
        sa.Column("kind", sa.String(length=1), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("flag", sa.SmallInteger(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_follow_up_count_organization_id_organization"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "organization_id", "dim", "kind", "day", "status", "flag", "key",
            name=op.f("pk_follow_up_count"),
        ),
    )  # fmt: skip
    op.create_table(
        "follow_up_member",
        sa.Column("action_item_id", sa.Uuid(), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("area", sa.String(length=64), nullable=False),
        sa.Column("department", sa.String(length=64), nullable=False),
        sa.Column("category", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_follow_up_member_organization_id_organization"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("action_item_id", name=op.f("pk_follow_up_member")),
    )
    op.create_index(
        op.f("ix_follow_up_member_organization_id"), "follow_up_member", ["organization_id"]
    )
    op.create_index("ix_action_item_org_created", "action_item", ["organization_id", "created_at"])
    op.create_index(
        "ix_action_item_org_resolved", "action_item", ["organization_id", "resolved_at"]
    )
    sqlite = op.get_bind().dialect.name == "sqlite"
    # The two timestamps ride along, so that the walk reads the index alone.
    along = ", created_at, resolved_at)" if sqlite else ") INCLUDE (created_at, resolved_at)"
    for name, column in MEDIAN_GROUPS.items():
        op.execute(
            f"CREATE INDEX ix_action_item_days_to_resolve_{name} ON action_item "
            f"(organization_id, {column}, {_days(sqlite)}{along} "
            f"WHERE status IN {DONE} AND resolved_at IS NOT NULL"
        )


def downgrade() -> None:
    for name in reversed(MEDIAN_GROUPS):
        op.execute(f"DROP INDEX ix_action_item_days_to_resolve_{name}")
    op.drop_index("ix_action_item_org_resolved", table_name="action_item")
    op.drop_index("ix_action_item_org_created", table_name="action_item")
    op.drop_index(op.f("ix_follow_up_member_organization_id"), table_name="follow_up_member")
    op.drop_table("follow_up_member")
    op.drop_table("follow_up_count")
