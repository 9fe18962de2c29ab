"""Operations: throttle hits kept in the database, so several replicas hold one limit.

Revision ID: a9c0c0a0016a
Revises: a9c0c0a00012
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a9c0c0a0016a"
down_revision: str | None = "a9c0c0a00012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "throttle_hit",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("bucket", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=400), nullable=False),
        sa.Column("at", sa.Double(), nullable=False),
        sa.Column("expires_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_throttle_hit")),
    )
    op.create_index("ix_throttle_hit_bucket_key_at", "throttle_hit", ["bucket", "key", "at"])
    op.create_index("ix_throttle_hit_expires_at", "throttle_hit", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_throttle_hit_expires_at", table_name="throttle_hit")
    op.drop_index("ix_throttle_hit_bucket_key_at", table_name="throttle_hit")
    op.drop_table("throttle_hit")
