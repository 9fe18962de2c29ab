"""Items referred to an asset's owner by mail: an owner route names an e-mail address instead
of an Open311 endpoint, and a notice goes to an outside address instead of a staff account.

Both tables already hold organization_id: the row-level-security revision that follows covers
them.

Revision ID: 0a11e7a11001
Revises: lang0723001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0a11e7a11001"
down_revision: str | None = "lang0723001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _defer_foreign_keys() -> None:
    # SQLite recreates asset_owner_route, which open311_dispatch points at: checked at commit.
    if op.get_bind().dialect.name == "sqlite":
        op.execute("PRAGMA defer_foreign_keys = ON")


def upgrade() -> None:
    _defer_foreign_keys()
    with op.batch_alter_table("asset_owner_route", schema=None) as batch_op:
        batch_op.add_column(sa.Column("email", sa.String(length=254), nullable=True))
        batch_op.alter_column("url", existing_type=sa.String(length=500), nullable=True)
        batch_op.alter_column("api_key", existing_type=sa.String(length=200), nullable=True)
    with op.batch_alter_table("notice", schema=None) as batch_op:
        batch_op.add_column(sa.Column("email", sa.String(length=254), nullable=True))
        batch_op.alter_column("user_id", existing_type=sa.Uuid(), nullable=True)


def downgrade() -> None:
    # What cannot be said without the new columns goes with them.
    op.execute("DELETE FROM notice WHERE user_id IS NULL")
    op.execute("DELETE FROM asset_owner_route WHERE url IS NULL OR api_key IS NULL")
    _defer_foreign_keys()
    with op.batch_alter_table("notice", schema=None) as batch_op:
        batch_op.alter_column("user_id", existing_type=sa.Uuid(), nullable=False)
        batch_op.drop_column("email")
    with op.batch_alter_table("asset_owner_route", schema=None) as batch_op:
        batch_op.alter_column("api_key", existing_type=sa.String(length=200), nullable=False)
        batch_op.alter_column("url", existing_type=sa.String(length=500), nullable=False)
        batch_op.drop_column("email")
