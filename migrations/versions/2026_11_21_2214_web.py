"""People-facing web: whatever the field app and staff web need stored (issues 11 and 12).

Placeholder in the wave-2 chain, filled by the work of issues 11 and 12. Kept in one fixed chain so that
work done in parallel never leaves Alembic with two heads.

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
