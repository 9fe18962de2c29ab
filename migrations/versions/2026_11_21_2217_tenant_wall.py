"""Trust: PostgreSQL row-level security (issue 16), last so that it covers every table.

Reserved for row-level security (issue 16), which has not landed yet; empty until then.

Revision ID: a9c0c0a0016b
Revises: a9c0c0a0015c
"""

from collections.abc import Sequence

revision: str = "a9c0c0a0016b"
down_revision: str | None = "a9c0c0a0015c"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
