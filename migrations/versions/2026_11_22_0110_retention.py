"""Trust: retention and erasure (issue 16).

Reserved for retention and erasure (issue 16), which has not landed yet; empty until then.

Revision ID: a9c0c0a0016c
Revises: a9c0c0a0016a
"""

from collections.abc import Sequence

revision: str = "a9c0c0a0016c"
down_revision: str | None = "a9c0c0a0016a"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
