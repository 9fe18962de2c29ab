"""People-facing web: whatever the field app and staff web need stored.

The field app and the staff web needed no schema change; this revision is empty and stays
so the revision chain after it does not move.

Revision ID: a9c0c0a00012
Revises: a9c0c0a00014
"""

from collections.abc import Sequence

revision: str = "a9c0c0a00012"
down_revision: str | None = "a9c0c0a00014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
