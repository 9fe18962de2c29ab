"""Deadlines and the report back: response-time rules per organization, a flag for due dates
set by hand, and the moment a walk's report back was published.

response_time_rule is a tenant table (organization_id): the row-level-security revision that
follows covers it. Existing items keep their due dates and count as set by the rules (not by
hand), so applying new rules may move them; existing walks are unpublished.

Revision ID: dead11e50001
Revises: a9c0c0a0015c
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "dead11e50001"
down_revision: str | None = "a9c0c0a0015c"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "response_time_rule",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("category_id", sa.Uuid(), nullable=True),
        sa.Column("department", sa.String(length=64), nullable=True),
        sa.Column("priority_min", sa.Float(), nullable=True),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("working_days", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["category_id"],
            ["category.id"],
            name=op.f("fk_response_time_rule_category_id_category"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_response_time_rule_organization_id_organization"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_response_time_rule")),
    )
    op.create_index(
        op.f("ix_response_time_rule_organization_id"), "response_time_rule", ["organization_id"]
    )
    op.create_index(
        "ix_response_time_rule_org_position",
        "response_time_rule",
        ["organization_id", "position"],
    )
    op.add_column(
        "action_item",
        sa.Column("due_date_manual", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.add_column(
        "walk", sa.Column("report_back_published_at", sa.DateTime(timezone=True), nullable=True)
    )


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite >= 3.35): a batch copy of these tables trips the foreign keys
    # that point at them.
    op.drop_column("walk", "report_back_published_at")
    op.drop_column("action_item", "due_date_manual")
    op.drop_index("ix_response_time_rule_org_position", table_name="response_time_rule")
    op.drop_index(op.f("ix_response_time_rule_organization_id"), table_name="response_time_rule")
    op.drop_table("response_time_rule")
