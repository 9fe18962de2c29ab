"""Trust: retention and erasure.

Per organization: photo_retention_days, note_retention_days and
anonymize_participants_after_days (null keeps forever; existing organizations get the finite
defaults, but nothing is deleted until `safewalk purge` runs). erasure_record: what an
erasure or purge removed, in counts (tenant table). maintenance_run: the daily purge's claim,
shared by every replica (one row per job, no tenant).

Revision ID: a9c0c0a0016c
Revises: a9c0c0a0016a
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a9c0c0a0016c"
down_revision: str | None = "a9c0c0a0016a"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RETENTION_COLUMNS = (
    ("photo_retention_days", "365"),
    ("note_retention_days", "730"),
    ("anonymize_participants_after_days", "90"),
)


def upgrade() -> None:
    op.add_column("participant", sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("organization", schema=None) as batch_op:
        for name, default in RETENTION_COLUMNS:
            batch_op.add_column(
                sa.Column(name, sa.Integer(), nullable=True, server_default=default)
            )
    op.create_table(
        "erasure_record",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("walk_id", sa.Uuid(), nullable=True),
        sa.Column("actor_user_id", sa.Uuid(), nullable=True),
        sa.Column("participants", sa.Integer(), nullable=False),
        sa.Column("notes", sa.Integer(), nullable=False),
        sa.Column("photos", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_user_id"],
            ["user_account.id"],
            name=op.f("fk_erasure_record_actor_user_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_erasure_record_organization_id_organization"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["walk_id"],
            ["walk.id"],
            name=op.f("fk_erasure_record_walk_id_walk"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_erasure_record")),
    )
    op.create_index(
        op.f("ix_erasure_record_organization_id"), "erasure_record", ["organization_id"]
    )
    op.create_table(
        "maintenance_run",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_maintenance_run")),
    )


def downgrade() -> None:
    op.drop_table("maintenance_run")
    op.drop_index(op.f("ix_erasure_record_organization_id"), table_name="erasure_record")
    op.drop_table("erasure_record")
    # Plain DROP COLUMN (SQLite >= 3.35): a batch copy of organization trips the foreign keys
    # that point at it.
    for name, _default in reversed(RETENTION_COLUMNS):
        op.drop_column("organization", name)
    op.drop_column("participant", "erased_at")
