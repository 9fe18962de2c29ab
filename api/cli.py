"""The ``safewalk`` command: init, serve, migrate, import-areas, import-assets, basemap, demo,
purge, maintain, backup, restore, notify.

Non-interactive."""

from __future__ import annotations

import argparse
import inspect
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from api.core.db import SpatiaLiteMissing, create_db_engine, make_sessionmaker, session_scope
from api.core.errors import DomainError
from api.settings import get_settings

if TYPE_CHECKING:
    from starlette.types import ASGIApp


def _session_factory() -> tuple[Engine, sessionmaker[Session]]:
    settings = get_settings()
    engine = create_db_engine(settings.resolved_owner_database_url)
    return engine, make_sessionmaker(engine)


def cmd_migrate(_args: argparse.Namespace) -> int:
    from api.core.migrate import upgrade
    from api.jobs.backfill import backfill

    url = get_settings().resolved_owner_database_url
    upgrade(url)
    print("database is at the latest schema")
    for name, rows in backfill(url).items():
        print(f"backfill {name}: {rows} rows brought up to date")
    return 0


@contextmanager
def _one_session(*, migrate: bool = False) -> Iterator[Session]:
    """One unit of work on the database (brought to the latest schema first, if asked)."""
    if migrate:
        from api.core.migrate import upgrade

        upgrade(get_settings().resolved_owner_database_url)
    engine, factory = _session_factory()
    try:
        yield from session_scope(factory)
    finally:
        engine.dispose()


def cmd_init(args: argparse.Namespace) -> int:
    from api.auth import organizations, users
    from models import Role

    with _one_session(migrate=True) as session:
        org = organizations.create_organization(session, args.org, args.slug)
        user = users.create_user(
            session, org, email=args.admin_email, password=args.admin_password, role=Role.admin
        )
        print(f"organization {org.name!r} (slug {org.slug}) created with its default categories")
        print(f"admin account: {user.email}")
    return 0


def worker_app() -> ASGIApp:
    """The app of one worker process when ``serve --workers N`` runs several (uvicorn imports
    this by name in each child, which reads the settings from the environment)."""
    from api.app import create_app
    from api.core.logs import configure_logging

    settings = get_settings()
    configure_logging(settings.log_format)
    return create_app(settings)


# The URL travels on stdin, not the command line, which other users may read (ps).
_UPGRADE = """
import sys
from api.core.db import SpatiaLiteMissing
from api.core.migrate import upgrade
try:
    upgrade(sys.stdin.read())
except SpatiaLiteMissing as exc:
    sys.exit(f"error: {exc}")
"""


def _upgrade_in_a_child(url: str) -> int:
    """Upgrade the schema in a process of its own: Alembic, its dialects and every migration
    script would otherwise stay in the serving process's memory for its whole life."""
    return subprocess.run([sys.executable, "-c", _UPGRADE], input=url, text=True).returncode


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from api.app import create_app
    from api.core import tenancy
    from api.core.logs import configure_logging

    settings = get_settings()
    if args.trusted_proxies is not None:
        settings = settings.model_copy(update={"trusted_proxies": args.trusted_proxies})
    if not args.no_migrate:
        code = _upgrade_in_a_child(settings.resolved_owner_database_url)
        if code != 0:
            return code
    configure_logging(settings.log_format)
    try:
        app = create_app(settings)
    except tenancy.WallBypassed as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        with app.state.engine.connect() as conn:
            warning = tenancy.wall_warning(conn)
    except SQLAlchemyError:  # the database is not there yet: /readyz says so
        warning = None
    if warning:  # development and test only: production refused above
        print(
            f"warning: {warning}; only the application's filters keep organizations apart. "
            f"Connect as {tenancy.APP_ROLE} or a member of it (docs/operations.md, Database roles)",
            file=sys.stderr,
        )
    print(
        f"safewalk on http://{args.host}:{args.port}  (API docs: http://{args.host}:{args.port}/docs)"
    )
    options: dict[str, Any] = {
        "host": args.host,
        "port": args.port,
        "log_level": "info",
        # uvicorn would otherwise believe X-Forwarded-For from loopback; the app decides which
        # proxies to trust (SAFEWALK_TRUSTED_PROXIES, api/http/middleware.py).
        "proxy_headers": False,
        # Our own JSON logs (api/core/logs.py) and access lines with the request id
        # (api/http/context.py) replace uvicorn's.
        "log_config": None,
        "access_log": False,
    }
    if args.workers > 1:
        # Each worker is a fresh process that builds its app from the environment, so the
        # command line's overrides travel there.
        if args.trusted_proxies is not None:
            os.environ["SAFEWALK_TRUSTED_PROXIES"] = args.trusted_proxies
        if "timeout_worker_healthcheck" in inspect.signature(uvicorn.run).parameters:
            # uvicorn restarts a worker that does not answer its ping within 5 s; importing the
            # app takes longer than that on a busy machine, and the restart starts over.
            options["timeout_worker_healthcheck"] = 60
        uvicorn.run("api.cli:worker_app", factory=True, workers=args.workers, **options)
    else:
        uvicorn.run(app, **options)
    return 0


