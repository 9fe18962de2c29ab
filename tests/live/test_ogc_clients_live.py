"""Real clients against a real server: GDAL's OAPIF driver (the GDAL inside pyogrio) and
owslib's OGC API Features client, authenticated with a personal access token as the
password of HTTP Basic auth, as QGIS and GDAL_HTTP_USERPWD send it."""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from shapely.geometry import LineString

from api.auth import tokens as token_service
from api.core import spatial
from api.core.db import create_db_engine, make_sessionmaker
from models import Moderation, Role
from models.tokens import TokenCreate
from tests.factories import make_area, make_org, make_user, make_walk
from tests.factories.assets import make_lamp
from tests.factories.databases import DatabaseFactory
from tests.factories.live_server import LiveServer
from tests.factories.seed import Seeded, categories, seed

pyogrio = pytest.importorskip("pyogrio")

ROUTE = LineString([(5.729, 58.849), (5.735, 58.852), (5.741, 58.855)])
N_OBSERVATIONS = 3000  # three pages of GDAL's 1000


@dataclass
class Served:
    server: LiveServer
    secret: str
    data: Seeded
    visible_observations: set[str]

    @property
    def oapif(self) -> str:
        return f"OAPIF:{self.server.base}/ogc"


@pytest.fixture(scope="module")
def served(
    databases: DatabaseFactory, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    url = databases.migrated_url()
    engine = create_db_engine(url)
    with make_sessionmaker(engine)() as s:
        org = make_org(s, "Sandnes")
        area = make_area(s, org)
        walk = make_walk(s, org, area=area, route=spatial.to_db(ROUTE))
        make_walk(s, org, area=area, title="Not yet planned")  # no route: a null geometry
        planner = make_user(s, org, Role.planner)
        categories(s, org)["incident"].sensitive = True
        data = seed(s, org, walk, area, observations=N_OBSERVATIONS, items=40, sensitive="incident")
        # GDAL reads a layer's geometry type from its first features.
        for n, (lon, lat) in enumerate(ROUTE.coords):
            make_lamp(s, org, f"SND-{n:04d}", lon, lat)
        secret = token_service.create_token(s, planner, TokenCreate(name="QGIS")).secret
        s.commit()
    # Planners see them all, the sensitive ones generalised.
    visible = {str(k) for k in data.observations}
    with LiveServer(url, tmp_path_factory.mktemp("ogc-live")) as server:
        yield Served(server, secret, data, visible)
    engine.dispose()


@contextlib.contextmanager
def gdal_auth(secret: str) -> Iterator[None]:
    pyogrio.set_gdal_config_options({"GDAL_HTTP_USERPWD": f"planner:{secret}"})
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options({"GDAL_HTTP_USERPWD": None})


def _read(served: Served, layer: str, **kw: Any) -> tuple[dict[str, Any], Any, Any, Any]:
    with gdal_auth(served.secret):
        meta, fids, geoms, fields = pyogrio.raw.read(
            served.oapif, layer=layer, PAGE_SIZE="1000", **kw
        )
    return meta, fids, geoms, fields


def _column(meta: dict[str, Any], fields: Any, name: str) -> list[Any]:
    return list(fields[list(meta["fields"]).index(name)])


def test_gdal_lists_every_collection_with_its_geometry_type(served: Served) -> None:
    with gdal_auth(served.secret):
        layers = {name: kind for name, kind in pyogrio.list_layers(served.oapif)}
    assert layers == {
        "observations": "Point",
        "action-items": "Point",
        "areas": "MultiPolygon",
        "walks": "LineString",
        "street-lights": "Point",
    }


def test_gdal_reads_every_observation_once_across_pages(served: Served) -> None:
    meta, _, geoms, fields = _read(served, "observations")
    ids = _column(meta, fields, "id") if "id" in meta["fields"] else None
    assert meta["geometry_type"] == "Point"
    assert len(geoms) == len(served.visible_observations) > 2500
    if ids is not None:
        assert len(set(ids)) == len(ids)
        assert set(ids) == served.visible_observations
    with gdal_auth(served.secret):
        info = pyogrio.read_info(served.oapif, layer="observations", force_feature_count=True)
    assert info["features"] == len(geoms)  # numberMatched equals what was read
    pages = re.findall(r"GET /ogc/collections/observations/items\S*", served.server.log(tail=None))
    assert len(pages) >= 3


def test_gdal_pushes_where_down(served: Served) -> None:
    meta, _, geoms, fields = _read(served, "action-items", where="status = 'new'")
    expected = [i for i in served.data.items.values() if i["status"] == "new"]
    assert len(geoms) == len(expected) > 0
    assert set(_column(meta, fields, "status")) == {"new"}
    # The access line is written when the response has been sent: give it a moment.
    pattern = r"/ogc/collections/action-items/items\?[^ ]*(filter=|status=new)"
    deadline = time.monotonic() + 5
    while not re.search(pattern, log := served.server.log(tail=None)):
        assert time.monotonic() < deadline, log[-2000:]
        time.sleep(0.1)


def test_gdal_reads_each_collection(served: Served) -> None:
    for layer, kind, n in (
        ("action-items", "Point", len(served.data.items)),
        ("areas", "MultiPolygon", 1),
        ("walks", "LineString", 2),
    ):
        meta, _, geoms, _ = _read(served, layer)
        assert meta["geometry_type"] == kind
        assert len(geoms) == n


def test_gdal_without_a_token_is_refused(served: Served) -> None:
    with pytest.raises(pyogrio.errors.DataSourceError):
        pyogrio.list_layers(served.oapif)


def test_owslib_reads_collections_items_queryables_and_openapi(served: Served) -> None:
    from owslib.ogcapi.features import Features

    auth_headers = {"Authorization": f"Bearer {served.secret}"}
    api = Features(f"{served.server.base}/ogc", headers=auth_headers)
    ids = {c["id"] for c in api.collections()["collections"]}
    assert ids == {"observations", "action-items", "areas", "walks", "street-lights"}
    assert (
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core"
        in api.conformance()["conformsTo"]
    )
    items = api.collection_items("observations", limit=50)
    assert items["numberReturned"] == 50
    assert items["numberMatched"] == len(served.visible_observations)
    q = api.collection_queryables("observations")
    assert "status" in q["properties"]
    assert "geometry" in q["properties"]
    doc = api.api()
    assert doc["openapi"].startswith("3.0")
    assert "/collections/observations/items" in doc["paths"]
    accepted = api.collection_items("observations", limit=10, status="accepted")
    assert all(f["properties"]["status"] == str(Moderation.accepted) for f in accepted["features"])


def test_basic_auth_token_via_httpx(served: Served, tmp_path: Path) -> None:
    import httpx

    r = httpx.get(f"{served.server.base}/ogc", auth=("anyone", served.secret))
    assert r.status_code == 200
    r = httpx.get(f"{served.server.base}/ogc", auth=("anyone", "swpat_wrong"))
    assert r.status_code == 401
    assert r.headers["www-authenticate"].startswith("Basic")
