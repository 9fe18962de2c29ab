"""A skipped severity stays unset: observation.severity becomes nullable (it was stored as 2,
"moderate", for every report whose author did not say).

The rows already stored keep their 2: which of them were skipped is not known.

Revision ID: sev0unset001
Revises: dep0a7e1001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "sev0unset001"
down_revision: str | None = "dep0a7e1001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _defer_foreign_keys() -> None:
    # SQLite recreates the observation table, which photos and others point at: checked at commit.
    if op.get_bind().dialect.name == "sqlite":
        op.execute("PRAGMA defer_foreign_keys = ON")


def upgrade() -> None:
    # SQLite cannot relax NOT NULL in place; the batch recreates the table there, PostgreSQL
    # alters the column.
    _defer_foreign_keys()
    with op.batch_alter_table("observation", schema=None) as batch_op:
        batch_op.alter_column("severity", existing_type=sa.Integer(), nullable=True)


def downgrade() -> None:
    # Back under NOT NULL, a skipped severity reads as the middle of the scale, as it used to.
    op.execute("UPDATE observation SET severity = 2 WHERE severity IS NULL")
    _defer_foreign_keys()
    with op.batch_alter_table("observation", schema=None) as batch_op:
        batch_op.alter_column("severity", existing_type=sa.Integer(), nullable=False)