def cmd_import_assets(args: argparse.Namespace) -> int:
    from api.assets import service as assets
    from api.assets.importer import ImportOptions
    from api.auth import organizations

    path = Path(args.file)
    try:
        data = path.read_bytes()
    except OSError as exc:
        print(f"error: cannot read {path}: {exc}", file=sys.stderr)
        return 1
    options = ImportOptions(
        args.id_property, args.owner_property, args.crs, args.x_column, args.y_column
    )
    try:
        with _one_session() as session:
            org = organizations.only_or_named(session, args.org)
            report = assets.import_assets(
                session, org.id, data, path.name, kind=args.kind, options=options,
                full=args.full, skip_invalid=args.skip_invalid,
            )  # fmt: skip
    except DomainError as exc:
        for err in exc.errors or []:
            where = err["loc"][-1]
            print(f"error: {'feature ' if isinstance(where, int) else ''}{where}: {err['msg']}",
                  file=sys.stderr)  # fmt: skip
        if exc.errors and isinstance(exc.errors[0]["loc"][-1], int):
            print(
                "nothing was imported (use --skip-invalid to import the valid features)",
                file=sys.stderr,
            )
        elif not exc.errors:
            print(f"error: {exc.detail}", file=sys.stderr)
        return 1
    for refusal in report.refused:
        print(f"feature {refusal.feature}: skipped: {refusal.reason}")
    print(
        f"{report.created} created, {report.updated} updated, {report.removed} removed, "
        f"{len(report.refused)} refused"
    )
    return 0


def cmd_import_areas(args: argparse.Namespace) -> int:
    from api.areas import service as areas
    from api.auth import organizations
    from models import AreaKind

    path = Path(args.file)
    try:
        collection = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        print(f"error: cannot read {path}: {exc}", file=sys.stderr)
        return 1
    try:
        with _one_session() as session:
            org = organizations.only_or_named(session, args.org)
            report = areas.import_areas(
                session,
                org,
                collection,
                name_property=args.name_property,
                kind=AreaKind(args.kind),
                skip_invalid=args.skip_invalid,
            )
    except DomainError as exc:
        for err in exc.errors or []:
            print(f"error: feature {err['loc'][2]}: {err['msg']}", file=sys.stderr)
        if not exc.errors:
            print(f"error: {exc.detail}", file=sys.stderr)
        else:
            print(
                "nothing was imported (use --skip-invalid to import the valid features)",
                file=sys.stderr,
            )
        return 1
    for issue in report.repaired:
        print(f"feature {issue.index}: {issue.reason}")
    for issue in report.refused:
        print(f"feature {issue.index}: skipped: {issue.reason}")
    print(
        f"{report.created} areas created, {report.updated} updated, {len(report.refused)} skipped"
    )
    return 0


def cmd_basemap_import(args: argparse.Namespace) -> int:
    from api.outputs.basemap import service as basemap

    if args.org:
        # Only an organization that exists gets a basemap of its own.
        from api.auth import organizations

        with _one_session() as session:
            organizations.only_or_named(session, args.org)
    try:
        target, info = basemap.import_file(Path(args.file), get_settings().data_dir, args.org)
    except basemap.BasemapError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    kind = "raster" if info.raster else "vector"
    whose = f"organization {args.org!r}" if args.org else "every organization without its own"
    print(
        f"basemap for {whose}: {kind} tiles ({info.format}), zoom {info.minzoom}-{info.maxzoom}, "
        f"stored as {target}"
    )
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from api.jobs import demo

    with _one_session(migrate=True) as session:
        result = demo.load_demo(session, password=args.password)
    if demo.write_demo_basemap(get_settings().data_dir) is not None:
        print("demo basemap drawn (streets of the demo town, served from this service)")
    # The generated password is kept (development data only) so later runs can say it again.
    logins = get_settings().data_dir / "demo-logins.txt"
    if result is None:
        print("the demo organization is already there")
    else:
        print(
            f"demo organization {result.org_slug!r}: {result.areas} areas, 1 walk, "
            f"{result.observations} observations"
        )
        logins.parent.mkdir(parents=True, exist_ok=True)
        logins.write_text(
            "".join(f"{email} / {result.password}\n" for email in result.emails), encoding="utf-8"
        )
        logins.chmod(0o600)
    if logins.exists():
        for line in logins.read_text(encoding="utf-8").splitlines():
            print(f"  log in as {line}")
    _print_active_walk(args)
    return 0


