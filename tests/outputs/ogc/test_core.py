"""OGC API – Features Part 1 in-process: the CITE assertions ported (landing links,
conformance, the ``limit`` declaration, collection structure, typed links, numberReturned and
numberMatched, CRS84 coordinates), items, paging, datetime, bbox and property filters."""

from __future__ import annotations

import json
import uuid
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.factories.readers import N_ITEMS, Readers
from tests.factories.seed import (
    MAX_LAT,
    MAX_LON,
    MIN_LAT,
    MIN_LON,
    START,
)

OGC = "/ogc"
CONF = "http://www.opengis.net/spec/"
COLLECTIONS = {"observations", "action-items", "areas", "walks", "street-lights"}
GEOMETRY_TYPES = {
    "observations": "Point",
    "action-items": "Point",
    "areas": "MultiPolygon",
    "walks": "LineString",
    "street-lights": "Point",
}


def _doc(r: Any) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(r.content)
    return doc


def _visible(readers: Readers) -> dict[str, dict[str, Any]]:
    # No sensitive category here: sensitive places have tests of their own
    # (tests/privacy/test_sensitive_outputs.py).
    return {str(k): o for k, o in readers.data.observations.items()}


def _local(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + ("?" + parts.query if parts.query else "")


def test_landing_page_links(readers: Readers) -> None:
    doc = readers.get(OGC).json()
    rels = {link["rel"]: link for link in doc["links"]}
    assert rels["service-desc"]["type"] == "application/vnd.oai.openapi+json;version=3.0"
    assert rels["service-desc"]["href"].endswith("/ogc/api")
    assert rels["service-doc"]["type"] == "text/html"
    assert rels["conformance"]["href"].endswith("/ogc/conformance")
    assert rels["data"]["href"].endswith("/ogc/collections")
    assert all({"rel", "type", "href"} <= set(link) for link in doc["links"])


def test_conformance_declares_parts_1_2_3(readers: Readers) -> None:
    classes = set(readers.get(f"{OGC}/conformance").json()["conformsTo"])
    for c in (
        "ogcapi-features-1/1.0/conf/core",
        "ogcapi-features-1/1.0/conf/geojson",
        "ogcapi-features-1/1.0/conf/oas30",
        "ogcapi-features-2/1.0/conf/crs",
        "ogcapi-features-3/1.0/conf/filter",
        "ogcapi-features-3/1.0/conf/features-filter",
        "cql2/1.0/conf/cql2-text",
        "cql2/1.0/conf/cql2-json",
        "cql2/1.0/conf/basic-cql2",
        "cql2/1.0/conf/basic-spatial-functions",
    ):
        assert CONF + c in classes


def test_openapi_declares_limit_as_cite_expects(readers: Readers) -> None:
    r = readers.get(f"{OGC}/api")
    assert r.headers["content-type"].startswith("application/vnd.oai.openapi+json;version=3.0")
    doc = r.json()
    assert doc["openapi"].startswith("3.0")
    for cid in COLLECTIONS:
        params = doc["paths"][f"/collections/{cid}/items"]["get"]["parameters"]
        resolved = [
            doc["components"]["parameters"][p["$ref"].rsplit("/", 1)[1]] if "$ref" in p else p
            for p in params
        ]
        limit = next(p for p in resolved if p["name"] == "limit")
        assert limit["in"] == "query"
        assert limit["required"] is False
        assert limit["style"] == "form"
        assert limit["explode"] is False
        schema = limit["schema"]
        assert schema["type"] == "integer"
        assert 1 <= schema["minimum"] <= schema["default"] <= schema["maximum"]
        names = {p["name"] for p in resolved}
        assert {"bbox", "datetime", "crs", "bbox-crs", "filter", "filter-lang"} <= names
    # GDAL pushes WHERE down for declared property parameters only.
    obs = doc["paths"]["/collections/observations/items"]["get"]["parameters"]
    assert {"status", "category", "area_id", "walk_id"} <= {p.get("name") for p in obs}
    items = doc["paths"]["/collections/action-items/items"]["get"]["parameters"]
    assert {"status", "category", "department", "area_id"} <= {p.get("name") for p in items}


def test_collections_structure(readers: Readers) -> None:
    doc = readers.get(f"{OGC}/collections").json()
    assert {c["id"] for c in doc["collections"]} == COLLECTIONS
    for c in doc["collections"]:
        assert c["itemType"] == "feature"
        bbox = c["extent"]["spatial"]["bbox"]
        assert isinstance(bbox, list)
        assert isinstance(bbox[0], list)
        assert len(bbox[0]) == 4
        interval = c["extent"]["temporal"]["interval"]
        assert isinstance(interval[0], list)
        assert len(interval[0]) == 2
        rels = {link["rel"]: link for link in c["links"]}
        assert rels["items"]["type"] == "application/geo+json"
        assert rels["http://www.opengis.net/def/rel/ogc/1.0/queryables"]["type"] == (
            "application/schema+json"
        )
        assert all({"rel", "type", "href"} <= set(link) for link in c["links"])
        assert c["geometryType"] == GEOMETRY_TYPES[c["id"]]
        assert "http://www.opengis.net/def/crs/EPSG/0/25833" in c["crs"]
        single = readers.get(f"{OGC}/collections/{c['id']}").json()
        assert single["id"] == c["id"]
    obs = next(c for c in doc["collections"] if c["id"] == "observations")
    minx, miny, maxx, maxy = obs["extent"]["spatial"]["bbox"][0]
    assert MIN_LON <= minx <= maxx <= MAX_LON
    assert MIN_LAT <= miny <= maxy <= MAX_LAT
    assert obs["extent"]["temporal"]["interval"][0][0] == START.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_unknown_collection_is_404(readers: Readers) -> None:
    r = readers.get(f"{OGC}/collections/nope/items", status=404)
    assert r.headers["content-type"] == "application/problem+json"
    readers.get(f"{OGC}/collections/nope", status=404)


def test_items_carry_counts_typed_links_and_crs84(readers: Readers) -> None:
    r = readers.get(f"{OGC}/collections/observations/items?limit=10")
    assert r.headers["content-type"] == "application/geo+json"
    assert r.headers["content-crs"] == "<http://www.opengis.net/def/crs/OGC/1.3/CRS84>"
    doc = _doc(r)
    assert doc["type"] == "FeatureCollection"
    assert doc["numberReturned"] == len(doc["features"]) == 10
    assert doc["numberMatched"] == len(_visible(readers))
    assert doc["timeStamp"].endswith("Z")
    rels = {link["rel"]: link for link in doc["links"]}
    assert rels["self"]["type"] == "application/geo+json"
    assert rels["alternate"]["type"] == "application/json"
    assert rels["next"]["type"] == "application/geo+json"
    for f in doc["features"]:
        lon, lat = f["geometry"]["coordinates"]
        assert MIN_LON <= lon <= MAX_LON  # CRS84: longitude first
        assert MIN_LAT <= lat <= MAX_LAT
        assert f["geometry"]["type"] == "Point"
        # no participant, no group
        assert not {"participant_id", "participant_group", "group"} & set(f["properties"])


def test_each_collection_has_its_geometry_type(readers: Readers) -> None:
    for cid, kind in GEOMETRY_TYPES.items():
        doc = _doc(readers.get(f"{OGC}/collections/{cid}/items"))
        types = {f["geometry"]["type"] for f in doc["features"] if f["geometry"]}
        assert types <= {kind}, cid
    areas = _doc(readers.get(f"{OGC}/collections/areas/items"))["features"]
    assert {"observation_count", "open_items", "overdue_items"} <= set(areas[0]["properties"])


def test_limit_is_clamped_and_checked(readers: Readers) -> None:
    doc = _doc(readers.get(f"{OGC}/collections/observations/items?limit=100000"))
    assert doc["numberReturned"] == len(_visible(readers))
    for bad in ("0", "-3", "ten"):
        r = readers.get(f"{OGC}/collections/observations/items?limit={bad}", status=400)
        assert r.json()["errors"][0]["loc"] == ["query", "limit"]


def test_unknown_parameter_is_400(readers: Readers) -> None:
    r = readers.get(f"{OGC}/collections/observations/items?colour=red", status=400)
    assert "colour" in r.json()["detail"]
    readers.get(f"{OGC}/collections/areas/items?status=new", status=400)


def test_single_feature(readers: Readers) -> None:
    oid, obs = next(iter(_visible(readers).items()))
    r = readers.get(f"{OGC}/collections/observations/items/{oid}")
    assert r.headers["content-type"] == "application/geo+json"
    f = r.json()
    assert f["type"] == "Feature"
    assert f["id"] == oid
    assert f["geometry"]["coordinates"] == pytest.approx([obs["lon"], obs["lat"]], abs=1e-6)
    assert {link["rel"] for link in f["links"]} >= {"self", "collection"}
    readers.get(f"{OGC}/collections/observations/items/{uuid.uuid4()}", status=404)
    readers.get(f"{OGC}/collections/observations/items/not-a-uuid", status=404)


def test_other_organization_sees_none_of_it(readers: Readers) -> None:
    doc = _doc(readers.get(f"{OGC}/collections/observations/items", who="foreign_admin"))
    assert doc["numberMatched"] == 0
    oid = next(iter(_visible(readers)))
    readers.get(f"{OGC}/collections/observations/items/{oid}", who="foreign_admin", status=404)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("2026-10-01T18:05:00Z", {5}, id="instant"),
        pytest.param("2026-10-01T18:05:00Z/2026-10-01T18:09:00Z", set(range(5, 10)), id="closed"),
        pytest.param("../2026-10-01T18:02:00Z", {0, 1, 2}, id="open-start"),
        pytest.param("2026-10-01T18:57:00Z/..", {57, 58, 59}, id="open-end"),
        pytest.param("2026-10-01T18:57:00+00:00/", {57, 58, 59}, id="empty-end"),
        pytest.param("2026-10-01T/..", set(range(60)), id="gdal-date-form"),
        pytest.param("2026-10-02", set(), id="a-whole-day"),
    ],
)
def test_datetime(readers: Readers, value: str, expected: set[int]) -> None:
    r = readers.get(
        f"{OGC}/collections/observations/items", params={"datetime": value, "limit": 1000}
    )
    got = {int(f["properties"]["note"].split()[1]) for f in _doc(r)["features"]}
    visible = {int(o["note"].split()[1]) for o in _visible(readers).values()}
    assert got == expected & visible


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("yesterday", id="not-a-date"),
        pytest.param("2026-13-01T00:00:00Z", id="month-13"),
        pytest.param("/", id="no-ends"),
    ],
)
def test_bad_datetime_is_400(readers: Readers, value: str) -> None:
    r = readers.get(f"{OGC}/collections/observations/items", params={"datetime": value}, status=400)
    assert r.json()["errors"][0]["loc"] == ["query", "datetime"]


