"""The second tenant wall: PostgreSQL row-level security on every tenant table.

The first wall is the application's own filters (every query names the caller's
organization). On PostgreSQL the service also connects as a role that does not own the tables
(``safewalk_app``, README "Running it for real"), and every table with an ``organization_id``
(and ``organization`` itself, on ``id``) has two policies, made by the migration
``2026_11_21_2217_tenant_wall.py``:

- ``tenant_wall`` (every command): the row's organization is the one in the transaction's
  setting ``safewalk.organization_id``. A transaction without it sees and writes nothing.
- ``tenant_lookup`` (SELECT only): the table is named in ``safewalk.lookup``. Only the few
  reads that run before the organization is known (sign-in by email, join by code, a public page
  by slug, an integration key, ...) name a table there, inside :func:`lookup`, for that one
  query; they then :func:`bind` the organization they found.

Both settings are transaction-local (``set_config(..., true)``), so nothing outlives a
transaction on a pooled connection; the listener :func:`install` puts on the app's sessions
sets them again at the start of every transaction of the session. On SQLite all of this is a
no-op: there the wall is the application's filters alone.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, suppress
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, event, text
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker

from api.core import dialect
from api.core.db import session_scope
from api.core.errors import NotFound

ORG_SETTING = "safewalk.organization_id"
LOOKUP_SETTING = "safewalk.lookup"
# The role the migration creates and grants; the service connects as it, or as a member of it.
APP_ROLE = "safewalk_app"

_ORG_KEY = "tenancy.organization_id"
_APPLIED_KEY = "tenancy.applied"  # what the current transaction has been told
_SET = text(
    f"SELECT set_config('{ORG_SETTING}', :org, true), set_config('{LOOKUP_SETTING}', :lookup, true)"
)
_SET_LOOKUP = text(f"SELECT set_config('{LOOKUP_SETTING}', :lookup, true)")


Row = TypeVar("Row")


def owned(
    session: Session, model: type[Row], org_id: uuid.UUID, row_id: uuid.UUID, missing: str
) -> Row:
    """The ``model`` row ``row_id`` of organization ``org_id``: a row of another organization
    is, for the caller, not there (404 with the catalogue message ``missing``), on both
    databases alike."""
    row = session.get(model, row_id)
    if row is None or getattr(row, "organization_id", None) != org_id:
        raise NotFound(key=missing)
    return row


def _on_begin(session: Session, _transaction: SessionTransaction, conn: Connection) -> None:
    # Every transaction starts closed (no organization unless this session was bound, no
    # lookup), also when a connection is shared, as in the tests.
    org = session.info.get(_ORG_KEY, "")
    session.info[_APPLIED_KEY] = org
    if dialect.has_row_security(conn):
        conn.execute(_SET, {"org": org, "lookup": ""})


def install(factory: sessionmaker[Session]) -> sessionmaker[Session]:
    """Make the sessions of ``factory`` carry their organization into every transaction."""
    if not event.contains(factory, "after_begin", _on_begin):
        event.listen(factory, "after_begin", _on_begin)
    return factory


def bind(session: Session, organization_id: uuid.UUID) -> None:
    """From now on this session acts for ``organization_id`` (once the caller is known)."""
    value = str(organization_id)
    session.info[_ORG_KEY] = value
    if not dialect.has_row_security(session):
        return  # and no transaction is begun for it (SQLite's BEGIN mode is the caller's)
    conn = session.connection()  # begins if needed, and the listener then has set it
    if session.info.get(_APPLIED_KEY) != value:
        session.info[_APPLIED_KEY] = value
        conn.execute(_SET, {"org": value, "lookup": ""})


@contextmanager
def unit(factory: sessionmaker[Session], organization_id: uuid.UUID | None) -> Iterator[Session]:
    """One transaction acting for one organization, as work outside a request runs it: commit
    on success, roll back on any error. None only for a lookup across organizations."""
    with contextmanager(session_scope)(factory) as session:
        if organization_id is not None:
            bind(session, organization_id)
        yield session


@contextmanager
def lookup(session: Session, *tables: str) -> Iterator[None]:
    """Read ``tables`` across organizations for the queries inside this block only.

    For the reads that find the organization in the first place (a join code, an email, a
    key's hash, a slug); whoever uses it binds the organization it found right after. Writes
    never pass this way: the lookup policy is SELECT-only."""
    if not dialect.has_row_security(session):
        yield
        return
    conn = session.connection()
    conn.execute(_SET_LOOKUP, {"lookup": ",".join(tables)})
    try:
        yield
    except BaseException:
        # Close it if the transaction still can; a failed one is rolled back anyway, and the
        # error that brought us here is the one to report.
        with suppress(SQLAlchemyError):
            session.connection().execute(_SET_LOOKUP, {"lookup": ""})
        raise
    session.connection().execute(_SET_LOOKUP, {"lookup": ""})


ConnectionProvider = Callable[[], AbstractContextManager[Connection]]


def scoped(connect: ConnectionProvider, organization_id: uuid.UUID | None) -> ConnectionProvider:
    """A connection provider (the feeds' own connection) whose transaction acts for one
    organization, like a bound session (None: for none, it sees nothing)."""

    @contextmanager
    def provider() -> Iterator[Connection]:
        with connect() as conn:
            if dialect.has_row_security(conn):
                org = "" if organization_id is None else str(organization_id)
                conn.execute(_SET, {"org": org, "lookup": ""})
            yield conn

    return provider


# SAFEWALK_DATABASE_ROLE=none: the service stays its login's own role, whatever that is.
ROLE_NONE = "none"
_CAN_BECOME = (
    # PostgreSQL 16 grants SET separately from membership; before it, a member may SET ROLE.
    "SELECT r.rolname <> current_user AND pg_has_role(current_user, r.oid, CASE WHEN "
    "current_setting('server_version_num')::int >= 160000 THEN 'SET' ELSE 'MEMBER' END) "
    "FROM pg_roles r WHERE r.rolname = %s"
)
_BYPASS = (
    "SELECT current_user, r.rolsuper OR r.rolbypassrls, "
    "EXISTS (SELECT FROM pg_tables t WHERE t.schemaname = current_schema() "
    "AND t.tablename = 'observation' AND t.tableowner = current_user) "
    "FROM pg_roles r WHERE r.rolname = current_user"
)


class WallBypassed(RuntimeError):
    """In production the service refuses to run as a role that row-level security does not
    hold (a superuser, BYPASSRLS, or the tables' owner)."""


def _bypass_reason(row: Sequence[Any] | None) -> str | None:
    if row is None:
        return None
    user, bypasses, owns = row
    if bypasses:
        return f"the service's database role {user!r} is a superuser or bypasses row-level security"
    if owns:
        return f"the service's database role {user!r} owns the tables, so row-level security does not apply to it"
    return None


def refusal(reason: str) -> str:
    """What a production start says when the wall would not hold, and what to do about it."""
    return (
        f"refusing to start in production: {reason}. Connect as {APP_ROLE} "
        f"(SAFEWALK_DATABASE_URL with its login), or let the login become it: GRANT {APP_ROLE} "
        "TO the login and leave SAFEWALK_DATABASE_ROLE empty (the default). See "
        "docs/operations.md, Database roles."
    )


def serve_as(engine: Engine, setting: str, *, production: bool) -> None:
    """Which role the service's connections act as on PostgreSQL (a no-op on SQLite).

    ``setting`` is SAFEWALK_DATABASE_ROLE: empty (the default) becomes ``safewalk_app`` when the
    login may (a member of it, or a superuser) and is not it already, so a service started
    with the owner's or a superuser's URL is held by the wall all the same; ``none`` keeps the
    login's own role; any other value is a role every connection becomes. With ``production``,
    a connection whose role the wall would not hold raises ``WallBypassed`` (closed first):
    the service cannot read through the wall by a mistake of configuration.
    """
    if not dialect.has_row_security(engine):
        return
    choice = setting.strip()

    def on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Session-level, once per pooled connection. psycopg binds values, not identifiers.
        with dbapi_conn.cursor() as cur:
            role = None
            if choice == "":
                cur.execute(_CAN_BECOME, (APP_ROLE,))
                found = cur.fetchone()
                role = APP_ROLE if found is not None and found[0] else None
            elif choice.lower() != ROLE_NONE:
                role = choice
            if role is not None:
                cur.execute('SET ROLE "{}"'.format(role.replace('"', '""')))
            reason = None
            if production:
                cur.execute(_BYPASS)
                reason = _bypass_reason(cur.fetchone())
        dbapi_conn.commit()
        if reason is not None:
            dbapi_conn.close()
            raise WallBypassed(refusal(reason))

    event.listen(engine, "connect", on_connect)


def check_wall(engine: Engine) -> None:
    """At start-up in production: raise ``WallBypassed`` now rather than on the first request.
    An unreachable database is not a verdict (``/readyz`` reports it; every connection is
    checked when it is made)."""
    try:
        with engine.connect():
            pass
    except DBAPIError:
        return


def wall_warning(conn: Connection) -> str | None:
    """Why row-level security does not hold for this connection's role, or None (always None
    on SQLite). ``serve`` prints it outside production (where the service refuses to start
    instead): a service that owns the tables, or is a superuser, reads through the wall (the
    application's filters still hold)."""
    if not dialect.has_row_security(conn):
        return None
    return _bypass_reason(conn.exec_driver_sql(_BYPASS).one_or_none())