def cmd_open311_sync(args: argparse.Namespace) -> int:
    from api.outputs.open311.client import sync

    engine, factory = _session_factory()
    try:
        report = sync(factory, allow_private=get_settings().webhook_allow_private)
    finally:
        engine.dispose()
    print(
        f"open311: {report.queued} queued, {report.sent} sent, {report.failed} failed "
        f"(kept for retry), {report.resolved} resolved by the case system"
    )
    for error in report.errors:
        print(f"  {error}", file=sys.stderr)
    return 0


def cmd_notify(_args: argparse.Namespace) -> int:
    from api.jobs.notify import run_once, summary

    engine, factory = _session_factory()
    try:
        report = run_once(factory, get_settings())
    finally:
        engine.dispose()
    print(f"notices: {summary(report)}")
    for error in report.errors[:20]:
        print(f"  {error}", file=sys.stderr)
    return 0


def _print_active_walk(args: argparse.Namespace) -> None:
    """The demo's open walk: its join link and QR code, to try the field app from a phone."""
    from api.jobs import demo
    from api.walks.joinlink import join_url, public_base, terminal_qr

    settings = get_settings()
    with _one_session() as session:
        walk = demo.ensure_active_walk(session)
        if walk is None:
            return
        title, code = walk.title, walk.join_code
    url = join_url(public_base(args.host, args.port, settings.public_url), code)
    print(f"\nwalk {title!r} is open for joining: code {code}")
    print(f"  field app: {url}")
    if args.host in ("127.0.0.1", "localhost"):
        print("  (for a phone on the same Wi-Fi: make run HOST=0.0.0.0)")
    print(terminal_qr(url))


def cmd_purge(args: argparse.Namespace) -> int:
    from api.core.media import MediaStore
    from api.privacy import retention

    settings = get_settings()
    engine, factory = _session_factory()
    try:
        report = retention.purge(
            factory,
            MediaStore(settings.resolved_media_dir),
            org_slug=args.org,
            dry_run=args.dry_run,
        )
    finally:
        engine.dispose()
    verb = "would be" if report.dry_run else "were"
    for o in report.organizations:
        r = o.removal
        print(
            f"{o.slug}: {r.notes} notes cleared, {r.photos} photos deleted ({r.files} files), "
            f"{r.participants} participants anonymized"
            + (" (dry run: nothing changed)" if report.dry_run else "")
        )
    if report.sweep is not None:
        s = report.sweep
        print(
            f"media: {s.orphan_files} orphaned files and {s.leftover_files} leftover temporary "
            f"files {verb} deleted; {s.young_files} younger than the grace period kept"
        )
        if s.missing:
            print(f"media: {len(s.missing)} photos have missing files:", file=sys.stderr)
            for photo_id in s.missing:
                print(f"  {photo_id}", file=sys.stderr)
    if not report.changed:
        print("nothing to purge")
    return 0


