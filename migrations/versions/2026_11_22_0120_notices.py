"""Notices: the outbox of mail (notice), people's choices (notice_preference), the deadline
scan's record (deadline_notice), webhook endpoints and their deliveries.

Every table is a tenant table (organization_id), so it must exist before the tenant wall
migration runs: this revision sits just before it.

Revision ID: n0t1ce500001
Revises: dead11e50001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "n0t1ce500001"
down_revision: str | None = "dead11e50001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _ts(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _fk(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column],
        [f"{target}.id"],
        name=op.f(f"fk_{table}_{column}_{target}"),
        ondelete=ondelete,
    )


def _org(table: str) -> tuple[sa.Column[object], sa.ForeignKeyConstraint]:
    return (
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        _fk(table, "organization_id", "organization", "CASCADE"),
    )


def upgrade() -> None:
    col, fk = _org("notice_preference")
    op.create_table(
        "notice_preference",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        col,
        sa.Column("kinds", sa.JSON(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=True),
        _ts("digest_sent_at", nullable=True),
        _ts("updated_at"),
        fk,
        _fk("notice_preference", "user_id", "user_account", "CASCADE"),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_notice_preference")),
    )
    op.create_index(
        op.f("ix_notice_preference_organization_id"), "notice_preference", ["organization_id"]
    )

    col, fk = _org("webhook")
    op.create_table(
        "webhook",
        sa.Column("id", sa.Uuid(), nullable=False),
        col,
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("events", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=True),
        sa.Column("secret", sa.String(length=100), nullable=False),
        _ts("failing_since", nullable=True),
        _ts("disabled_at", nullable=True),
        sa.Column("disabled_reason", sa.Text(), nullable=True),
        sa.Column("created_by_id", sa.Uuid(), nullable=True),
        _ts("created_at"),
        _ts("updated_at"),
        fk,
        _fk("webhook", "created_by_id", "user_account", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook")),
    )
    op.create_index(op.f("ix_webhook_organization_id"), "webhook", ["organization_id"])

    col, fk = _org("deadline_notice")
    op.create_table(
        "deadline_notice",
        sa.Column("id", sa.Uuid(), nullable=False),
        col,
        sa.Column("action_item_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        _ts("created_at"),
        fk,
        _fk("deadline_notice", "action_item_id", "action_item", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deadline_notice")),
        sa.UniqueConstraint(
            "action_item_id",
            "kind",
            "due_date",
            name=op.f("uq_deadline_notice_action_item_id_kind_due_date"),
        ),
    )
    op.create_index(
        op.f("ix_deadline_notice_organization_id"), "deadline_notice", ["organization_id"]
    )

    col, fk = _org("notice")
    op.create_table(
        "notice",
        sa.Column("id", sa.Uuid(), nullable=False),
        col,
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("delivery", sa.String(length=16), nullable=False),
        sa.Column("action_item_id", sa.Uuid(), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        _ts("next_attempt_at"),
        sa.Column("last_error", sa.Text(), nullable=True),
        _ts("sent_at", nullable=True),
        _ts("created_at"),
        fk,
        _fk("notice", "user_id", "user_account", "CASCADE"),
        _fk("notice", "action_item_id", "action_item", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notice")),
    )
    op.create_index(op.f("ix_notice_organization_id"), "notice", ["organization_id"])
    op.create_index(op.f("ix_notice_action_item_id"), "notice", ["action_item_id"])
    op.create_index("ix_notice_due", "notice", ["state", "delivery", "next_attempt_at"])
    op.create_index("ix_notice_user_waiting", "notice", ["user_id", "state", "delivery"])

    col, fk = _org("webhook_delivery")
    op.create_table(
        "webhook_delivery",
        sa.Column("id", sa.Uuid(), nullable=False),
        col,
        sa.Column("webhook_id", sa.Uuid(), nullable=False),
        sa.Column("event_type", sa.String(length=40), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        _ts("next_attempt_at"),
        _ts("last_attempt_at", nullable=True),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.Column("last_response", sa.Text(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        _ts("delivered_at", nullable=True),
        _ts("created_at"),
        fk,
        _fk("webhook_delivery", "webhook_id", "webhook", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_delivery")),
    )
    op.create_index(
        op.f("ix_webhook_delivery_organization_id"), "webhook_delivery", ["organization_id"]
    )
    op.create_index("ix_webhook_delivery_due", "webhook_delivery", ["state", "next_attempt_at"])
    op.create_index(
        "ix_webhook_delivery_log", "webhook_delivery", ["webhook_id", "created_at", "id"]
    )


def downgrade() -> None:
    for table in ("webhook_delivery", "notice", "deadline_notice", "webhook", "notice_preference"):
        op.drop_table(table)
