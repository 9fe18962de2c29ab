"""Concurrency and input hardening.

This step needed no schema change (its locks are advisory); this
revision is empty and stays so the revision chain after it does not move.

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
