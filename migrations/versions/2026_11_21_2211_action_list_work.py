"""Working the action list: settings, resolution, comments, signed photos.

A slot in the fixed chain of migrations. Kept in one fixed chain so that
work done in parallel never leaves Alembic with two heads.

Revision ID: a9c0c0a00010
Revises: a9c0c0a00009
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a9c0c0a00010"
down_revision: str | None = "a9c0c0a00009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("organization", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "language", sa.String(length=8), server_default=sa.text("'nb'"), nullable=False
            )
        )
        batch_op.add_column(
            sa.Column(
                "require_resolution_note", sa.Boolean(), server_default=sa.false(), nullable=False
            )
        )
    with op.batch_alter_table("category", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("published", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
    # Part of the column's meaning, not a backfill: a sensitive category was never published.
    op.execute(
        sa.text("UPDATE category SET published = :f WHERE sensitive = :t").bindparams(
            f=False, t=True
        )
    )
    # ADD COLUMN only: action_item has geometry columns, which a SQLite table copy would lose.
    with op.batch_alter_table("action_item", schema=None, recreate="never") as batch_op:
        batch_op.add_column(
            sa.Column("title_edited", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    with op.batch_alter_table("photo", schema=None, recreate="always") as batch_op:
        batch_op.alter_column("observation_id", existing_type=sa.Uuid(), nullable=True)
        batch_op.add_column(sa.Column("action_item_id", sa.Uuid(), nullable=True))
        batch_op.create_index(batch_op.f("ix_photo_action_item_id"), ["action_item_id"])
        batch_op.create_foreign_key(
            batch_op.f("fk_photo_action_item_id_action_item"),
            "action_item",
            ["action_item_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.create_check_constraint(
            "one_owner", "(observation_id IS NULL) <> (action_item_id IS NULL)"
        )


def downgrade() -> None:
    # Fix photos have no observation to hang on: they go with the column.
    op.execute(sa.text("DELETE FROM photo WHERE observation_id IS NULL"))
    with op.batch_alter_table("photo", schema=None, recreate="always") as batch_op:
        batch_op.drop_constraint("one_owner", type_="check")
        batch_op.drop_constraint(
            batch_op.f("fk_photo_action_item_id_action_item"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_photo_action_item_id"))
        batch_op.drop_column("action_item_id")
        batch_op.alter_column("observation_id", existing_type=sa.Uuid(), nullable=False)
    with op.batch_alter_table("action_item", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("title_edited")
    with op.batch_alter_table("category", schema=None) as batch_op:
        batch_op.drop_column("published")
    with op.batch_alter_table("organization", schema=None) as batch_op:
        batch_op.drop_column("require_resolution_note")
        batch_op.drop_column("language")
