"""The command line: init, a second organization, import-areas, demo, serve, purge, missing
SpatiaLite."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from api import cli
from api.core import db
from api.core.db import create_db_engine, make_sessionmaker
from api.core.media import MediaStore
from api.settings import get_settings
from models import ActionStatus, Area, Category, Observation, Organization, User
from tests.factories.databases import POSTGIS_ONLY
from tests.factories.ports import free_port
from tests.factories.retention import add_item, add_obs, add_photo, make_scene, on_disk

GOOD_RING = [[5.728, 58.848], [5.742, 58.848], [5.742, 58.856], [5.728, 58.856], [5.728, 58.848]]
BOW_TIE = [[5.70, 58.80], [5.71, 58.81], [5.71, 58.80], [5.70, 58.81], [5.70, 58.80]]


def _point_at(url: str, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("SAFEWALK_DATABASE_URL", url)
    monkeypatch.setenv("SAFEWALK_DATA_DIR", str(data_dir))
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


@pytest.fixture
def env(migrated_db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The commands' environment on a database at the latest schema: a copy of the template
    (0.1 s) instead of a migration per test (1-2 s). The commands still run their upgrade,
    which finds nothing to do; ``fresh_env`` is for the tests of a command on an empty one."""
    yield from _point_at(migrated_db_url, tmp_path, monkeypatch)


