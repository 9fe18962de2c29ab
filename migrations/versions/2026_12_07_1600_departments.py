"""Departments: the labels an admin gives the organization's department codes.

The table holds organization_id: the row-level-security revision that follows covers it.

Revision ID: dep0a7e1001
Revises: 0a11e7a11001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "dep0a7e1001"
down_revision: str | None = "0a11e7a11001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "department",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("labels", sa.JSON(none_as_null=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_department_organization_id_organization"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_department")),
        sa.UniqueConstraint(
            "organization_id", "code", name=op.f("uq_department_organization_id_code")
        ),
    )
    op.create_index(op.f("ix_department_organization_id"), "department", ["organization_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_department_organization_id"), table_name="department")
    op.drop_table("department")
