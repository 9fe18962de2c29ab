"""Trust: PostgreSQL row-level security, last so that it covers every table.

Every table of the schema with an ``organization_id`` column (found now, at upgrade time, so
tables added by earlier revisions are covered without a list here), and ``organization`` on
its ``id``, gets row-level security with two policies (see ``api/core/tenancy.py``):

- ``tenant_wall``: rows of the organization in ``safewalk.organization_id`` only, for reading
  and writing (USING and WITH CHECK); no setting, no rows.
- ``tenant_lookup``: SELECT only, while the table is named in ``safewalk.lookup``.

The settings are read in scalar subqueries so PostgreSQL evaluates them once per query (an
InitPlan), not once per row, and the organization test can still use an index.

The role ``safewalk_app`` (NOLOGIN) is created if missing and granted the data, never the
schema: it does not own the tables, so it cannot alter them or switch the policies off. RLS is
enabled, not FORCEd: the owner (migrations, the CLI, ``pg_dump`` for backups) sees every row,
and the service connects as ``safewalk_app`` or a member of it. SQLite: nothing to do.

Revision ID: a9c0c0a0016b
Revises: g3n0idx0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a9c0c0a0016b"
down_revision: str | None = "g3n0idx0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APP_ROLE = "safewalk_app"
ORG = "(SELECT nullif(current_setting('safewalk.organization_id', true), '')::uuid)"
# Tables of this schema the app role must not write (PostGIS' own; our migration record).
NOT_DATA = ("spatial_ref_sys", "alembic_version")


def _tenant_tables(conn: sa.Connection) -> list[tuple[str, str]]:
    rows = conn.execute(
        sa.text(
            "SELECT c.relname FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "JOIN pg_attribute a ON a.attrelid = c.oid "
            "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') "
            "AND a.attname = 'organization_id' AND NOT a.attisdropped ORDER BY c.relname"
        )
    ).scalars()
    return [("organization", "id"), *((name, "organization_id") for name in rows)]


def _role_exists(conn: sa.Connection) -> bool:
    return bool(conn.scalar(sa.text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": APP_ROLE}))


def upgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name != "postgresql":
        return
    for table, column in _tenant_tables(conn):
        lookup = f"(SELECT '{table}' = ANY (string_to_array(current_setting('safewalk.lookup', true), ',')))"
        op.execute(f'ALTER TABLE "{table}" ENABLE ROW LEVEL SECURITY')
        op.execute(f'DROP POLICY IF EXISTS tenant_wall ON "{table}"')
        op.execute(f'DROP POLICY IF EXISTS tenant_lookup ON "{table}"')
        op.execute(
            f'CREATE POLICY tenant_wall ON "{table}" '
            f'USING ("{column}" = {ORG}) WITH CHECK ("{column}" = {ORG})'
        )
        op.execute(f'CREATE POLICY tenant_lookup ON "{table}" FOR SELECT USING ({lookup})')
    # Roles belong to the whole cluster: another database may have made it already, and a
    # migrating owner without CREATEROLE leaves it to the administrator (README).
    op.execute(
        f"""
        DO $$
        BEGIN
            IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
                CREATE ROLE {APP_ROLE} NOLOGIN;
            END IF;
        EXCEPTION
            WHEN duplicate_object OR unique_violation THEN NULL;
            WHEN insufficient_privilege THEN
                RAISE WARNING 'cannot create role {APP_ROLE}: create it, then migrate again';
        END
        $$
        """
    )
    if not _role_exists(conn):
        return
    schema = conn.scalar(sa.text("SELECT current_schema()"))
    op.execute(f'GRANT USAGE ON SCHEMA "{schema}" TO {APP_ROLE}')
    tables = conn.execute(
        sa.text(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') "
            "AND pg_has_role(c.relowner, 'USAGE') ORDER BY c.relname"
        )
    ).scalars()
    for table in tables:
        if table in NOT_DATA:
            op.execute(f'GRANT SELECT ON "{table}" TO {APP_ROLE}')
        else:
            op.execute(f'GRANT SELECT, INSERT, UPDATE, DELETE ON "{table}" TO {APP_ROLE}')
    op.execute(f'GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA "{schema}" TO {APP_ROLE}')
    # Tables later revisions create (as this same owner) are granted too; their policies are
    # theirs to add (README, "Database roles").
    op.execute(
        f'ALTER DEFAULT PRIVILEGES IN SCHEMA "{schema}" '
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {APP_ROLE}"
    )
    op.execute(
        f'ALTER DEFAULT PRIVILEGES IN SCHEMA "{schema}" '
        f"GRANT USAGE, SELECT ON SEQUENCES TO {APP_ROLE}"
    )


def downgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name != "postgresql":
        return
    for table, _column in _tenant_tables(conn):
        op.execute(f'DROP POLICY IF EXISTS tenant_wall ON "{table}"')
        op.execute(f'DROP POLICY IF EXISTS tenant_lookup ON "{table}"')
        op.execute(f'ALTER TABLE "{table}" DISABLE ROW LEVEL SECURITY')
    if not _role_exists(conn):
        return
    # The role stays (it is the cluster's, maybe used by other databases); its rights here go.
    schema = conn.scalar(sa.text("SELECT current_schema()"))
    op.execute(
        f'ALTER DEFAULT PRIVILEGES IN SCHEMA "{schema}" '
        f"REVOKE SELECT, INSERT, UPDATE, DELETE ON TABLES FROM {APP_ROLE}"
    )
    op.execute(
        f'ALTER DEFAULT PRIVILEGES IN SCHEMA "{schema}" '
        f"REVOKE USAGE, SELECT ON SEQUENCES FROM {APP_ROLE}"
    )
    op.execute(f'REVOKE ALL ON ALL TABLES IN SCHEMA "{schema}" FROM {APP_ROLE}')
    op.execute(f'REVOKE ALL ON ALL SEQUENCES IN SCHEMA "{schema}" FROM {APP_ROLE}')
    op.execute(f'REVOKE USAGE ON SCHEMA "{schema}" FROM {APP_ROLE}')
