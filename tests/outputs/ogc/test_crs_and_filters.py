"""OGC API – Features Part 2 (CRS by reference) and Part 3 (CQL2 filters) on both databases."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pyproj import Transformer

from tests.factories import SANDNES_SQUARE
from tests.factories.readers import Readers
from tests.factories.seed import MAX_LAT, MAX_LON, MIN_LAT, MIN_LON

ITEMS = "/ogc/collections/observations/items"
EPSG = "http://www.opengis.net/def/crs/EPSG/0/"


def _visible(readers: Readers) -> dict[str, dict[str, Any]]:
    # No sensitive category here: sensitive places have tests of their own
    # (tests/privacy/test_sensitive_outputs.py).
    return {str(k): o for k, o in readers.data.observations.items()}


def _features(readers: Readers, **params: Any) -> list[dict[str, Any]]:
    r = readers.get(ITEMS, params={"limit": 1000, **params})
    doc: dict[str, Any] = json.loads(r.content)
    return list(doc["features"])


def test_epsg_25833_equals_pyproj_to_a_millimetre(readers: Readers) -> None:
    r = readers.get(ITEMS, params={"limit": 1000, "crs": f"{EPSG}25833"})
    assert r.headers["content-crs"] == f"<{EPSG}25833>"
    to_utm = Transformer.from_crs(4326, 25833, always_xy=True)
    visible = _visible(readers)
    features = json.loads(r.content)["features"]
    assert len(features) == len(visible)
    for f in features:
        o = visible[f["id"]]
        e, n = to_utm.transform(o["lon"], o["lat"])
        assert f["geometry"]["coordinates"] == pytest.approx([e, n], abs=0.001)


def test_epsg_4326_is_latitude_first(readers: Readers) -> None:
    r = readers.get(ITEMS, params={"crs": f"{EPSG}4326", "limit": 5})
    assert r.headers["content-crs"] == f"<{EPSG}4326>"
    for f in json.loads(r.content)["features"]:
        lat, lon = f["geometry"]["coordinates"]
        assert MIN_LAT <= lat <= MAX_LAT
        assert MIN_LON <= lon <= MAX_LON


def test_sweref99_tm_is_northing_first(readers: Readers) -> None:
    oid, o = next(iter(_visible(readers).items()))
    r = readers.get(f"{ITEMS}/{oid}", params={"crs": "EPSG:3006"})
    e, n = Transformer.from_crs(4326, 3006, always_xy=True).transform(o["lon"], o["lat"])
    assert r.json()["geometry"]["coordinates"] == pytest.approx([n, e], abs=0.001)


@pytest.mark.parametrize("code", [25832, 25835, 3067, 3857])
def test_other_projected_systems(readers: Readers, code: int) -> None:
    oid, o = next(iter(_visible(readers).items()))
    r = readers.get(f"{ITEMS}/{oid}", params={"crs": f"{EPSG}{code}"})
    x, y = Transformer.from_crs(4326, code, always_xy=True).transform(o["lon"], o["lat"])
    assert r.json()["geometry"]["coordinates"] == pytest.approx([x, y], abs=0.001)


def test_areas_reproject_too(readers: Readers) -> None:
    r = readers.get("/ogc/collections/areas/items", params={"crs": f"{EPSG}25832"})
    ring = json.loads(r.content)["features"][0]["geometry"]["coordinates"][0][0]
    to_utm = Transformer.from_crs(4326, 25832, always_xy=True)
    expected = [list(to_utm.transform(x, y)) for x, y in SANDNES_SQUARE.exterior.coords]
    for got, want in zip(sorted(ring), sorted(expected), strict=True):
        assert got == pytest.approx(want, abs=0.001)


def test_bbox_in_another_crs(readers: Readers) -> None:
    to_utm = Transformer.from_crs(4326, 25833, always_xy=True)
    mid_lat = (MIN_LAT + MAX_LAT) / 2
    (x0, x1), (y0, y1) = zip(
        to_utm.transform(MIN_LON - 0.01, MIN_LAT - 0.01),
        to_utm.transform(MAX_LON + 0.01, mid_lat),
        strict=True,
    )
    got = {
        f["id"]
        for f in _features(readers, bbox=f"{x0},{y0},{x1},{y1}", **{"bbox-crs": f"{EPSG}25833"})
    }
    # The UTM box's top edge is not a parallel: compare away from it.
    assert {k for k, o in _visible(readers).items() if o["lat"] < mid_lat - 0.0005} <= got
    assert not {k for k, o in _visible(readers).items() if o["lat"] > mid_lat + 0.0005} & got
    latlon = _features(
        readers,
        bbox=f"{MIN_LAT},{MIN_LON},{mid_lat},{MAX_LON}",
        **{"bbox-crs": f"{EPSG}4326"},
    )
    assert {f["id"] for f in latlon} == {
        k for k, o in _visible(readers).items() if o["lat"] <= mid_lat
    }


@pytest.mark.parametrize(
    ("params", "field"),
    [
        pytest.param({"crs": f"{EPSG}2154"}, "crs", id="unsupported-crs"),
        pytest.param({"crs": "urn:nonsense"}, "crs", id="not-a-crs"),
        pytest.param({"bbox-crs": f"{EPSG}25833"}, "bbox-crs", id="bbox-crs-without-bbox"),
        pytest.param(
            {"bbox": "5,58,6,59", "bbox-crs": "EPSG:99999"}, "bbox-crs", id="bad-bbox-crs"
        ),
    ],
)
def test_crs_problems_are_400(readers: Readers, params: dict[str, str], field: str) -> None:
    r = readers.get(ITEMS, params=params, status=400)
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["errors"][0]["loc"] == ["query", field]


# --- CQL2 -------------------------------------------------------------------------------------


def _ids(readers: Readers, pred: Any) -> set[str]:
    return {k for k, o in _visible(readers).items() if pred(o)}


@pytest.mark.parametrize(
    ("lang", "text", "pred"),
    [
        pytest.param("cql2-text", "category = 'graffiti'", lambda o: o["category"] == "graffiti", id="text-eq"),
        pytest.param(None, "severity > 1 AND is_dark = true", lambda o: o["severity"] > 1 and o["is_dark"], id="text-and-default-lang"),
        pytest.param("cql-text", "category IN ('lighting','vegetation')", lambda o: o["category"] in ("lighting", "vegetation"), id="gdal-alias-in"),
        pytest.param("cql2-text", "NOT (severity BETWEEN 1 AND 2)", lambda o: o["severity"] == 3, id="not-between"),
        pytest.param("cql2-text", "status <> 'accepted' OR perceived_safety IS NULL", lambda o: o["moderation"] != "accepted", id="or-is-null"),
        pytest.param("cql2-text", "note LIKE 'note 1%'", lambda o: o["note"].startswith("note 1"), id="like"),
        pytest.param("cql2-text", "note LIKE 'NOTE 1%'", lambda o: False, id="like-is-case-sensitive"),
        pytest.param("cql2-text", "recorded_at >= TIMESTAMP('2026-10-01T18:10:00Z') AND recorded_at < TIMESTAMP('2026-10-01T18:20:00Z')", lambda o: 10 <= int(o["note"].split()[1]) < 20, id="date-range"),
        pytest.param("cql2-json", json.dumps({"op": "=", "args": [{"property": "category"}, "graffiti"]}), lambda o: o["category"] == "graffiti", id="json-eq"),
        pytest.param("cql2-json", json.dumps({"op": "and", "args": [{"op": ">=", "args": [{"property": "recorded_at"}, {"timestamp": "2026-10-01T18:10:00Z"}]}, {"op": "<", "args": [{"property": "recorded_at"}, {"timestamp": "2026-10-01T18:20:00Z"}]}]}), lambda o: 10 <= int(o["note"].split()[1]) < 20, id="json-date-range"),
        pytest.param("cql2-json", json.dumps({"op": "between", "args": [{"property": "severity"}, 2, 3]}), lambda o: o["severity"] >= 2, id="json-between"),
    ],
)  # fmt: skip
def test_cql2(readers: Readers, lang: str | None, text: str, pred: Any) -> None:
    params = {"filter": text, **({"filter-lang": lang} if lang else {})}
    r = readers.get(ITEMS, params={"limit": 1000, **params})
    doc = json.loads(r.content)
    assert {f["id"] for f in doc["features"]} == _ids(readers, pred)
    assert doc["numberMatched"] == len(doc["features"])


MID = (MIN_LON + MAX_LON) / 2


@pytest.mark.parametrize(
    ("lang", "text"),
    [
        pytest.param("cql2-text", f"S_INTERSECTS(geometry, BBOX({MIN_LON - 1},{MIN_LAT - 1},{MID},{MAX_LAT + 1}))", id="text-bbox"),
        pytest.param("cql2-text", f"S_INTERSECTS(geometry, POLYGON(({MIN_LON - 1} {MIN_LAT - 1}, {MID} {MIN_LAT - 1}, {MID} {MAX_LAT + 1}, {MIN_LON - 1} {MAX_LAT + 1}, {MIN_LON - 1} {MIN_LAT - 1})))", id="text-polygon"),
        pytest.param("cql2-json", json.dumps({"op": "s_intersects", "args": [{"property": "geometry"}, {"bbox": [MIN_LON - 1, MIN_LAT - 1, MID, MAX_LAT + 1]}]}), id="json-bbox"),
        pytest.param("cql2-json", json.dumps({"op": "s_intersects", "args": [{"property": "geometry"}, {"type": "Polygon", "coordinates": [[[MIN_LON - 1, MIN_LAT - 1], [MID, MIN_LAT - 1], [MID, MAX_LAT + 1], [MIN_LON - 1, MIN_LAT - 1]]]}]}), id="json-triangle"),
    ],
)  # fmt: skip
def test_cql2_spatial(readers: Readers, lang: str, text: str) -> None:
    got = {f["id"] for f in _features(readers, filter=text, **{"filter-lang": lang})}
    if "triangle" in text or "Polygon" in text:
        # the triangle's hypotenuse runs from (MIN_LON-1, MAX_LAT+1) to (MID, MIN_LAT-1)
        def inside(o: dict[str, Any]) -> bool:
            x0, y0, x1, y1 = MIN_LON - 1, MAX_LAT + 1, MID, MIN_LAT - 1
            return (
                o["lon"] <= MID and (o["lon"] - x0) * (y1 - y0) - (o["lat"] - y0) * (x1 - x0) <= 0
            )

        assert got == _ids(readers, inside)
    else:
        assert got == _ids(readers, lambda o: o["lon"] <= MID)
    assert got


def test_cql2_point_and_filter_crs(readers: Readers) -> None:
    oid, o = next(iter(_visible(readers).items()))
    point = f"S_INTERSECTS(geometry, POINT({o['lon']!r} {o['lat']!r}))"
    assert {f["id"] for f in _features(readers, filter=point)} == {oid}
    e, n = Transformer.from_crs(4326, 25833, always_xy=True).transform(o["lon"], o["lat"])
    box = f"S_INTERSECTS(geometry, BBOX({e - 0.5},{n - 0.5},{e + 0.5},{n + 0.5}))"
    got = _features(readers, filter=box, **{"filter-crs": f"{EPSG}25833"})
    assert {f["id"] for f in got} == {oid}


def test_cql2_on_action_items(readers: Readers) -> None:
    r = readers.get(
        "/ogc/collections/action-items/items",
        params={"filter": "status = 'new' AND department = 'parks'"},
    )
    expected = [
        i
        for i in readers.data.items.values()
        if i["status"] == "new" and i["department"] == "parks"
    ]
    assert json.loads(r.content)["numberMatched"] == len(expected)


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        pytest.param({"filter": "status = "}, "ends too early", id="truncated"),
        pytest.param({"filter": "status = = 'x'"}, "column 10", id="syntax-error-position"),
        pytest.param({"filter": "colour = 'red'"}, "'colour' is not a queryable", id="unknown-property"),
        pytest.param({"filter": "severity = 'high'"}, "not a valid integer", id="wrong-type"),
        pytest.param({"filter": "area_id = 'x'"}, "not a valid uuid", id="bad-uuid"),
        pytest.param({"filter": "recorded_at > 'soon'"}, "not a valid timestamp", id="bad-timestamp"),
        pytest.param({"filter": "severity LIKE '1%'"}, "LIKE needs a text property", id="like-on-number"),
        pytest.param({"filter": "S_INTERSECTS(note, POINT(1 2))"}, "'geometry'", id="spatial-on-text"),
        pytest.param({"filter": "S_CONTAINS(geometry, POINT(1 2))"}, "not supported", id="unsupported-function"),
        pytest.param({"filter": "S_INTERSECTS(geometry, BBOX(1,2,3))"}, "BBOX", id="bbox-three-numbers"),
        pytest.param({"filter": "{not json", "filter-lang": "cql2-json"}, "not JSON", id="json-not-json"),
        pytest.param({"filter": json.dumps({"op": "frobnicate", "args": []}), "filter-lang": "cql2-json"}, "CQL2-JSON", id="json-unknown-op"),
        pytest.param({"filter": json.dumps([1, 2]), "filter-lang": "cql2-json"}, "CQL2-JSON", id="json-array"),
        pytest.param({"filter": "status = 'new'", "filter-lang": "sql"}, "filter-lang", id="unknown-lang"),
    ],
)  # fmt: skip
def test_malformed_filters_are_400_and_say_where(
    readers: Readers, params: dict[str, str], fragment: str
) -> None:
    english = {**readers.headers("planner"), "Accept-Language": "en"}
    r = readers.get(ITEMS, params=params, status=400, headers=english)
    body = r.json()
    assert r.headers["content-type"] == "application/problem+json"
    assert fragment in body["detail"]
    assert body["errors"][0]["loc"][0] == "query"
