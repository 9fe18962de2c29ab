"""Trust: row-level security, retention and erasure, sensitive places (issue 16, part 2).

Reserved for row-level security, retention and sensitive places (issue 16, part 2), which
have not landed yet; empty until then.

Revision ID: a9c0c0a0016b
Revises: a9c0c0a0016a
"""

from collections.abc import Sequence

revision: str = "a9c0c0a0016b"
down_revision: str | None = "a9c0c0a0016a"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
