"""Exchange: Open311 integration keys, the case system endpoint and its outbox, observations
from outside a walk, and the organization's switch for the published follow-up.

Revision ID: a9c0c0a00014
Revises: a9c0c0a00013
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a9c0c0a00014"
down_revision: str | None = "a9c0c0a00013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _defer_foreign_keys() -> None:
    # The recreated table is renamed while photos and action items point at it; SQLite checks
    # those references at commit instead, when they hold again.
    if op.get_bind().dialect.name == "sqlite":
        op.execute("PRAGMA defer_foreign_keys = ON")


def upgrade() -> None:
    op.create_table(
        "integration_key",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("created_by_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user_account.id"],
            name=op.f("fk_integration_key_created_by_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_integration_key_organization_id_organization"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_integration_key")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_integration_key_key_hash")),
    )
    with op.batch_alter_table("integration_key", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_integration_key_organization_id"), ["organization_id"], unique=False
        )

    op.create_table(
        "open311_endpoint",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("api_key", sa.String(length=200), nullable=False),
        sa.Column("jurisdiction_id", sa.String(length=120), nullable=True),
        sa.Column("departments", sa.JSON(), nullable=False),
        sa.Column("categories", sa.JSON(), nullable=False),
        sa.Column("service_codes", sa.JSON(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("updates_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_open311_endpoint_organization_id_organization"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_open311_endpoint")),
        sa.UniqueConstraint("organization_id", name=op.f("uq_open311_endpoint_organization_id")),
    )

    op.create_table(
        "open311_dispatch",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("action_item_id", sa.Uuid(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("service_request_id", sa.String(length=120), nullable=True),
        sa.Column("token", sa.String(length=120), nullable=True),
        sa.Column("remote_status", sa.String(length=32), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["action_item_id"],
            ["action_item.id"],
            name=op.f("fk_open311_dispatch_action_item_id_action_item"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_open311_dispatch_organization_id_organization"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_open311_dispatch")),
        sa.UniqueConstraint("action_item_id", name=op.f("uq_open311_dispatch_action_item_id")),
    )
    with op.batch_alter_table("open311_dispatch", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_open311_dispatch_organization_id"), ["organization_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_open311_dispatch_state"), ["state"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_open311_dispatch_service_request_id"),
            ["service_request_id"],
            unique=False,
        )

    with op.batch_alter_table("organization", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("public_followup", sa.Boolean(), nullable=False, server_default=sa.false())
        )

    # Observations from outside a walk (Open311 POSTs). SQLite cannot relax NOT NULL in place;
    # the batch recreates the table there, PostgreSQL alters the column.
    _defer_foreign_keys()
    with op.batch_alter_table("observation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("integration_key_id", sa.Uuid(), nullable=True))
        batch_op.alter_column("walk_id", existing_type=sa.Uuid(), nullable=True)
        batch_op.create_foreign_key(
            batch_op.f("fk_observation_integration_key_id_integration_key"),
            "integration_key",
            ["integration_key_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    # Walk-less observations cannot go back under NOT NULL: they leave with the feature.
    op.execute("DELETE FROM observation WHERE walk_id IS NULL")
    _defer_foreign_keys()
    with op.batch_alter_table("observation", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_observation_integration_key_id_integration_key"), type_="foreignkey"
        )
        batch_op.alter_column("walk_id", existing_type=sa.Uuid(), nullable=False)
        batch_op.drop_column("integration_key_id")
    with op.batch_alter_table("organization", schema=None) as batch_op:
        batch_op.drop_column("public_followup")
    with op.batch_alter_table("open311_dispatch", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_open311_dispatch_service_request_id"))
        batch_op.drop_index(batch_op.f("ix_open311_dispatch_state"))
        batch_op.drop_index(batch_op.f("ix_open311_dispatch_organization_id"))
    op.drop_table("open311_dispatch")
    op.drop_table("open311_endpoint")
    with op.batch_alter_table("integration_key", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_integration_key_organization_id"))
    op.drop_table("integration_key")
