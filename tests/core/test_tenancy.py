"""The second tenant wall: PostgreSQL row-level security under the app's sessions.

Every test here acts as the service does in production: a session of the app's sessionmaker
(tests/conftest.py ``serve_on``: the app role, which does not own the tables) bound to one
organization, running queries that "forgot" their organization filter. The tables are taken
from the models' metadata, so a new table with an ``organization_id`` and no policy fails here.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, Table, delete, func, select, text, update
from sqlalchemy.exc import DBAPIError, ProgrammingError
from sqlalchemy.orm import Session

from api import cli
from api.app import create_app
from api.core import tenancy
from api.core.db import create_db_engine, make_sessionmaker
from api.http.deps import SessionDep
from api.jobs.demo import load_demo
from api.settings import Settings, get_settings
from models import (
    ActionItem,
    Area,
    IntegrationKey,
    Observation,
    Open311Dispatch,
    Open311Endpoint,
    Organization,
    PersonalAccessToken,
    Photo,
    Role,
    User,
    Walk,
)
from models.base import metadata
from tests.factories import make_area, make_org, make_user, make_walk
from tests.factories.client import SyncClient
from tests.factories.databases import POSTGIS_ONLY
from tests.factories.world import World, staff_token

# Rows of these must exist in the foreign organization for the "forgotten filter" test to mean
# something; a new table is checked too when its rows exist (and by the policy test always).
SEEDED = {
    "organization", "user_account", "area", "category", "walk", "participant", "observation",
    "photo", "action_item", "action_event", "integration_key", "personal_access_token",
    "open311_endpoint", "open311_dispatch",
}  # fmt: skip


def tenant_tables() -> list[tuple[Table, str]]:
    """Every table of the models that belongs to one organization, with the column saying which."""
    out: list[tuple[Table, str]] = []
    for table in metadata.sorted_tables:
        if table.name == "organization":
            out.append((table, "id"))
        elif "organization_id" in table.c:
            out.append((table, "organization_id"))
    return out


@pytest.fixture
def postgres(backend: str) -> None:
    # Row-level security exists only on PostgreSQL (tests using this are POSTGIS_ONLY); on
    # SQLite the tenant wall is the application's own organization filters, tested on both
    # databases everywhere else.
    assert backend == "postgis"


@contextmanager
def acting(app: Any, organization_id: uuid.UUID | None = None) -> Iterator[Session]:
    """A session as a request gets it: the app role, acting for ``organization_id`` (or, before
    sign-in, for none). It shares the test's connection, so the test's own (owner) session
    must not be used inside the block; it rolls back at the end."""
    with app.state.sessionmaker() as s:
        if organization_id is not None:
            tenancy.bind(s, organization_id)
        yield s
        s.rollback()


def _seed_foreign(session: Session) -> Organization:
    """An organization with rows in every table (the demo data, plus what the demo lacks)."""
    load_demo(session, password="demo-password-1234")
    org = session.scalar(select(Organization).where(Organization.slug == "demo"))
    assert org is not None
    obs = session.scalars(select(Observation).where(Observation.organization_id == org.id)).first()
    item = session.scalars(select(ActionItem).where(ActionItem.organization_id == org.id)).first()
    user = session.scalars(select(User).where(User.organization_id == org.id)).first()
    assert obs is not None
    assert item is not None
    assert user is not None
    digest = hashlib.sha256(b"photo").hexdigest()
    session.add_all(
        [
            Photo(id=uuid.uuid4(), organization_id=org.id, observation_id=obs.id,
                  upload_sha256=digest, sha256=digest, media_type="image/jpeg",
                  size_bytes=1, width=1, height=1),
            IntegrationKey(organization_id=org.id, name="k", prefix="sk_x",
                           key_hash=hashlib.sha256(b"integration").hexdigest()),
            PersonalAccessToken(organization_id=org.id, user_id=user.id, name="t", prefix="sw_x",
                                token_hash=hashlib.sha256(b"pat").hexdigest()),
            Open311Endpoint(organization_id=org.id, url="https://case.example/", api_key="x"),
            Open311Dispatch(organization_id=org.id, action_item_id=item.id),
        ]
    )  # fmt: skip
    session.flush()
    session.commit()
    return org


def _orgs_in(session: Session, table: Table, column: str) -> set[uuid.UUID]:
    return set(session.scalars(select(table.c[column]).distinct()))


@POSTGIS_ONLY
def test_every_tenant_table_has_the_wall(postgres: None, session: Session) -> None:
    tables = tenant_tables()
    assert {t.name for t, _ in tables} >= SEEDED
    for table, column in tables:
        enabled = session.scalar(
            text("SELECT relrowsecurity FROM pg_class WHERE oid = CAST(:t AS regclass)"),
            {"t": table.name},
        )
        assert enabled, f"{table.name}: row-level security is not enabled"
        policies = dict(
            session.execute(
                text("SELECT policyname, cmd FROM pg_policies WHERE tablename = :t"),
                {"t": table.name},
            ).all()
        )
        assert policies == {"tenant_wall": "ALL", "tenant_lookup": "SELECT"}, table.name
        qual, check = session.execute(
            text(
                "SELECT qual, with_check FROM pg_policies WHERE tablename = :t AND policyname = 'tenant_wall'"
            ),
            {"t": table.name},
        ).one()
        for expr in (qual, check):
            assert column in expr, (table.name, expr)
            assert tenancy.ORG_SETTING in expr, (table.name, expr)


@POSTGIS_ONLY
def test_a_forgotten_filter_sees_no_foreign_rows(
    postgres: None, world: World, session: Session, app: Any
) -> None:
    foreign = _seed_foreign(session)
    make_area(session, world.other_org, name="Elsewhere")
    session.commit()
    mine = world.org.id
    foreign_walk = session.scalars(
        select(Walk.id).where(Walk.organization_id == foreign.id)
    ).first()
    expected, seeded = {}, set()
    for table, column in tenant_tables():
        if _orgs_in(session, table, column) - {mine}:
            seeded.add(table.name)
        expected[table.name] = session.scalar(
            select(func.count()).select_from(table).where(table.c[column] == mine)
        )
    assert seeded >= SEEDED, "the test must have foreign rows in these tables"
    with acting(app, mine) as s:
        # The ORM's own queries, as a service with a missing filter would write them.
        assert {o.organization_id for o in s.scalars(select(Observation))} <= {mine}
        assert {i.organization_id for i in s.scalars(select(ActionItem))} <= {mine}
        assert s.get(Walk, foreign_walk) is None
        for table, column in tenant_tables():
            seen = _orgs_in(s, table, column)
            assert seen <= {mine}, f"{table.name}: rows of another organization are visible"
            assert s.scalar(select(func.count()).select_from(table)) == expected[table.name]


@POSTGIS_ONLY
def test_writes_for_another_organization_are_refused(
    postgres: None, world: World, session: Session, app: Any
) -> None:
    theirs = make_area(session, world.other_org, name="Theirs")
    session.commit()
    theirs_id, geometry, mine = theirs.id, theirs.geometry, world.objects["area"].id
    with acting(app, world.org.id) as s:  # a new row naming another organization
        s.add(Area(organization_id=world.other_org.id, name="Smuggled", geometry=geometry))
        with pytest.raises(ProgrammingError, match="row-level security"):
            s.flush()
    with acting(app, world.org.id) as s:  # moving an own row to another organization
        with pytest.raises(ProgrammingError, match="row-level security"):
            s.execute(
                update(Area).where(Area.id == mine).values(organization_id=world.other_org.id)
            )
    with acting(app, world.org.id) as s:  # another organization's row is not there to change
        changed = s.execute(update(Area).where(Area.id == theirs_id).values(name="Mine now"))
        assert changed.rowcount == 0  # type: ignore[attr-defined]
        assert s.execute(delete(Area).where(Area.id == theirs_id)).rowcount == 0  # type: ignore[attr-defined]
        with tenancy.lookup(s, "area"):  # a lookup reads, never writes
            assert s.get(Area, theirs_id) is not None
            changed = s.execute(update(Area).where(Area.id == theirs_id).values(name="Mine now"))
            assert changed.rowcount == 0  # type: ignore[attr-defined]
        s.commit()
    session.refresh(theirs)
    assert theirs.name == "Theirs"


@POSTGIS_ONLY
def test_the_app_role_owns_nothing_and_cannot_lower_the_wall(
    postgres: None, world: World, session: Session, app: Any
) -> None:
    owners = set(
        session.scalars(
            text("SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = current_schema()")
        )
    )
    assert tenancy.APP_ROLE not in owners
    attrs = session.execute(
        text("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = :r"),
        {"r": tenancy.APP_ROLE},
    ).one()
    assert tuple(attrs) == (False, False)
    with acting(app, world.org.id) as s:
        assert s.scalar(text("SELECT current_user")) == tenancy.APP_ROLE
        for statement in (
            "ALTER TABLE observation DISABLE ROW LEVEL SECURITY",
            "DROP POLICY tenant_wall ON observation",
            "ALTER TABLE observation NO FORCE ROW LEVEL SECURITY",
        ):
            nested = s.begin_nested()
            with pytest.raises(DBAPIError, match="must be owner"):
                s.execute(text(statement))
            nested.rollback()
        # Switching row security off is refused rather than showing everything.
        nested = s.begin_nested()
        s.execute(text("SET LOCAL row_security = off"))
        with pytest.raises(DBAPIError, match="row-level security"):
            s.execute(select(Walk)).all()
        nested.rollback()


@POSTGIS_ONLY
def test_no_organization_sees_nothing(
    postgres: None, world: World, session: Session, app: Any
) -> None:
    _seed_foreign(session)
    with acting(app) as s:
        for table, _ in tenant_tables():
            assert s.scalar(select(func.count()).select_from(table)) == 0, table.name
        # A lookup opens its tables only, and only inside its block.
        with tenancy.lookup(s, "walk"):
            assert s.scalar(select(func.count()).select_from(Walk)) > 0
            assert s.scalar(select(func.count()).select_from(Observation)) == 0
        assert s.scalar(select(func.count()).select_from(Walk)) == 0
        # A bound session stays bound in its next transaction; a new one starts closed.
        tenancy.bind(s, world.org.id)
        s.commit()
        assert s.scalar(select(func.count()).select_from(Walk)) > 0
    with acting(app) as s:
        assert s.scalar(select(func.count()).select_from(Walk)) == 0


@POSTGIS_ONLY
def test_feeds_stream_for_the_callers_organization_only(
    postgres: None, world: World, session: Session, app: Any
) -> None:
    _seed_foreign(session)
    connect = app.state.feed_connection
    with tenancy.scoped(connect, world.org.id)() as conn:
        orgs = set(conn.scalars(select(Observation.organization_id)))
        assert orgs <= {world.org.id}
        assert set(conn.scalars(select(Walk.organization_id))) == {world.org.id}
    with tenancy.scoped(connect, None)() as conn:
        assert conn.scalar(select(func.count()).select_from(Walk)) == 0


@POSTGIS_ONLY
def test_before_sign_in_lookups_work_as_the_app_role(
    postgres: None, world: World, session: Session, client: Any
) -> None:
    """The reads that find the organization: sign-in by email, join by code, the public page
    by slug, Open311 by jurisdiction and key, a personal access token, a signed photo link
    (tests/api/... cover each in depth; here all of them once, as the app role)."""
    foreign = _seed_foreign(session)
    foreign.public_followup = True
    walk = session.scalars(
        select(Walk).where(Walk.organization_id == foreign.id, Walk.status == "active")
    ).first()
    assert walk is not None
    session.commit()
    r = client.post(
        "/api/v1/auth/token",
        data={"username": "admin@demo.safewalk.local", "password": "demo-password-1234"},
    )
    assert r.status_code == 200, r.text
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {r.json()['access_token']}"})
    assert me.status_code == 200, me.text
    assert me.json()["organization"]["slug"] == "demo"
    r = client.post("/api/v1/walks/join", json={"code": walk.join_code, "group": "resident"})
    assert r.status_code == 201, r.text
    assert client.get("/public/demo/").status_code == 200
    r = client.get("/open311/v2/services.json", params={"jurisdiction_id": "demo"})
    assert r.status_code == 200, r.text
    assert r.json()


@POSTGIS_ONLY
def test_the_service_becomes_the_app_role(postgres: None, engine: Engine, tmp_path: Path) -> None:
    """SAFEWALK_DATABASE_ROLE (what tests/factories/live_server.py gives every live server): each connection of
    the service is the app role, and `serve` has nothing to warn about; the owner would."""
    url = engine.url.render_as_string(hide_password=False)
    settings = Settings(
        environment="test", data_dir=tmp_path, database_url=url, secret_key="s" * 64,
        database_role=tenancy.APP_ROLE,
    )  # fmt: skip
    served = create_app(settings).state.engine
    try:
        with served.connect() as conn:
            assert conn.scalar(text("SELECT current_user")) == tenancy.APP_ROLE
            assert tenancy.wall_warning(conn) is None
    finally:
        served.dispose()
    with engine.connect() as conn:  # the tests' owner is a superuser
        assert "superuser" in (tenancy.wall_warning(conn) or "")


# --- the service's role by default (SAFEWALK_DATABASE_ROLE) --------------------------------

STRONG_SECRET = "p" * 64


@pytest.fixture
def two_orgs(postgres: None, migrated_db_url: str) -> dict[str, Any]:
    """A migrated database with a walk in each of two organizations, committed by the owner."""
    owner = create_db_engine(migrated_db_url)
    try:
        with make_sessionmaker(owner)() as s:
            mine, theirs = make_org(s, "Sandnes"), make_org(s, "Stavanger")
            admin = make_user(s, mine, Role.admin)
            walk, foreign = make_walk(s, mine), make_walk(s, theirs)
            s.commit()
            return {
                "url": migrated_db_url, "org": mine.id, "admin": admin, "walk": walk.id,
                "foreign_walk": foreign.id,
            }  # fmt: skip
    finally:
        owner.dispose()


def _settings(url: str, tmp_path: Path, **kw: Any) -> Settings:
    return Settings(data_dir=tmp_path, database_url=url, secret_key=STRONG_SECRET, **kw)


def _whoami(app: Any) -> None:
    """A route that tells which role its request's session acts as (added for the test)."""

    def whoami(session: SessionDep) -> str:
        return str(session.scalar(text("SELECT current_user")))

    app.add_api_route("/test/whoami", whoami, methods=["GET"])


