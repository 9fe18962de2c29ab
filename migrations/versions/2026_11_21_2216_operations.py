"""Operations: shared throttles, request bookkeeping (issue 16, part 1).

Placeholder in the wave-2 chain, filled by the work of issue 16 (part 1). Kept in one fixed chain so that
work done in parallel never leaves Alembic with two heads.

Revision ID: a9c0c0a0016a
Revises: a9c0c0a00012
"""

from collections.abc import Sequence

revision: str = "a9c0c0a0016a"
down_revision: str | None = "a9c0c0a00012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
