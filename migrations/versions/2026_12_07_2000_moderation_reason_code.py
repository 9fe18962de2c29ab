"""Why the service moderated an observation, as a code (`observation.moderation_reason_code`:
outside_areas, pre_moderation, withdrawn_by_author, withdrawn_by_coordinator) beside the English
words in `moderation_reason`, so clients show the reason in their reader's language.

The rows stored before get their code from those words in `safewalk migrate`'s backfill
(api/jobs/backfill.py), not here.

Revision ID: m0dreason001
Revises: g3n0idx0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "m0dreason001"
down_revision: str | None = "g3n0idx0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("observation", sa.Column("moderation_reason_code", sa.String(40), nullable=True))


def downgrade() -> None:
    op.drop_column("observation", "moderation_reason_code")
