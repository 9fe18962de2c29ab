"""Input that makes sense, participant edits, moderation queue, staff accounts.

organization.moderation_mode (post | pre), observation.moderation_reason, and
user_account.token_version (bumped on a password change or deactivation, so older tokens stop
working). Kept in one fixed chain so that work done in parallel never leaves Alembic with two heads.

Revision ID: a9c0c0a0010b
Revises: a9c0c0a00010
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a9c0c0a0010b"
down_revision: str | None = "a9c0c0a00010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("organization", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "moderation_mode", sa.String(length=16), nullable=False, server_default="post"
            )
        )
    with op.batch_alter_table("observation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("moderation_reason", sa.String(length=500), nullable=True))
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("token_version", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    # Plain ALTER TABLE ... DROP COLUMN (SQLite >= 3.35 has it): a batch "move and copy" of
    # organization or user_account trips the foreign keys that point at them.
    for table, column in (
        ("user_account", "token_version"),
        ("observation", "moderation_reason"),
        ("organization", "moderation_mode"),
    ):
        op.drop_column(table, column)
