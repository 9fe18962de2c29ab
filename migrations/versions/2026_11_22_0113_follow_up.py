"""Scale: follow-up figures.

Indexes that answer the follow-up figures for a period (api/action_items/figures.py): a narrow
covering index on action_item, so the grouped counts and the median read it instead of the
wide rows, and two on action_event, for the reopens in a period and for the moves since a past
moment (an item's status then). Nothing to backfill: the figures read columns that exist.

On a large PostgreSQL database, create the same indexes CONCURRENTLY beforehand (same names);
this revision then finds them and leaves them be.

Revision ID: a9c0c0a0015b
Revises: a9c0c0a00015
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a9c0c0a0015b"
down_revision: str | None = "a9c0c0a00015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Static copies (a migration must not change when the models do).
INDEXES: list[tuple[str, str, list[str]]] = [
    (
        "ix_action_item_follow_up",
        "action_item",
        [
            "organization_id", "status", "area_id", "category_id", "department",
            "created_at", "resolved_at", "due_date", "id",
        ],
    ),
    (
        "ix_action_event_org_to_status",
        "action_event",
        ["organization_id", "to_status", "created_at", "action_item_id"],
    ),
    (
        "ix_action_event_org_time",
        "action_event",
        ["organization_id", "created_at", "action_item_id", "to_status", "from_status"],
    ),
]  # fmt: skip


def _existing(table: str) -> set[str]:
    return {ix["name"] for ix in sa.inspect(op.get_bind()).get_indexes(table) if ix["name"]}


def upgrade() -> None:
    for name, table, columns in INDEXES:
        if name not in _existing(table):
            op.create_index(name, table, columns, unique=False)


def downgrade() -> None:
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