@POSTGIS_ONLY
@pytest.mark.parametrize("environment", ["development", "production"])
def test_a_service_given_a_superuser_url_becomes_the_app_role(
    two_orgs: dict[str, Any], tmp_path: Path, environment: str
) -> None:
    """No SAFEWALK_DATABASE_ROLE: the login (the tests' superuser) may become safewalk_app, so
    the service does, and a query that forgot its organization filter sees no foreign row."""
    app = create_app(_settings(two_orgs["url"], tmp_path, environment=environment))
    _whoami(app)
    try:
        with SyncClient(app) as client:
            assert client.get("/test/whoami").json() == tenancy.APP_ROLE
            token = staff_token(app, two_orgs["admin"])
            r = client.get("/api/v1/walks", headers={"Authorization": f"Bearer {token}"})
            assert r.status_code == 200, r.text
            assert [w["id"] for w in r.json()["items"]] == [str(two_orgs["walk"])]
        with app.state.sessionmaker() as s:
            tenancy.bind(s, two_orgs["org"])
            assert s.scalar(text("SELECT current_user")) == tenancy.APP_ROLE
            assert set(s.scalars(select(Walk.id))) == {two_orgs["walk"]}
            assert s.get(Walk, two_orgs["foreign_walk"]) is None
        with app.state.engine.connect() as conn:
            assert tenancy.wall_warning(conn) is None
    finally:
        app.state.engine.dispose()