def cmd_maintain(_args: argparse.Namespace) -> int:
    from api.jobs.maintain import maintain

    engine = create_db_engine(get_settings().resolved_owner_database_url)
    try:
        for step in maintain(engine):
            print(step.message)
    finally:
        engine.dispose()
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    from api.jobs.backup import backup

    m = backup(get_settings(), Path(args.dir))
    print(f"{m.database} database (schema {', '.join(m.schema)}) and {m.media_files} media files")
    print(f"backed up to {args.dir}")
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from api.jobs.backup import restore

    m = restore(get_settings(), Path(args.dir), replace=args.replace)
    print(f"restored the {m.database} database of {m.created_at} and {m.media_files} media files")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="safewalk", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("init", help="migrate, create an organization, its admin and categories")
    p.add_argument("--org", required=True, help="organization name, e.g. 'Sandnes kommune'")
    p.add_argument("--slug", help="short id (default: from the name)")
    p.add_argument("--admin-email", required=True)
    p.add_argument("--admin-password", required=True)
    p.set_defaults(func=cmd_init)

    p = sub.add_parser("serve", help="run the HTTP API")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--no-migrate", action="store_true", help="do not upgrade the schema first")
    p.add_argument(
        "--workers",
        type=int,
        default=1,
        help="worker processes (uvicorn's); more than 1 needs a database that several "
        "processes share well (PostgreSQL)",
    )
    p.add_argument(
        "--trusted-proxies",
        help="addresses/CIDRs of reverse proxies whose X-Forwarded-For is believed "
        "(default: SAFEWALK_TRUSTED_PROXIES; empty: the socket's address counts)",
    )
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("migrate", help="upgrade the database schema to the latest version")
    p.set_defaults(func=cmd_migrate)

    p = sub.add_parser("import-areas", help="import polygons from a GeoJSON FeatureCollection")
    p.add_argument("file")
    p.add_argument("--org", help="organization slug (default: the only one)")
    p.add_argument("--name-property", help="feature property holding the area name")
    p.add_argument(
        "--kind", default="neighbourhood", choices=["district", "neighbourhood", "custom"]
    )
    p.add_argument(
        "--skip-invalid", action="store_true", help="import the valid features, skip the rest"
    )
    p.set_defaults(func=cmd_import_areas)

    p = sub.add_parser(
        "import-assets", help="import point assets (street lights) from GeoJSON, GPKG or CSV"
    )
    p.add_argument("file")
    p.add_argument("--kind", default="street_light", help="asset kind (default: street_light)")
    p.add_argument("--org", help="organization slug (default: the only one)")
    p.add_argument("--id-property", help="property holding the lamp number or NVDB id")
    p.add_argument("--owner-property", help="property holding the owner (Eier)")
    p.add_argument("--crs", help="the file's CRS, e.g. EPSG:25833 or EPSG:5973 (CSV: default 4326)")
    p.add_argument("--x-column", help="CSV column of lon or easting")
    p.add_argument("--y-column", help="CSV column of lat or northing")
    p.add_argument(
        "--full", action="store_true", help="assets of the kind missing from the file are removed"
    )
    p.add_argument(
        "--skip-invalid", action="store_true", help="import the valid features, skip the rest"
    )
    p.set_defaults(func=cmd_import_assets)
    p = sub.add_parser("basemap", help="the maps' basemap, served from this service")
    basemap_sub = p.add_subparsers(dest="basemap_command", required=True)
    p = basemap_sub.add_parser(
        "import", help="an MBTiles or PMTiles file (raster or vector tiles) becomes the basemap"
    )
    p.add_argument("file")
    p.add_argument("--org", help="organization slug (default: the basemap of every organization)")
    p.set_defaults(func=cmd_basemap_import)

    p = sub.add_parser("demo", help="load a demo organization with a realistic walk")
    p.add_argument(
        "--password", default=None, help="password for the demo accounts (default: generated)"
    )
    p.add_argument("--host", default="127.0.0.1", help="where the server will listen (for links)")
    p.add_argument("--port", type=int, default=8000, help="where the server will listen")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser(
        "open311-sync", help="send items to the Open311 case system and read its updates, once"
    )
    p.set_defaults(func=cmd_open311_sync)
    p = sub.add_parser(
        "notify", help="send waiting notice mails, digests and webhook deliveries, once"
    )
    p.set_defaults(func=cmd_notify)
    p = sub.add_parser(
        "purge",
        help="apply the retention settings and sweep orphaned media files (idempotent)",
    )
    p.add_argument("--org", help="organization slug (default: every organization, and the sweep)")
    p.add_argument("--dry-run", action="store_true", help="count what would go; change nothing")
    p.set_defaults(func=cmd_purge)
    p = sub.add_parser(
        "maintain",
        help="cluster the observation table on its spatial index (PostgreSQL; at a quiet hour)",
    )
    p.set_defaults(func=cmd_maintain)

    p = sub.add_parser("backup", help="snapshot the database and the media into a new directory")
    p.add_argument("dir")
    p.set_defaults(func=cmd_backup)

    p = sub.add_parser("restore", help="put a snapshot made by 'backup' back")
    p.add_argument("dir")
    p.add_argument(
        "--replace", action="store_true", help="overwrite a database that has a schema, and media"
    )
    p.set_defaults(func=cmd_restore)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except SpatiaLiteMissing as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except DomainError as exc:
        print(f"error: {exc.detail}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
