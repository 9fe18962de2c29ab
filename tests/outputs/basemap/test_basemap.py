"""The basemap from the service's own origin (api/outputs/basemap): `safewalk basemap import`,
the style every map starts from, its TileJSON and the tiles with their cache headers; the
organization's own file before the service's; the remote source; none at all. On both
databases (the import checks the organization)."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, Engine

from api import cli
from api.app import create_app
from api.outputs.basemap import service
from api.settings import Settings, get_settings
from tests.factories import make_org
from tests.factories.client import SyncClient
from tests.factories.databases import serve_on
from tests.factories.tilesets import area_tiles, make_mbtiles, make_pmtiles, striped_png

KARTVERKET = "https://cache.kartverket.no/v1/wmts/1.0.0/topo/default/webmercator/{z}/{y}/{x}.png"


def _client(
    settings: Settings, engine: Engine, connection: Connection, **update: Any
) -> SyncClient:
    app = create_app(settings.model_copy(update=update), engine=engine)
    serve_on(app, connection)
    return SyncClient(app)


def _tile_path(url: str, z: int, x: int, y: int) -> str:
    return (
        url.removeprefix("http://testserver")
        .replace("{z}", str(z))
        .replace("{x}", str(x))
        .replace("{y}", str(y))
    )


def test_without_a_basemap_the_style_says_none(client: SyncClient) -> None:
    r = client.get("/basemap/style.json")
    assert r.status_code == 200
    style = r.json()
    assert style["metadata"] == {"safewalk:basemap": "none"}
    assert style["sources"] == {}
    assert [layer["type"] for layer in style["layers"]] == ["background"]
    assert r.headers["cache-control"] == "no-cache"
    assert client.get("/basemap/tiles.json").status_code == 404
    r = client.get("/basemap/14/8453/4737.png")
    assert r.status_code == 404
    assert r.headers["content-type"] == "application/problem+json"


def test_a_raster_mbtiles_is_served_from_this_origin(
    client: SyncClient, settings: Settings, tmp_path: Path
) -> None:
    tiles = area_tiles(range(12, 15))
    service.import_file(make_mbtiles(tmp_path / "town.mbtiles", tiles), settings.data_dir)
    style = client.get("/basemap/style.json").json()
    assert style["metadata"] == {"safewalk:basemap": "file"}
    source = style["sources"]["basemap"]
    assert source["type"] == "raster"
    assert (source["minzoom"], source["maxzoom"]) == (12, 14)
    assert source["attribution"] == "© Test Kart"
    (url,) = source["tiles"]
    assert url.startswith("http://testserver/basemap/{z}/{x}/{y}.png?v=")
    (z, x, y), data = next(iter(tiles.items()))
    r = client.get(_tile_path(url, z, x, y))
    assert r.status_code == 200
    assert r.headers["content-type"] == "image/png"
    assert r.content == data
    assert r.headers["cache-control"] == "public, max-age=31536000, immutable"
    again = client.get(_tile_path(url, z, x, y), headers={"If-None-Match": r.headers["etag"]})
    assert again.status_code == 304
    # Without the file's version (an old style): served, but not kept for good.
    brief = client.get(f"/basemap/{z}/{x}/{y}.png")
    assert brief.status_code == 200
    assert brief.headers["cache-control"] == "public, max-age=300"
    assert client.get(f"/basemap/{z}/{x + 100}/{y}.png").status_code == 204  # not in the file
    assert client.get(f"/basemap/20/{x}/{y}.png").status_code == 204  # beyond its zooms
    assert client.get(f"/basemap/{z}/{x}/{y}.pbf").status_code == 404  # not its format
    assert client.get(f"/basemap/{z}/x/{y}.png").status_code == 404
    tilejson = client.get("/basemap/tiles.json").json()
    assert tilejson["tiles"] == [url]
    # No bounds in the file's metadata: those of its deepest tiles, around the town.
    west, south, east, north = tilejson["bounds"]
    assert west <= 5.72 < 5.76 <= east
    assert south <= 58.84 < 58.86 <= north
    assert east - west < 0.1


def test_a_vector_pmtiles_gets_a_style_of_its_layers(
    client: SyncClient, settings: Settings, tmp_path: Path
) -> None:
    tile = gzip.compress(b"\x1a\x07roads..")
    path = make_pmtiles(
        tmp_path / "town.pmtiles",
        {(14, 8453, 4737): tile},
        tile_type=1,
        tile_compression=2,
        metadata={"vector_layers": [{"id": "water"}, {"id": "roads"}]},
    )
    target, info = service.import_file(path, settings.data_dir)
    assert target.name == "default.pmtiles"
    assert not info.raster
    style = client.get("/basemap/style.json").json()
    assert style["sources"]["basemap"]["type"] == "vector"
    ids = [layer["id"] for layer in style["layers"]]
    assert ids[0] == "background"
    assert {"water-fill", "roads-fill", "water-line", "roads-line"} <= set(ids)
    water = next(layer for layer in style["layers"] if layer["id"] == "water-fill")
    assert water["paint"]["fill-color"] == "#b9d3e6"
    r = client.get("/basemap/14/8453/4737.pbf", headers={"Accept-Encoding": "gzip"})
    assert r.headers["content-encoding"] == "gzip"
    assert r.content == b"\x1a\x07roads.."  # httpx undid the gzip
    r = client.get("/basemap/14/8453/4737.pbf", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in r.headers
    assert r.content == b"\x1a\x07roads.."
    assert r.headers["content-type"] == "application/x-protobuf"


def test_the_organizations_own_basemap_comes_first(
    client: SyncClient, settings: Settings, tmp_path: Path
) -> None:
    own = {(14, 8453, 4737): striped_png(14, 8453, 4737)}
    shared = {(14, 8453, 4737): striped_png(1, 1, 1)}
    service.import_file(make_mbtiles(tmp_path / "own.mbtiles", own), settings.data_dir, "sandnes")
    service.import_file(make_mbtiles(tmp_path / "all.mbtiles", shared), settings.data_dir)
    url = client.get("/basemap/style.json?org=sandnes").json()["sources"]["basemap"]["tiles"][0]
    assert "org=sandnes" in url
    assert client.get(_tile_path(url, 14, 8453, 4737)).content == own[(14, 8453, 4737)]
    other = client.get("/basemap/style.json?org=stavanger").json()["sources"]["basemap"]
    assert "org=" not in other["tiles"][0]
    assert client.get("/basemap/14/8453/4737.png").content == shared[(14, 8453, 4737)]
    r = client.get("/basemap/style.json?org=../etc")
    assert r.status_code == 404


def test_a_new_import_changes_every_tile_url(
    client: SyncClient, settings: Settings, tmp_path: Path
) -> None:
    first = make_mbtiles(tmp_path / "a.mbtiles", {(14, 8453, 4737): striped_png(0, 0, 0)})
    service.import_file(first, settings.data_dir)
    before = client.get("/basemap/style.json").json()["sources"]["basemap"]["tiles"][0]
    second = make_mbtiles(tmp_path / "b.mbtiles", {(14, 8453, 4737): striped_png(1, 0, 0)})
    service.import_file(second, settings.data_dir)
    after = client.get("/basemap/style.json").json()["sources"]["basemap"]["tiles"][0]
    assert before != after
    assert client.get(_tile_path(after, 14, 8453, 4737)).content == striped_png(1, 0, 0)


def test_the_remote_source_when_nothing_is_imported(
    settings: Settings, engine: Engine, connection: Connection
) -> None:
    with _client(
        settings, engine, connection, basemap_url=KARTVERKET, basemap_attribution="© Kartverket"
    ) as c:
        style = c.get("/basemap/style.json").json()
    assert style["metadata"] == {"safewalk:basemap": "remote"}
    assert style["sources"]["basemap"] == {
        "type": "raster",
        "tiles": [KARTVERKET],
        "tileSize": 256,
        "attribution": "© Kartverket",
    }
    remote_style = "https://maps.example.no/styles/town.json"
    with _client(settings, engine, connection, basemap_url=remote_style) as c:
        r = c.get("/basemap/style.json", follow_redirects=False)
    assert r.status_code == 307
    assert r.headers["location"] == remote_style


# --- the command ------------------------------------------------------------------------------


@pytest.fixture
def env(fresh_db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("SAFEWALK_DATABASE_URL", fresh_db_url)
    monkeypatch.setenv("SAFEWALK_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    yield tmp_path / "data"
    get_settings.cache_clear()


def test_basemap_import_command(
    env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["init", "--org", "Sandnes kommune", "--admin-email", "a@sandnes.no",
                     "--admin-password", "correct horse battery"]) == 0  # fmt: skip
    path = make_pmtiles(tmp_path / "town.pmtiles", area_tiles(range(12, 14)))
    assert cli.main(["basemap", "import", str(path), "--org", "sandnes-kommune"]) == 0
    out = capsys.readouterr().out
    assert "organization 'sandnes-kommune': raster tiles (png), zoom 12-13" in out
    assert (env / "basemap" / "sandnes-kommune.pmtiles").read_bytes() == path.read_bytes()
    assert cli.main(["basemap", "import", str(path), "--org", "nowhere"]) == 1
    assert "organization" in capsys.readouterr().err
    assert not (env / "basemap" / "nowhere.pmtiles").exists()
    bad = tmp_path / "notes.mbtiles"
    bad.write_text("not tiles at all", encoding="utf-8")
    assert cli.main(["basemap", "import", str(bad)]) == 1
    assert "neither an MBTiles nor a PMTiles file" in capsys.readouterr().err
    # The service's own, for every organization without one; replacing it is another import.
    mbtiles = make_mbtiles(tmp_path / "town.mbtiles", area_tiles(range(12, 13)))
    assert cli.main(["basemap", "import", str(mbtiles)]) == 0
    assert (env / "basemap" / "default.mbtiles").is_file()


def test_the_demo_draws_its_own_basemap(tmp_path: Path, session: Any) -> None:
    from api.jobs import demo

    make_org(session, "Elsewhere")  # the demo's basemap is not anyone else's
    target = demo.write_demo_basemap(tmp_path)
    assert target is not None
    assert target.name == "demo.mbtiles"
    basemap = service.find(tmp_path, "demo")
    assert basemap is not None
    info = basemap.info
    assert info.raster
    assert (info.minzoom, info.maxzoom) == (12, 17)
    west, south, east, north = info.bounds
    # The demo walk is on it.
    assert west < 5.7432 < east
    assert south < 58.8492 < north
    assert demo.write_demo_basemap(tmp_path) is None  # drawn once
    assert service.find(tmp_path, "elsewhere") is None