@POSTGIS_ONLY
def test_the_opt_out_keeps_the_login_and_warns_outside_production(
    two_orgs: dict[str, Any], tmp_path: Path
) -> None:
    app = create_app(
        _settings(two_orgs["url"], tmp_path, environment="development", database_role="none")
    )
    try:
        with app.state.engine.connect() as conn:
            assert conn.scalar(text("SELECT current_user")) != tenancy.APP_ROLE
            assert "superuser" in (tenancy.wall_warning(conn) or "")
        with app.state.sessionmaker() as s:  # through the wall: only the app's filters hold
            tenancy.bind(s, two_orgs["org"])
            assert s.get(Walk, two_orgs["foreign_walk"]) is not None
    finally:
        app.state.engine.dispose()


@POSTGIS_ONLY
def test_production_refuses_to_serve_through_the_wall(
    two_orgs: dict[str, Any], tmp_path: Path
) -> None:
    settings = _settings(two_orgs["url"], tmp_path, environment="production", database_role="none")
    with pytest.raises(tenancy.WallBypassed, match="refusing to start in production") as info:
        create_app(settings)
    assert "superuser" in str(info.value)
    assert "SAFEWALK_DATABASE_ROLE" in str(info.value)
    # `safewalk serve` says so and exits, before listening.
    env = {
        **os.environ,
        "SAFEWALK_DATABASE_URL": two_orgs["url"],
        "SAFEWALK_DATA_DIR": str(tmp_path),
        "SAFEWALK_SECRET_KEY": STRONG_SECRET,
        "SAFEWALK_ENVIRONMENT": "production",
        "SAFEWALK_DATABASE_ROLE": "none",
    }
    done = subprocess.run(
        [sys.executable, "-m", "api.cli", "serve", "--no-migrate", "--port", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert done.returncode == 2, done.stderr
    assert "refusing to start in production" in done.stderr
    assert f"Connect as {tenancy.APP_ROLE}" in done.stderr


@POSTGIS_ONLY
def test_the_command_line_stays_the_owner(
    two_orgs: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """migrate, purge, backup and the rest act as the tables' owner: they read across
    organizations and change the schema, which the app role may not."""
    monkeypatch.setenv("SAFEWALK_DATABASE_URL", two_orgs["url"])
    monkeypatch.setenv("SAFEWALK_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("SAFEWALK_DATABASE_ROLE", raising=False)
    get_settings.cache_clear()
    try:
        assert cli.main(["migrate"]) == 0
        assert cli.main(["purge", "--dry-run"]) == 0
        engine, factory = cli._session_factory()
        try:
            with factory() as s:
                assert s.scalar(text("SELECT current_user")) != tenancy.APP_ROLE
                assert s.get(Walk, two_orgs["foreign_walk"]) is not None
        finally:
            engine.dispose()
    finally:
        get_settings.cache_clear()