@pytest.fixture
def fresh_env(fresh_db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The commands' environment on an empty database: they migrate it themselves."""
    yield from _point_at(fresh_db_url, tmp_path, monkeypatch)


def _count(url: str, model: Any, *where: Any) -> int:
    engine = create_db_engine(url)
    try:
        with make_sessionmaker(engine)() as s:
            return int(s.scalar(select(func.count()).select_from(model).where(*where)) or 0)
    finally:
        engine.dispose()


def _init(org: str, email: str) -> int:
    return cli.main(
        ["init", "--org", org, "--admin-email", email, "--admin-password", "correct horse battery"]
    )


def test_init_creates_org_admin_and_categories_and_a_second_org(fresh_env: str) -> None:
    env = fresh_env
    assert _init("Sandnes kommune", "admin@sandnes.no") == 0
    assert _count(env, Organization) == 1
    assert _count(env, User) == 1
    assert _count(env, Category) == 15
    assert _init("Bærum kommune", "admin@baerum.no") == 0
    assert _count(env, Organization) == 2
    assert _count(env, Category) == 30
    assert _count(env, Organization, Organization.slug == "baerum-kommune") == 1


def test_init_twice_with_the_same_org_is_refused(
    env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _init("Sandnes", "a@sandnes.no") == 0
    assert _init("Sandnes", "b@sandnes.no") == 1
    assert "already exists" in capsys.readouterr().err
    assert _count(env, User) == 1  # nothing half-written


def _write(tmp_path: Path, features: list[dict[str, Any]]) -> str:
    path = tmp_path / "areas.geojson"
    path.write_text(
        json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8"
    )
    return str(path)


def _feature(name: str, geometry: dict[str, Any]) -> dict[str, Any]:
    return {"type": "Feature", "properties": {"navn": name}, "geometry": geometry}


def test_import_areas_valid_file(
    env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _init("Sandnes", "a@sandnes.no")
    path = _write(
        tmp_path,
        [
            _feature("Sentrum", {"type": "Polygon", "coordinates": [GOOD_RING]}),
            _feature("Øksnevad", {"type": "MultiPolygon", "coordinates": [[GOOD_RING]]}),
        ],
    )
    assert cli.main(["import-areas", path, "--name-property", "navn"]) == 0
    assert "2 areas created" in capsys.readouterr().out
    assert _count(env, Area) == 2
    # Importing again updates by name instead of doubling.
    assert cli.main(["import-areas", path, "--name-property", "navn"]) == 0
    assert _count(env, Area) == 2


def test_import_areas_repairs_an_invalid_ring(
    env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _init("Sandnes", "a@sandnes.no")
    path = _write(tmp_path, [_feature("Bow", {"type": "Polygon", "coordinates": [BOW_TIE]})])
    assert cli.main(["import-areas", path, "--name-property", "navn"]) == 0
    out = capsys.readouterr().out
    assert "feature 0: invalid geometry repaired" in out
    assert _count(env, Area) == 1


def test_import_areas_refuses_a_non_polygon_with_index_and_reason(
    env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _init("Sandnes", "a@sandnes.no")
    features = [
        _feature("Sentrum", {"type": "Polygon", "coordinates": [GOOD_RING]}),
        _feature("Bus stop", {"type": "Point", "coordinates": [5.73, 58.85]}),
    ]
    path = _write(tmp_path, features)
    assert cli.main(["import-areas", path, "--name-property", "navn"]) == 1
    err = capsys.readouterr().err
    assert "feature 1:" in err
    assert "Point is not allowed" in err
    assert _count(env, Area) == 0  # all or nothing
    assert cli.main(["import-areas", path, "--name-property", "navn", "--skip-invalid"]) == 0
    assert _count(env, Area) == 1


def test_import_areas_unreadable_file(
    env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _init("Sandnes", "a@sandnes.no")
    bad = tmp_path / "bad.geojson"
    bad.write_text("{not json", encoding="utf-8")
    assert cli.main(["import-areas", str(bad)]) == 1
    assert "cannot read" in capsys.readouterr().err


def test_missing_spatialite_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(db, "SPATIALITE_CANDIDATES", ["/nonexistent/mod_spatialite"])
    monkeypatch.delenv("SPATIALITE_LIBRARY_PATH", raising=False)
    monkeypatch.setenv("SAFEWALK_DATABASE_URL", f"sqlite:///{tmp_path}/x.db")
    get_settings.cache_clear()
    try:
        assert cli.main(["migrate"]) == 2
    finally:
        get_settings.cache_clear()
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "apt-get install libsqlite3-mod-spatialite" in err


def test_serve_answers_health_checks(fresh_env: str, tmp_path: Path) -> None:
    env = fresh_env  # serve upgrades an empty database before it listens
    port = free_port()
    environ = {**os.environ, "SAFEWALK_DATABASE_URL": env, "SAFEWALK_DATA_DIR": str(tmp_path)}
    log = (tmp_path / "serve.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "serve", "--port", str(port)],
        env=environ,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    # One client for every poll: httpx.get() builds an SSL context each time (25 ms of CPU).
    probe = httpx.Client(timeout=2)
    try:
        # The schema upgrade (a process of its own) and the app's imports; on a busy machine
        # (two test workers on two cores, or more) that takes tens of seconds.
        deadline = time.monotonic() + 120
        while True:
            try:
                r = probe.get(f"http://127.0.0.1:{port}/readyz")
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.2)
        assert r.status_code == 200
        assert probe.get(f"http://127.0.0.1:{port}/docs").status_code == 200
    finally:
        probe.close()
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


def _workers(pid: int) -> int:
    """Children of ``pid`` that are multiprocessing workers (not its resource tracker)."""
    kids: list[str] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        kids += (task / "children").read_text().split()
    return sum(b"spawn_main" in Path(f"/proc/{k}/cmdline").read_bytes() for k in kids)


# Several workers are for PostgreSQL (README); one slow process start is enough here.
@POSTGIS_ONLY
def test_serve_with_workers_runs_that_many_worker_processes(env: str, tmp_path: Path) -> None:
    port = free_port()
    environ = {**os.environ, "SAFEWALK_DATABASE_URL": env, "SAFEWALK_DATA_DIR": str(tmp_path)}
    log = (tmp_path / "serve.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "serve", "--port", str(port), "--workers", "2"],
        env=environ,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    probe = httpx.Client(timeout=1)  # one client for every poll, as above
    try:
        # Each worker imports the whole app; on a busy machine that takes tens of seconds.
        deadline = time.monotonic() + 120
        while True:
            try:
                r = probe.get(f"http://127.0.0.1:{port}/readyz")
                if r.status_code == 200 and _workers(proc.pid) == 2:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                pytest.fail((tmp_path / "serve.log").read_text())
            time.sleep(0.2)
        # Both workers answer on the one port, each with an app built from the environment
        # (a connection per request, so that the kernel spreads them over the workers).
        for _ in range(6):
            assert (
                httpx.get(f"http://127.0.0.1:{port}/api/v1/categories", timeout=5).status_code
                == 401
            )
    finally:
        probe.close()
        proc.terminate()
        proc.wait(timeout=20)
        log.close()


def test_demo_loads_once_with_an_active_walk_its_join_link_and_qr_code(
    env: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from api.walks import joinlink
    from models import Walk, WalkStatus

    monkeypatch.setattr(joinlink, "lan_address", lambda: "192.168.1.20")
    assert cli.main(["demo", "--host", "0.0.0.0", "--port", "8123"]) == 0
    out = capsys.readouterr().out
    assert "log in as admin@demo.safewalk.local" in out
    assert _count(env, Observation) > 10
    assert _count(env, Area) == 3
    assert _count(env, Walk, Walk.status == WalkStatus.active) == 1
    link = next(line for line in out.splitlines() if "field app:" in line).split()[-1]
    assert link.startswith("http://192.168.1.20:8123/j/")
    assert "█" in out  # the QR code, drawn in the terminal
    # Run again: nothing loaded twice, the logins said again, the same walk and link.
    assert cli.main(["demo"]) == 0
    again = capsys.readouterr().out
    assert "already there" in again
    assert "log in as admin@demo.safewalk.local" in again
    assert _count(env, Organization) == 1
    assert link.rsplit("/", 1)[-1] in again
    assert "http://127.0.0.1:8000/j/" in again
    assert "HOST=0.0.0.0" in again
    assert _count(env, Walk, Walk.status == WalkStatus.active) == 1


def test_purge_dry_run_then_for_real_then_nothing(
    env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["migrate"]) == 0
    engine = create_db_engine(env)
    try:
        with make_sessionmaker(engine)() as s:
            scene = make_scene(s, tmp_path)  # settings: photos 30 d, notes 60 d, names 10 d
            item = add_item(s, scene.org, ActionStatus.resolved, scene.t0)
            add_photo(s, scene.store, add_obs(s, scene, item=item), "old")
            s.commit()
            slug = scene.org.slug
    finally:
        engine.dispose()
    store = MediaStore(tmp_path / "media")
    orphan = store.path(store.put(b"nobody names me", "original.jpg"))
    two_hours_ago = time.time() - 7200
    os.utime(orphan, (two_hours_ago, two_hours_ago))
    files = on_disk(store)
    assert len(files) == 4
    capsys.readouterr()

    assert cli.main(["purge", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert (
        f"{slug}: 1 notes cleared, 1 photos deleted (3 files), 1 participants anonymized "
        "(dry run: nothing changed)"
    ) in out
    assert "media: 1 orphaned files and 0 leftover temporary files would be deleted" in out
    assert on_disk(store) == files

    assert cli.main(["purge"]) == 0
    out = capsys.readouterr().out
    assert f"{slug}: 1 notes cleared, 1 photos deleted (3 files), 1 participants anonymized" in out
    assert "media: 1 orphaned files and 0 leftover temporary files were deleted" in out
    assert on_disk(store) == set()

    assert cli.main(["purge", "--org", slug]) == 0
    out = capsys.readouterr().out
    assert f"{slug}: 0 notes cleared, 0 photos deleted (0 files), 0 participants anonymized" in out
    assert "nothing to purge" in out
    assert cli.main(["purge", "--org", "nowhere"]) == 1
    assert "no organization with slug 'nowhere'" in capsys.readouterr().err


def test_maintain_clusters_on_postgresql_and_says_so_on_sqlite(
    env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["migrate"]) == 0
    capsys.readouterr()
    assert cli.main(["maintain"]) == 0
    out = capsys.readouterr().out
    engine = create_db_engine(env)
    try:
        if engine.dialect.name == "sqlite":
            assert "observation: nothing to do on SQLite" in out
        else:
            assert "observation: clustered on idx_observation_location and analysed" in out
            with engine.connect() as conn:
                clustered = (
                    conn.exec_driver_sql(
                        "SELECT i.relname FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
                        "WHERE x.indrelid = 'observation'::regclass AND x.indisclustered"
                    )
                    .scalars()
                    .all()
                )
            assert clustered == ["idx_observation_location"]
    finally:
        engine.dispose()
