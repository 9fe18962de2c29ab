"""Scale: follow-up figures (issue 15).

Reserved for follow-up figures (issue 15), which has not landed yet; empty until then.

Revision ID: a9c0c0a0015b
Revises: a9c0c0a00015
"""

from collections.abc import Sequence

revision: str = "a9c0c0a0015b"
down_revision: str | None = "a9c0c0a00015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
