"""Importing a lamp register: three formats, three CRSs, re-import, removal and refusal."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import Asset
from tests.factories.assets import Lamp, csv_file, geojson_file, gpkg_file
from tests.factories.client import SyncClient
from tests.factories.observations import near
from tests.factories.world import World

LAMPS: list[Lamp] = [
    ("L-1", *near(0, 0), "Kommune"),
    ("L-2", *near(30, 0), "Rogaland fylkeskommune"),
    ("L-3", *near(60, 10), "Statens vegvesen"),
    ("L-4", *near(90, -5), "Privat"),
]


def upload(client: SyncClient, world: World, content: bytes, name: str, **form: Any) -> Any:
    data = {"kind": "street_light", **{k: str(v).lower() if isinstance(v, bool) else v
                                       for k, v in form.items()}}  # fmt: skip
    return client.post(
        "/api/v1/assets/import",
        files={"file": (name, content, "application/octet-stream")},
        data=data,
        headers=world.headers("coordinator"),
    )


def stored(client: SyncClient, world: World) -> dict[str, dict[str, Any]]:
    res = client.get("/api/v1/assets?limit=1000", headers=world.headers("engineer"))
    assert res.status_code == 200, res.text
    return {a["external_id"]: a for a in res.json()["items"]}


FILES = [
    pytest.param(lambda: geojson_file(LAMPS), "lamps.geojson", {}, id="geojson-wgs84"),
    pytest.param(
        lambda: geojson_file(LAMPS, "EPSG:25832"), "lamps.geojson", {}, id="geojson-25832"
    ),
    pytest.param(lambda: gpkg_file(LAMPS, "EPSG:25833"), "lamps.gpkg", {}, id="gpkg-25833"),
    pytest.param(lambda: gpkg_file(LAMPS, "EPSG:4326"), "lamps.gpkg", {}, id="gpkg-wgs84"),
    pytest.param(lambda: csv_file(LAMPS), "lamps.csv", {}, id="csv-lonlat"),
    pytest.param(
        lambda: csv_file(LAMPS, "EPSG:25833"), "lamps.csv", {"crs": "EPSG:5973"}, id="csv-5973"
    ),
    pytest.param(
        lambda: csv_file(LAMPS, "EPSG:25832"),
        "lamps.csv",
        {"crs": "EPSG:25832", "x_column": "east", "y_column": "north"},
        id="csv-25832",
    ),  # fmt: skip
]


@pytest.mark.parametrize(("content", "name", "form"), FILES)
def test_import_in_every_format_and_crs(
    client: SyncClient, world: World, content: Any, name: str, form: dict[str, str]
) -> None:
    res = upload(client, world, content(), name, **form)
    assert res.status_code == 200, res.text
    assert res.json() == {"created": 4, "updated": 0, "removed": 0, "refused": []}
    assets = stored(client, world)
    assert set(assets) == {"L-1", "L-2", "L-3", "L-4"}
    for number, lon, lat, _ in LAMPS:
        got = assets[number]["location"]["coordinates"]
        # Through UTM and back: well under a millimetre (6 decimals are ~5 cm).
        assert got == pytest.approx([lon, lat], abs=2e-6)
    owners = {n: (a["owner"], a["owner_name"]) for n, a in assets.items()}
    assert owners == {
        "L-1": ("municipality", "Kommune"),
        "L-2": ("county", "Rogaland fylkeskommune"),
        "L-3": ("state_roads", "Statens vegvesen"),
        "L-4": ("private", "Privat"),
    }
    assert all(a["status"] == "in_service" for a in assets.values())


def test_reimport_updates_by_id_and_a_full_import_removes_the_missing(
    client: SyncClient, world: World
) -> None:
    assert upload(client, world, geojson_file(LAMPS), "a.geojson").status_code == 200
    moved = [("L-1", *near(5, 5), "Kommune"), ("L-2", *near(30, 0), "Kommune"), LAMPS[2]]
    res = upload(client, world, geojson_file(moved), "b.geojson", full=True)
    assert res.status_code == 200, res.text
    assert res.json() == {"created": 0, "updated": 3, "removed": 1, "refused": []}
    assets = stored(client, world)
    assert assets["L-1"]["location"]["coordinates"] == pytest.approx(near(5, 5), abs=2e-6)
    assert assets["L-2"]["owner"] == "municipality"
    assert assets["L-4"]["status"] == "removed"
    assert assets["L-1"]["properties"] == {"armatur": "LED 24W"}
    # Not full: what is missing stays as it is.
    res = upload(client, world, geojson_file([LAMPS[0]]), "c.geojson")
    assert res.json() == {"created": 0, "updated": 1, "removed": 0, "refused": []}
    in_service = client.get(
        "/api/v1/assets?status=in_service&owner=municipality", headers=world.headers("engineer")
    ).json()["items"]
    assert {a["external_id"] for a in in_service} == {"L-1", "L-2"}


def test_a_refused_feature_writes_nothing_unless_skip_invalid(
    client: SyncClient, world: World, session: Session
) -> None:
    bad = csv_file(LAMPS).decode().splitlines()
    bad[3] = "L-3;not-a-number;58.85;Kommune"
    bad.append("L-1;5.7;58.85;Kommune")  # the same lamp number twice
    content = ("\n".join(bad) + "\n").encode()
    res = upload(client, world, content, "lamps.csv")
    assert res.status_code == 422, res.text
    body = res.json()
    assert body["created"] == 0
    assert [r["feature"] for r in body["refused"]] == [3, 5]
    assert "not a number" in body["refused"][0]["reason"]
    count = select(func.count()).select_from(Asset).where(Asset.organization_id == world.org.id)
    assert session.scalar(count) == 0
    res = upload(client, world, content, "lamps.csv", skip_invalid=True)
    assert res.status_code == 200, res.text
    assert res.json()["created"] == 3
    assert [r["feature"] for r in res.json()["refused"]] == [3, 5]


@pytest.mark.parametrize(
    ("content", "form", "field"),
    [
        pytest.param(b"{not json", {}, "file", id="broken-json"),
        pytest.param(b"a;b\n1;2\n", {}, "x_column", id="csv-without-coordinates"),
        pytest.param(csv_file(LAMPS), {"crs": "EPSG:999999"}, "crs", id="unknown-crs"),
    ],
)
def test_a_file_that_cannot_be_read_is_a_422_naming_the_field(
    client: SyncClient, world: World, content: bytes, form: dict[str, str], field: str
) -> None:
    res = upload(client, world, content, "x.csv" if field != "file" else "x.json", **form)
    assert res.status_code == 422, res.text
    assert res.json()["errors"][0]["loc"] == ["body", field]


def test_only_coordinators_import_and_other_organizations_see_nothing(
    client: SyncClient, world: World
) -> None:
    res = client.post(
        "/api/v1/assets/import",
        files={"file": ("a.geojson", geojson_file(LAMPS), "application/geo+json")},
        data={"kind": "street_light"},
        headers=world.headers("engineer"),
    )
    assert res.status_code == 403
    assert upload(client, world, geojson_file(LAMPS), "a.geojson").status_code == 200
    one = next(iter(stored(client, world).values()))
    foreign = world.headers("foreign_admin")
    assert client.get(f"/api/v1/assets/{one['id']}", headers=foreign).status_code == 404
    assert client.get("/api/v1/assets", headers=foreign).json()["items"] == []
