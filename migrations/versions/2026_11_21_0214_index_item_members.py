"""Index an item's members by (action_item_id, moderation) instead of moderation alone.

Nearly every observation is "accepted"; SQLite without statistics chose the lone moderation
index for "members of this item" and read the whole table.

Revision ID: d975ab3b7743
Revises: d442c4dc6c11
Create Date: 2026-11-21 02:14:47.374900
"""

from collections.abc import Sequence

from alembic import op

revision: str = "d975ab3b7743"
down_revision: str | None = "d442c4dc6c11"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("observation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_observation_moderation"))
        batch_op.create_index(
            "ix_observation_item_moderation", ["action_item_id", "moderation"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("observation", schema=None) as batch_op:
        batch_op.drop_index("ix_observation_item_moderation")
        batch_op.create_index(batch_op.f("ix_observation_moderation"), ["moderation"], unique=False)
