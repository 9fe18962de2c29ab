"""Scale: set-based regroup.

A slot in the fixed chain; the set-based regroup needed no schema change here.

Revision ID: a9c0c0a0015c
Revises: a9c0c0a0015b
"""

from collections.abc import Sequence

revision: str = "a9c0c0a0015c"
down_revision: str | None = "a9c0c0a0015b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
