"""Areas: CRUD with GeoJSON geometry, repair and winding, parents, import, paging, walls."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import pytest
from shapely.geometry import shape
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.core import spatial
from models import ActionItem, Area, Observation
from tests.factories import make_area, make_category
from tests.factories.client import SyncClient
from tests.factories.world import World

URL = "/api/v1/areas"
ZERO = "00000000-0000-0000-0000-000000000000"

# Counter-clockwise exterior rings with 6-decimal coordinates: what goes in comes back.
POLYGON = {
    "type": "Polygon",
    "coordinates": [
        [[5.728123, 58.848001], [5.742456, 58.848001], [5.742456, 58.856789],
         [5.728123, 58.856789], [5.728123, 58.848001]],
    ],
}  # fmt: skip
MULTIPOLYGON = {
    "type": "MultiPolygon",
    "coordinates": [
        [
            [[5.70, 58.80], [5.71, 58.80], [5.71, 58.81], [5.70, 58.81], [5.70, 58.80]],
            # A hole, clockwise as RFC 7946 wants it.
            [[5.702, 58.802], [5.702, 58.804], [5.704, 58.804], [5.704, 58.802], [5.702, 58.802]],
        ],
        [[[5.72, 58.80], [5.73, 58.80], [5.73, 58.81], [5.72, 58.81], [5.72, 58.80]]],
    ],
}  # fmt: skip
CLOCKWISE_RING = [[5.70, 58.80], [5.70, 58.81], [5.71, 58.81], [5.71, 58.80], [5.70, 58.80]]
BOW_TIE = [[5.70, 58.80], [5.72, 58.82], [5.72, 58.80], [5.70, 58.82], [5.70, 58.80]]
GOOD_RING = [[5.74, 58.84], [5.75, 58.84], [5.75, 58.85], [5.74, 58.85], [5.74, 58.84]]


def _create(client: SyncClient, world: World, **body: Any) -> dict[str, Any]:
    payload = {"name": "Sandnes sentrum", "geometry": POLYGON, **body}
    r = client.post(URL, headers=world.headers("coordinator"), json=payload)
    assert r.status_code == 201, r.text
    data: dict[str, Any] = r.json()
    return data


def _all_names(client: SyncClient, world: World) -> list[str]:
    r = client.get(URL, headers=world.headers("admin"))
    assert r.status_code == 200, r.text
    return [a["name"] for a in r.json()["items"]]


@pytest.mark.parametrize(
    "geometry",
    [pytest.param(POLYGON, id="polygon"), pytest.param(MULTIPOLYGON, id="multipolygon")],
)
def test_crud_round_trip(client: SyncClient, world: World, geometry: dict[str, Any]) -> None:
    h = world.headers("coordinator")
    created = _create(client, world, code="SEN", kind="district", geometry=geometry)
    assert created["geometry"] == geometry
    assert created["code"] == "SEN"
    assert created["kind"] == "district"
    assert created["parent_id"] is None
    area_url = f"{URL}/{created['id']}"

    assert client.get(area_url, headers=h).json() == created

    r = client.patch(area_url, headers=h, json={"name": "Sentrum nord", "kind": "neighbourhood"})
    assert r.status_code == 200, r.text
    patched = r.json()
    assert patched["name"] == "Sentrum nord"
    assert patched["kind"] == "neighbourhood"
    assert patched["code"] == "SEN"  # not sent, not changed
    assert patched["geometry"] == geometry
    assert datetime.fromisoformat(patched["updated_at"]) > datetime.fromisoformat(
        created["updated_at"]
    )
    assert patched["created_at"] == created["created_at"]

    r = client.patch(area_url, headers=h, json={"geometry": POLYGON, "code": None})
    assert r.status_code == 200, r.text
    assert r.json()["geometry"] == POLYGON
    assert r.json()["code"] is None

    r = client.delete(area_url, headers=h)
    assert r.status_code == 204
    assert r.content == b""
    assert client.get(area_url, headers=h).status_code == 404


def test_clockwise_polygon_comes_back_counter_clockwise(client: SyncClient, world: World) -> None:
    area = _create(client, world, geometry={"type": "Polygon", "coordinates": [CLOCKWISE_RING]})
    ring = area["geometry"]["coordinates"][0]
    assert ring == list(reversed(CLOCKWISE_RING))
    assert shape(area["geometry"]).exterior.is_ccw


def test_bow_tie_is_repaired(client: SyncClient, world: World) -> None:
    area = _create(client, world, geometry={"type": "Polygon", "coordinates": [BOW_TIE]})
    geometry = shape(area["geometry"])
    assert area["geometry"]["type"] == "MultiPolygon"
    assert geometry.is_valid
    assert len(geometry.geoms) == 2
    assert all(part.exterior.is_ccw for part in geometry.geoms)
    assert geometry.area == pytest.approx(2 * 0.5 * 0.02 * 0.01)  # two triangles


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        pytest.param(
            {"geometry": {"type": "Point", "coordinates": [5.73, 58.85]}},
            ["body", "geometry"],
            id="point-geometry",
        ),
        pytest.param(
            {
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [[[5.7, 58.8], [5.8, 58.8], [5.8, 95.0], [5.7, 58.8]]],
                }
            },
            ["body", "geometry", "coordinates", 0, 2, 1],
            id="lat-out-of-range",
        ),  # fmt: skip
        pytest.param(
            {
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [[[5.7, 58.8], [5.8, 58.8], [5.8, 58.9], [5.7, 58.9]]],
                }
            },
            ["body", "geometry", "coordinates", 0],
            id="ring-not-closed",
        ),  # fmt: skip
        pytest.param(
            {
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [[[5.7, 58.8], [5.8, 58.8], [5.9, 58.8], [5.7, 58.8]]],
                }
            },
            ["body", "geometry"],
            id="degenerate-polygon",
        ),  # fmt: skip
        pytest.param({"organization_id": ZERO}, ["body", "organization_id"], id="smuggled-org"),
        pytest.param({"parent_id": ZERO}, ["body", "parent_id"], id="unknown-parent"),
        pytest.param({"name": "   "}, ["body", "name"], id="blank-name"),
        pytest.param({"kind": "county"}, ["body", "kind"], id="unknown-kind"),
    ],
)
def test_area_input_is_validated(
    client: SyncClient, world: World, body: dict[str, Any], loc: list[Any]
) -> None:
    before = _all_names(client, world)
    payload = {"name": "Lura", "geometry": POLYGON, **body}
    r = client.post(URL, headers=world.headers("coordinator"), json=payload)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["errors"][0]["loc"] == loc
    assert _all_names(client, world) == before


def test_nan_coordinate_is_refused(client: SyncClient, world: World) -> None:
    # Python's JSON parser accepts the bare token NaN; it must not reach the geometry.
    raw = (
        b'{"name": "Lura", "geometry": {"type": "Polygon", "coordinates": '
        b"[[[5.7, 58.8], [5.8, 58.8], [5.8, NaN], [5.7, 58.8]]]}}"
    )
    r = client.post(
        URL,
        headers={**world.headers("coordinator"), "Content-Type": "application/json"},
        content=raw,
    )
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["loc"][:2] == ["body", "geometry"]


def test_update_refuses_null_and_unknown_fields(client: SyncClient, world: World) -> None:
    area = _create(client, world)
    h = world.headers("coordinator")
    for body, loc in [
        ({"name": None}, ["body", "name"]),
        ({"geometry": None}, ["body", "geometry"]),
        ({"organization_id": ZERO}, ["body", "organization_id"]),
        ({"created_at": "2020-01-01T00:00:00Z"}, ["body", "created_at"]),
    ]:
        r = client.patch(f"{URL}/{area['id']}", headers=h, json=body)
        assert r.status_code == 422, (body, r.text)
        assert r.json()["errors"][0]["loc"] == loc
    assert client.get(f"{URL}/{area['id']}", headers=h).json() == area


def test_duplicate_code_conflicts(client: SyncClient, world: World) -> None:
    _create(client, world, code="LUR")
    r = client.post(
        URL,
        headers=world.headers("coordinator"),
        json={"name": "Lura 2", "code": "LUR", "geometry": POLYGON},
    )
    assert r.status_code == 409
    other = _create(client, world, name="Trones", code="TRO")
    r = client.patch(f"{URL}/{other['id']}", headers=world.headers("admin"), json={"code": "LUR"})
    assert r.status_code == 409


def test_parents_and_cycles(client: SyncClient, world: World) -> None:
    h = world.headers("coordinator")
    district = _create(client, world, name="Sandnes øst", kind="district")
    child = _create(client, world, name="Trones", parent_id=district["id"])
    grandchild = _create(client, world, name="Trones nord", parent_id=child["id"])
    assert child["parent_id"] == district["id"]

    for area, parent in [(district, district), (district, child), (district, grandchild)]:
        r = client.patch(f"{URL}/{area['id']}", headers=h, json={"parent_id": parent["id"]})
        assert r.status_code == 422, r.text
        assert r.json()["errors"][0]["loc"] == ["body", "parent_id"]

    listed = client.get(URL, headers=h, params={"parent_id": district["id"]}).json()["items"]
    assert [a["id"] for a in listed] == [child["id"]]
    districts = client.get(URL, headers=h, params={"kind": "district"}).json()["items"]
    assert [a["id"] for a in districts] == [district["id"]]

    # Moving a sub-area elsewhere, then detaching it.
    r = client.patch(f"{URL}/{grandchild['id']}", headers=h, json={"parent_id": district["id"]})
    assert r.status_code == 200
    assert r.json()["parent_id"] == district["id"]
    r = client.patch(f"{URL}/{grandchild['id']}", headers=h, json={"parent_id": None})
    assert r.json()["parent_id"] is None


def test_parent_from_another_organization_is_refused(
    client: SyncClient, world: World, session: Session
) -> None:
    foreign = make_area(session, world.other_org, name="Storhaug")
    session.commit()
    r = client.post(
        URL,
        headers=world.headers("coordinator"),
        json={"name": "Lura", "geometry": POLYGON, "parent_id": str(foreign.id)},
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["loc"] == ["body", "parent_id"]
    mine = _create(client, world)
    r = client.patch(
        f"{URL}/{mine['id']}",
        headers=world.headers("coordinator"),
        json={"parent_id": str(foreign.id)},
    )
    assert r.status_code == 422


def test_other_organization_sees_nothing(client: SyncClient, world: World) -> None:
    area = _create(client, world)
    h = world.headers("foreign_admin")
    area_url = f"{URL}/{area['id']}"
    assert client.get(area_url, headers=h).status_code == 404
    assert client.patch(area_url, headers=h, json={"name": "Mine now"}).status_code == 404
    assert client.delete(area_url, headers=h).status_code == 404
    assert client.get(URL, headers=h).json()["items"] == []
    # Unknown ids answer the same.
    assert client.get(f"{URL}/{ZERO}", headers=world.headers("admin")).status_code == 404
    assert client.get(area_url, headers=world.headers("admin")).json() == area


def test_delete_keeps_what_referred_to_the_area(
    client: SyncClient, world: World, session: Session
) -> None:
    area = world.objects["area"]
    area_id = area.id
    child = _create(client, world, name="Sentrum sør", parent_id=str(area.id))
    lighting = make_category(session, world.org, "lighting")
    spot = spatial.to_db(shape({"type": "Point", "coordinates": [5.735, 58.851]}))
    obs = Observation(
        id=uuid.uuid4(),
        organization_id=world.org.id,
        walk_id=world.walk.id,
        category_id=lighting.id,
        location=spot,
        recorded_at=world.walk.created_at,
        area_id=area.id,
        body_hash="0" * 64,
    )
    item = ActionItem(
        organization_id=world.org.id,
        area_id=area.id,
        category_id=lighting.id,
        title="Dark path",
        location=spot,
    )
    session.add_all([obs, item])
    session.commit()

    h = world.headers("coordinator")
    assert client.delete(f"{URL}/{area.id}", headers=h).status_code == 204

    walk = client.get(f"/api/v1/walks/{world.walk.id}", headers=h)
    assert walk.status_code == 200
    assert walk.json()["area_id"] is None
    assert client.get(f"{URL}/{child['id']}", headers=h).json()["parent_id"] is None
    session.expire_all()
    assert session.scalar(select(Observation.area_id).where(Observation.id == obs.id)) is None
    assert session.scalar(select(ActionItem.area_id).where(ActionItem.id == item.id)) is None
    assert session.scalar(select(Area.id).where(Area.id == area_id)) is None


def test_paging_visits_every_area_once_in_name_order(client: SyncClient, world: World) -> None:
    # Equal names on purpose: the id breaks the tie, so the cursor must carry both.
    for name in ["Lura", "Øksnevad", "Lura", "Austrått", "Lura", "Figgjo"]:
        _create(client, world, name=name)
    seen: list[tuple[str, str]] = []
    pages = 0
    url: str | None = f"{URL}?limit=2"
    while url:
        r = client.get(url, headers=world.headers("coordinator"))
        assert r.status_code == 200, r.text
        page = r.json()
        assert len(page["items"]) <= 2
        seen += [(a["name"], a["id"]) for a in page["items"]]
        url = page["next"]
        pages += 1
    assert len(seen) == len({i for _, i in seen}) == 7  # 6 new + the world's Sentrum
    assert pages == 4
    names = [n for n, _ in seen]
    assert names.count("Lura") == 3
    assert names == _all_names(client, world)


def test_bad_cursor_is_a_422(client: SyncClient, world: World) -> None:
    r = client.get(URL, headers=world.headers("coordinator"), params={"cursor": "not-a-cursor"})
    assert r.status_code == 422
    assert r.json()["errors"][0]["loc"] == ["query", "cursor"]


# --- import --------------------------------------------------------------------------------


def _feature(name: str | None, geometry: dict[str, Any], **props: Any) -> dict[str, Any]:
    properties = {"navn": name, **props} if name is not None else props
    return {"type": "Feature", "properties": properties, "geometry": geometry}


def _collection(*features: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": list(features), **extra}


def _import(client: SyncClient, world: World, body: dict[str, Any], **params: Any) -> Any:
    return client.post(
        f"{URL}/import",
        headers=world.headers("coordinator"),
        params={"name_property": "navn", **params},
        json=body,
    )


def test_import_creates_then_updates(client: SyncClient, world: World) -> None:
    body = _collection(
        _feature("Trones", {"type": "Polygon", "coordinates": [GOOD_RING]}, kode="TRO"),
        _feature("Øksnevad", {"type": "MultiPolygon", "coordinates": [[GOOD_RING]]}),
        # QGIS and ogr2ogr write these foreign members.
        name="bydeler",
        crs={"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}},
    )
    r = _import(client, world, body, kind="district")
    assert r.status_code == 200, r.text
    assert r.json() == {"created": 2, "updated": 0, "repaired": [], "refused": []}
    areas = client.get(URL, headers=world.headers("admin"), params={"kind": "district"}).json()
    by_name = {a["name"]: a for a in areas["items"]}
    assert set(by_name) == {"Trones", "Øksnevad"}
    assert by_name["Trones"]["code"] == "TRO"
    assert by_name["Trones"]["geometry"] == {"type": "Polygon", "coordinates": [GOOD_RING]}

    r = _import(client, world, body, kind="district")
    assert r.json() == {"created": 0, "updated": 2, "repaired": [], "refused": []}
    assert len(_all_names(client, world)) == 3


def test_import_repairs_an_invalid_ring_and_says_so(client: SyncClient, world: World) -> None:
    body = _collection(
        _feature("Sentrum", {"type": "Polygon", "coordinates": [GOOD_RING]}),
        _feature("Bow", {"type": "Polygon", "coordinates": [BOW_TIE]}),
    )
    r = _import(client, world, body)
    assert r.status_code == 200, r.text
    result = r.json()
    assert result["created"] == 1  # Sentrum exists in the world: updated by name
    assert result["updated"] == 1
    assert [i["index"] for i in result["repaired"]] == [1]
    assert "repaired" in result["repaired"][0]["reason"]
    bow = next(
        a for a in client.get(URL, headers=world.headers("admin")).json()["items"]
        if a["name"] == "Bow"
    )  # fmt: skip
    assert bow["geometry"]["type"] == "MultiPolygon"


def test_import_refuses_a_point_and_writes_nothing(client: SyncClient, world: World) -> None:
    before = _all_names(client, world)
    body = _collection(
        _feature("Trones", {"type": "Polygon", "coordinates": [GOOD_RING]}),
        _feature("Bus stop", {"type": "Point", "coordinates": [5.73, 58.85]}),
        _feature(None, {"type": "Polygon", "coordinates": [GOOD_RING]}),
    )
    r = _import(client, world, body)
    assert r.status_code == 422, r.text
    problem = r.json()
    assert r.headers["content-type"] == "application/problem+json"
    assert [f["index"] for f in problem["refused"]] == [1, 2]
    assert "Point is not allowed" in problem["refused"][0]["reason"]
    assert "navn" in problem["refused"][1]["reason"]
    assert [e["loc"][:3] for e in problem["errors"]] == [
        ["body", "features", 1],
        ["body", "features", 2],
    ]
    assert _all_names(client, world) == before

    r = _import(client, world, body, skip_invalid="true")
    assert r.status_code == 200, r.text
    result = r.json()
    assert result["created"] == 1
    assert [f["index"] for f in result["refused"]] == [1, 2]
    assert sorted(_all_names(client, world)) == sorted([*before, "Trones"])


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        pytest.param({"type": "Feature", "features": []}, ["body", "type"], id="not-a-collection"),
        pytest.param({"type": "FeatureCollection"}, ["body", "features"], id="no-features"),
        pytest.param(
            _collection(
                _feature("Trones", {"type": "Polygon", "coordinates": [GOOD_RING]}),
                crs={"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::25832"}},
            ),
            ["body", "crs"],
            id="projected-crs",
        ),
    ],
)
def test_import_refuses_what_is_not_a_wgs84_collection(
    client: SyncClient, world: World, body: dict[str, Any], loc: list[Any]
) -> None:
    r = _import(client, world, body)
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["loc"] == loc


def test_areas_are_for_coordinators_and_admins(client: SyncClient, world: World) -> None:
    for who in ("engineer", "planner", "participant"):
        assert client.get(URL, headers=world.headers(who)).status_code == 403
        r = client.post(URL, headers=world.headers(who), json={"name": "x", "geometry": POLYGON})
        assert r.status_code == 403
    assert client.get(URL, headers=world.headers("anonymous")).status_code == 401
