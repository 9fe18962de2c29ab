"""Trust: sensitive places (issue 16).

Reserved for sensitive places (issue 16), which has not landed yet; empty until then.

Revision ID: a9c0c0a0016d
Revises: a9c0c0a0016c
"""

from collections.abc import Sequence

revision: str = "a9c0c0a0016d"
down_revision: str | None = "a9c0c0a0016c"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
