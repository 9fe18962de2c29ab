"""Concurrency and input hardening (issue 9).

Placeholder in the wave-2 chain, filled by the work of issue 9. Kept in one fixed chain so that
work done in parallel never leaves Alembic with two heads.

Revision ID: a9c0c0a00009
Revises: d975ab3b7743
"""

from collections.abc import Sequence

revision: str = "a9c0c0a00009"
down_revision: str | None = "d975ab3b7743"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
