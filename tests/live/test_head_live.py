"""HEAD as GDAL sends it: ``/vsicurl/`` asks HEAD first (size, type), then GETs. A real
``safewalk serve`` on a loopback port, read by the installed ``ogrinfo`` and ``gdalinfo``:
the public feed and a photo through ``/vsicurl/``, a streamed staff feed (with a Bearer
header) through ``/vsicurl_streaming/``."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from api.core.db import create_db_engine, make_sessionmaker
from models import Role, utcnow
from tests.factories import PASSWORD, make_area, make_org, make_user, make_walk
from tests.factories.live_server import LiveServer
from tests.factories.photos import plain_jpeg

pytestmark = pytest.mark.skipif(
    shutil.which("ogrinfo") is None or shutil.which("gdalinfo") is None,
    reason="gdal-bin (ogrinfo, gdalinfo) not installed",
)


@dataclass
class Served:
    base: str
    bearer: str
    photo_id: str


@pytest.fixture
def served(migrated_db_url: str, tmp_path: Path) -> Iterator[Served]:
    engine = create_db_engine(migrated_db_url)
    with make_sessionmaker(engine)() as s:
        org = make_org(s, "Sandnes")
        org.public_followup = True
        walk = make_walk(s, org, area=make_area(s, org))
        user = make_user(s, org, Role.coordinator)
        s.commit()
        email, walk_id = user.email, str(walk.id)
    engine.dispose()
    with (
        LiveServer(migrated_db_url, tmp_path / "live") as server,
        httpx.Client(base_url=server.base, timeout=30) as http,
    ):
        token = http.post(
            "/api/v1/auth/token", data={"username": email, "password": PASSWORD}
        ).json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        obs_id = str(uuid.uuid4())
        res = http.put(
            f"/api/v1/observations/{obs_id}",
            headers=auth,
            json={
                "walk_id": walk_id,
                "category": "lighting",
                "location": {"type": "Point", "coordinates": [5.7352, 58.8517]},
                "recorded_at": (utcnow() - timedelta(minutes=5)).isoformat(),
            },
        )
        assert res.status_code == 201, res.text
        photo_id = str(uuid.uuid4())
        res = http.put(
            f"/api/v1/observations/{obs_id}/photos/{photo_id}",
            headers={**auth, "Content-Type": "image/jpeg"},
            content=plain_jpeg((640, 480)),
        )
        assert res.status_code == 201, res.text
        yield Served(server.base, token, photo_id)


def _gdal(
    tool: str, url: str, bearer: str | None = None, fs: str = "vsicurl"
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR"}
    if bearer:
        env["GDAL_HTTP_HEADERS"] = f"Authorization: Bearer {bearer}"
    args = [tool, "-ro", "-al", "-so"] if tool == "ogrinfo" else [tool]
    return subprocess.run(
        [*args, f"/{fs}/{url}"], capture_output=True, text=True, env=env, timeout=120
    )


def test_gdal_reads_feeds_and_photos_through_vsicurl(served: Served) -> None:
    feed = f"{served.base}/public/sandnes/action-items.geojson"
    head = httpx.head(feed)
    assert head.status_code == 200
    assert head.headers["content-type"] == "application/geo+json"
    assert head.headers["etag"] == httpx.get(feed).headers["etag"]
    assert head.content == b""

    public = _gdal("ogrinfo", feed)
    assert public.returncode == 0, public.stderr
    assert "Feature Count: 1" in public.stdout, public.stdout
    assert "ERROR" not in public.stderr, public.stderr

    # A streamed feed has no length to tell (chunked): /vsicurl/ wants one for its ranged
    # reads, /vsicurl_streaming/ reads it front to back, after the same HEAD.
    feed = f"{served.base}/api/v1/map/observations"
    head = httpx.head(feed, headers={"Authorization": f"Bearer {served.bearer}"})
    assert head.status_code == 200
    assert head.headers["content-type"] == "application/geo+json"
    assert head.content == b""
    staff = _gdal("ogrinfo", feed, served.bearer, fs="vsicurl_streaming")
    assert staff.returncode == 0, staff.stderr
    assert "Feature Count: 1" in staff.stdout, staff.stdout
    assert "ERROR" not in staff.stderr, staff.stderr

    photo = _gdal("gdalinfo", f"{served.base}/api/v1/photos/{served.photo_id}", served.bearer)
    assert photo.returncode == 0, photo.stderr
    assert "Driver: JPEG" in photo.stdout, photo.stdout
    assert "Size is 640, 480" in photo.stdout, photo.stdout
