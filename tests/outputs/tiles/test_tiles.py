"""Vector tiles: decoded with mapbox-vector-tile and with GDAL's MVT driver; 204 when empty;
ETag and cache headers; TileJSON; and the same features and properties from both databases."""

from __future__ import annotations

import math
import uuid
from pathlib import Path
from typing import Any

import mapbox_vector_tile
import pytest

from api.outputs.tiles.service import BUFFER, EXTENT, Tile
from tests.factories.readers import Readers
from tests.factories.seed import MAX_LAT, MAX_LON, MIN_LAT, MIN_LON, tile_of

pyogrio = pytest.importorskip("pyogrio")

MVT = "application/vnd.mapbox-vector-tile"
Z = 16  # DETAIL_ZOOM: ids and times from here on


def mercator(lon: float, lat: float) -> tuple[float, float]:
    r = 6378137.0
    return math.radians(lon) * r, math.log(math.tan(math.pi / 4 + math.radians(lat) / 2)) * r


def in_tile(t: Tile, lon: float, lat: float) -> bool:
    minx, miny, maxx, maxy = t.mercator_bounds()
    pad = (maxx - minx) * BUFFER / EXTENT
    x, y = mercator(lon, lat)
    return minx - pad <= x <= maxx + pad and miny - pad <= y <= maxy + pad


def decode(data: bytes) -> dict[str, Any]:
    layers: dict[str, Any] = mapbox_vector_tile.decode(data, default_options={"y_coord_down": True})
    return layers


def centre_tile() -> Tile:
    x, y = tile_of((MIN_LON + MAX_LON) / 2, (MIN_LAT + MAX_LAT) / 2, Z)
    return Tile(Z, x, y)


def test_observation_tile_decodes_with_the_features_of_the_tile(readers: Readers) -> None:
    t = centre_tile()
    r = readers.get(f"/tiles/observations/{t.z}/{t.x}/{t.y}.mvt")
    assert r.headers["content-type"] == MVT
    layer = decode(r.content)["observations"]
    assert layer["extent"] == EXTENT
    visible = {
        str(k): o for k, o in readers.data.observations.items() if in_tile(t, o["lon"], o["lat"])
    }
    got = {f["properties"]["id"]: f for f in layer["features"]}
    assert set(got) == set(visible)
    assert visible
    minx, miny, maxx, maxy = t.mercator_bounds()
    for fid, f in got.items():
        o = visible[fid]
        assert f["properties"]["category"] == o["category"]
        assert f["properties"]["severity"] == o["severity"]
        assert f["properties"]["is_dark"] is o["is_dark"]
        assert f["properties"]["recorded_at"] == o["recorded_at"].strftime("%Y-%m-%dT%H:%M:%SZ")
        assert "participant_id" not in f["properties"]
        x, y = mercator(o["lon"], o["lat"])
        px = (x - minx) / (maxx - minx) * EXTENT
        py = (maxy - y) / (maxy - miny) * EXTENT
        assert f["geometry"]["type"] == "Point"
        gx, gy = f["geometry"]["coordinates"]
        assert abs(gx - px) <= 1
        assert abs(gy - py) <= 1


def test_overview_tiles_carry_styling_properties_only(readers: Readers) -> None:
    """z15 (the first zoom of points, not counts, and below the ids' zoom)."""
    x, y = tile_of((MIN_LON + MAX_LON) / 2, (MIN_LAT + MAX_LAT) / 2, 15)
    t = Tile(15, x, y)
    layer = decode(readers.get(f"/tiles/observations/15/{x}/{y}.mvt").content)["observations"]
    visible = [
        o for o in readers.data.observations.values() if in_tile(t, o["lon"], o["lat"])
    ]  # none sensitive here
    assert visible
    assert len(layer["features"]) == len(visible)
    for f in layer["features"]:
        assert f["geometry"]["type"] == "Point"
        assert set(f["properties"]) <= {
            "category",
            "status",
            "severity",
            "perceived_safety",
            "is_dark",
        }
        assert "category" in f["properties"]


