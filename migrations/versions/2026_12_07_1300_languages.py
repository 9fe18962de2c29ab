"""Languages: category labels beyond English and Bokmål, and each staff member's own language.

Revision ID: lang0723001
Revises: a55e75000001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "lang0723001"
down_revision: str | None = "a55e75000001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("category") as batch:
        batch.add_column(sa.Column("labels", sa.JSON(none_as_null=True), nullable=True))
    with op.batch_alter_table("user_account") as batch:
        batch.add_column(sa.Column("language", sa.String(length=8), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("user_account") as batch:
        batch.drop_column("language")
    with op.batch_alter_table("category") as batch:
        batch.drop_column("labels")