def test_bbox(readers: Readers) -> None:
    mid_lon = (MIN_LON + MAX_LON) / 2
    bbox = f"{MIN_LON},{MIN_LAT},{mid_lon},{MAX_LAT}"
    doc = _doc(readers.get(f"{OGC}/collections/observations/items?limit=1000&bbox={bbox}"))
    expected = {k for k, o in _visible(readers).items() if o["lon"] <= mid_lon}
    assert {f["id"] for f in doc["features"]} == expected
    assert doc["numberMatched"] == len(expected)


@pytest.mark.parametrize(
    "bbox",
    [
        pytest.param("1,2,3", id="three-numbers"),
        pytest.param("a,b,c,d", id="not-numbers"),
        pytest.param("10,60,5,58", id="min-after-max"),
        pytest.param("5,58,200,59", id="longitude-out-of-range"),
        pytest.param("5,58,nan,59", id="nan"),
    ],
)
def test_bad_bbox_is_400(readers: Readers, bbox: str) -> None:
    r = readers.get(f"{OGC}/collections/observations/items?bbox={bbox}", status=400)
    assert r.json()["errors"][0]["loc"] == ["query", "bbox"]


def test_property_parameters(readers: Readers) -> None:
    doc = _doc(readers.get(f"{OGC}/collections/action-items/items?status=new"))
    expected = [i for i in readers.data.items.values() if i["status"] == "new"]
    assert doc["numberMatched"] == len(expected) > 0
    assert {f["properties"]["status"] for f in doc["features"]} == {"new"}
    doc = _doc(readers.get(f"{OGC}/collections/action-items/items?status=new,planned"))
    assert doc["numberMatched"] == len(
        [i for i in readers.data.items.values() if i["status"] in ("new", "planned")]
    )
    doc = _doc(readers.get(f"{OGC}/collections/action-items/items?department=parks"))
    assert doc["numberMatched"] == len(
        [i for i in readers.data.items.values() if i["department"] == "parks"]
    )
    doc = _doc(readers.get(f"{OGC}/collections/observations/items?category=graffiti&limit=1000"))
    assert {f["properties"]["category"] for f in doc["features"]} == {"graffiti"}
    walk = readers.world.walk.id
    doc = _doc(readers.get(f"{OGC}/collections/observations/items?walk_id={walk}&limit=1000"))
    assert doc["numberMatched"] == len(_visible(readers))
    r = readers.get(f"{OGC}/collections/observations/items?area_id=nope", status=400)
    assert r.json()["errors"][0]["loc"] == ["query", "area_id"]