def test_tiles_of_other_layers(readers: Readers) -> None:
    t = centre_tile()
    items = decode(readers.get(f"/tiles/action-items/{t.z}/{t.x}/{t.y}.mvt").content)
    assert {f["properties"]["status"] for f in items["action-items"]["features"]} <= {
        "new", "triaged", "planned", "resolved",
    }  # fmt: skip
    areas = decode(readers.get(f"/tiles/areas/{t.z}/{t.x}/{t.y}.mvt").content)["areas"]
    (area,) = areas["features"]
    assert area["geometry"]["type"] in ("Polygon", "MultiPolygon")
    assert area["properties"]["name"] == "Sentrum"
    assert area["properties"]["observation_count"] >= 1


def test_gdal_mvt_driver_reads_the_tile(readers: Readers, tmp_path: Path) -> None:
    t = centre_tile()
    data = readers.get(f"/tiles/observations/{t.z}/{t.x}/{t.y}.mvt").content
    path = tmp_path / str(t.z) / str(t.x) / f"{t.y}.pbf"
    path.parent.mkdir(parents=True)
    path.write_bytes(data)
    meta, _, geoms, fields = pyogrio.raw.read(str(path), layer="observations")
    ids = list(fields[list(meta["fields"]).index("id")])
    import shapely

    points = {i: shapely.from_wkb(g) for i, g in zip(ids, geoms, strict=True)}
    assert points
    minx, _, maxx, _ = t.mercator_bounds()
    unit = (maxx - minx) / EXTENT
    for fid, p in points.items():
        o = readers.data.observations[uuid.UUID(fid)]
        x, y = mercator(o["lon"], o["lat"])  # GDAL georeferences MVT in EPSG:3857
        assert abs(p.x - x) <= unit
        assert abs(p.y - y) <= unit


def test_empty_tile_is_204_with_etag(readers: Readers) -> None:
    r = readers.get("/tiles/observations/15/0/0.mvt", status=204)
    assert r.content == b""
    assert r.headers["etag"]


def test_etag_and_cache_headers(readers: Readers) -> None:
    t = centre_tile()
    url = f"/tiles/observations/{t.z}/{t.x}/{t.y}.mvt"
    r = readers.get(url)
    etag = r.headers["etag"]
    assert etag.startswith('"')
    assert "private" in r.headers["cache-control"]
    again = readers.get(url, headers={**readers.headers(), "If-None-Match": etag}, status=304)
    assert again.content == b""
    assert readers.get(url).headers["etag"] == etag


@pytest.mark.parametrize(
    "path",
    [
        pytest.param("/tiles/nope/1/0/0.mvt", id="unknown-layer"),
        pytest.param("/tiles/walks/1/0/0.mvt", id="walks-are-not-tiled"),
        pytest.param("/tiles/observations/1/2/0.mvt", id="x-outside-the-zoom"),
        pytest.param("/tiles/observations/1/0/-1.mvt", id="negative-y"),
        pytest.param("/tiles/observations/25/0/0.mvt", id="zoom-too-deep"),
        pytest.param("/tiles/observations/a/0/0.mvt", id="not-a-number"),
    ],
)
def test_bad_tiles_are_404(readers: Readers, path: str) -> None:
    r = readers.get(path, status=404)
    assert r.headers["content-type"] == "application/problem+json"


def test_tilejson(readers: Readers) -> None:
    doc = readers.get("/tiles/observations.json").json()
    assert doc["tilejson"] == "3.0.0"
    assert doc["tiles"][0].endswith("/tiles/observations/{z}/{x}/{y}.mvt")
    (layer,) = doc["vector_layers"]
    assert layer["id"] == "observations"
    assert layer["fields"]["severity"] == "Number"
    assert layer["fields"]["is_dark"] == "Boolean"
    assert layer["fields"]["count"] == "Number"  # the clustered zooms'
    minx, miny, maxx, maxy = doc["bounds"]
    assert MIN_LON <= minx <= maxx <= MAX_LON
    assert MIN_LAT <= miny <= maxy <= MAX_LAT


def test_tiles_need_a_reader(readers: Readers) -> None:
    t = centre_tile()
    readers.get(f"/tiles/observations/{t.z}/{t.x}/{t.y}.mvt", headers={}, status=401)
    readers.get(f"/tiles/observations/{t.z}/{t.x}/{t.y}.mvt", who="participant", status=403)
    empty = readers.get(
        f"/tiles/observations/{t.z}/{t.x}/{t.y}.mvt", who="foreign_admin", status=204
    )
    assert empty.content == b""
