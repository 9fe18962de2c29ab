"""The organization's choice to show fix photos on walks' report backs (off by default).

Revision ID: rbph0705001
Revises: n0t1ce500001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "rbph0705001"
down_revision: str | None = "n0t1ce500001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("organization") as batch:
        batch.add_column(
            sa.Column("report_back_photos", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("organization") as batch:
        batch.drop_column("report_back_photos")