def test_queryables(readers: Readers) -> None:
    r = readers.get(f"{OGC}/collections/action-items/queryables")
    assert r.headers["content-type"] == "application/schema+json"
    doc = r.json()
    assert doc["type"] == "object"
    assert doc["properties"]["geometry"]["x-ogc-role"] == "primary-geometry"
    assert doc["properties"]["status"]["type"] == "string"
    assert "new" in doc["properties"]["status"]["enum"]
    assert doc["properties"]["area_id"]["format"] == "uuid"
    assert "overdue" not in doc["properties"]  # computed, not queryable
    schema = readers.get(f"{OGC}/collections/action-items/schema").json()
    assert "overdue" in schema["properties"]
    feature = readers.get(f"{OGC}/collections/walks/schema?f=feature").json()
    assert feature["properties"]["geometry"]["format"] == "geometry-linestring"


def test_alternate_json_and_bad_format(readers: Readers) -> None:
    r = readers.get(f"{OGC}/collections/action-items/items?f=json")
    assert r.headers["content-type"] == "application/json"
    assert _doc(r)["numberMatched"] == N_ITEMS
    readers.get(f"{OGC}/collections/action-items/items?f=html", status=400)


def test_next_link_keeps_the_query(readers: Readers) -> None:
    doc = _doc(readers.get(f"{OGC}/collections/action-items/items?limit=2&status=new"))
    nxt = next(link["href"] for link in doc["links"] if link["rel"] == "next")
    q = parse_qs(urlsplit(nxt).query)
    assert q["status"] == ["new"]
    assert q["limit"] == ["2"]
    assert "cursor" in q


@pytest.mark.parametrize(
    "cursor",
    [
        pytest.param("not-base64!", id="garbage"),
        pytest.param("WzEsMl0", id="two-values"),
        pytest.param("WyJ4IiwieSIsM10", id="bad-timestamp"),
        pytest.param(
            "WyIyMDI2LTEwLTAxVDE4OjAwOjAwKzAwOjAwIiwiMDAwMDAwMDAtMDAwMC0wMDAwLTAwMDAtMDAwMDAwMDAwMDAwIiwieCJd",
            id="bad-count",
        ),
    ],
)
def test_bad_cursor_is_400(readers: Readers, cursor: str) -> None:
    r = readers.get(f"{OGC}/collections/observations/items?cursor={cursor}", status=400)
    assert r.json()["errors"][0]["loc"] == ["query", "cursor"]
