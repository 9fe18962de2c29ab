"""Scale: exact H3 cells, hotspot and follow-up rollups (issue 15).

Reserved for exact H3 cells and rollups (issue 15), which have not landed yet; empty until
then.

Revision ID: a9c0c0a00015
Revises: a9c0c0a0016d
"""

from collections.abc import Sequence

revision: str = "a9c0c0a00015"
down_revision: str | None = "a9c0c0a0016d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
