"""The street-light register through OGC API – Features, read by owslib from a real server
with a personal access token, and by GDAL's OAPIF driver."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from api.auth import tokens as token_service
from api.core.db import create_db_engine, make_sessionmaker
from api.core.migrate import upgrade
from models import AssetOwner, AssetStatus, Role
from models.tokens import TokenCreate
from tests.factories import make_org, make_user
from tests.factories.assets import make_lamp
from tests.factories.databases import DatabaseFactory
from tests.factories.live_server import LiveServer
from tests.factories.observations import near


@dataclass
class Served:
    server: LiveServer
    secret: str


@pytest.fixture(scope="module")
def served(
    databases: DatabaseFactory, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    url = databases.new_url()
    upgrade(url)
    engine = create_db_engine(url)
    with make_sessionmaker(engine)() as s:
        org = make_org(s, "Sandnes")
        other = make_org(s, "Stavanger")
        for n in range(12):
            owner = AssetOwner.county if n % 4 == 0 else AssetOwner.municipality
            make_lamp(s, org, f"SL-{n:03d}", *near(n * 20, 0), owner=owner)
        make_lamp(s, org, "GONE", *near(0, 40), status=AssetStatus.removed)
        make_lamp(s, other, "THEIRS", *near(0, 10))
        planner = make_user(s, org, Role.planner)
        secret = token_service.create_token(s, planner, TokenCreate(name="QGIS")).secret
        s.commit()
    with LiveServer(url, tmp_path_factory.mktemp("lights-live")) as server:
        yield Served(server, secret)
    engine.dispose()


def test_owslib_reads_the_street_lights_collection(served: Served) -> None:
    from owslib.ogcapi.features import Features

    api = Features(
        f"{served.server.base}/ogc", headers={"Authorization": f"Bearer {served.secret}"}
    )
    assert "street-lights" in {c["id"] for c in api.collections()["collections"]}
    meta = api.collection("street-lights")
    assert meta["title"] == "Street lights"
    items = api.collection_items("street-lights", limit=5)
    assert items["numberReturned"] == 5
    assert items["numberMatched"] == 12  # not the removed lamp, not another organization's
    every = api.collection_items("street-lights", limit=100)["features"]
    assert {f["properties"]["external_id"] for f in every} == {f"SL-{n:03d}" for n in range(12)}
    assert all(f["geometry"]["type"] == "Point" for f in every)
    q = api.collection_queryables("street-lights")
    assert {"external_id", "owner", "status"} <= set(q["properties"])
    county = api.collection_items("street-lights", limit=100, owner="county")["features"]
    assert sorted(f["properties"]["external_id"] for f in county) == ["SL-000", "SL-004", "SL-008"]


def test_gdal_reads_the_street_lights_layer(served: Served) -> None:
    pyogrio = pytest.importorskip("pyogrio")
    pyogrio.set_gdal_config_options({"GDAL_HTTP_USERPWD": f"planner:{served.secret}"})
    try:
        meta, _, geoms, fields = pyogrio.raw.read(
            f"OAPIF:{served.server.base}/ogc", layer="street-lights"
        )
    finally:
        pyogrio.set_gdal_config_options({"GDAL_HTTP_USERPWD": None})
    assert meta["geometry_type"] == "Point"
    assert len(geoms) == 12
    numbers = list(fields[list(meta["fields"]).index("external_id")])
    assert sorted(numbers) == [f"SL-{n:03d}" for n in range(12)]
