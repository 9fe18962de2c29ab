"""Decoded, a tile has the same features and properties on SpatiaLite (mapbox-vector-tile)
and on PostGIS (ST_AsMVT): the same seeded data in one database of each kind."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import mapbox_vector_tile
import pytest
from shapely.geometry import Polygon, shape

from api.auth.deps_router import Principal
from api.core import spatial
from api.core.db import create_db_engine, make_sessionmaker
from api.core.migrate import upgrade
from api.outputs.ogc import service as ogc
from api.outputs.tiles import service as tiles
from models import Area, Role
from tests.factories import make_org, make_user, make_walk
from tests.factories.assets import make_lamp
from tests.factories.databases import DatabaseFactory, _require_postgis
from tests.factories.seed import MAX_LAT, MAX_LON, MIN_LAT, MIN_LON, seed, tile_of

AREA_ID = uuid.UUID("00000000-0000-4000-8000-00000000a001")
WALK_ID = uuid.UUID("00000000-0000-4000-8000-00000000b001")
# Larger than the observations' square, so tiles cut through it.
AREA = Polygon([(5.70, 58.83), (5.76, 58.83), (5.76, 58.87), (5.70, 58.87)])


def _render_all(url: str) -> dict[tuple[str, int, int, int], dict[str, Any]]:
    upgrade(url)
    engine = create_db_engine(url)
    out: dict[tuple[str, int, int, int], dict[str, Any]] = {}
    try:
        with make_sessionmaker(engine)() as s:
            org = make_org(s, "Sandnes")
            area = Area(
                id=AREA_ID, organization_id=org.id, name="Sentrum", geometry=spatial.to_db(AREA)
            )
            s.add(area)
            s.flush()
            walk = make_walk(s, org, area=area, id=WALK_ID)
            coordinator = make_user(s, org, Role.coordinator)
            seed(s, org, walk, area, observations=400, items=30)
            for n in range(60):
                make_lamp(s, org, f"L-{n}", MIN_LON + (MAX_LON - MIN_LON) * (n + 0.5) / 60,
                          (MIN_LAT + MAX_LAT) / 2 + 0.0001 * (n % 7),
                          id=uuid.UUID(int=0xA55E7 * 1000 + n))  # fmt: skip
            s.commit()
            who = Principal(kind="staff", organization_id=org.id, user=coordinator)
            cx, cy = (MIN_LON + MAX_LON) / 2, (MIN_LAT + MAX_LAT) / 2
            for z in (12, 15, 17):
                x, y = tile_of(cx, cy, z)
                for name in tiles.LAYERS:
                    c = ogc.get_collection(name)
                    data = tiles.render(s, who, c, tiles.Tile(z, x, y))
                    out[(name, z, x, y)] = mapbox_vector_tile.decode(
                        data, default_options={"y_coord_down": True}
                    )
    finally:
        engine.dispose()
    return out


@pytest.fixture
def both(tmp_path: Path) -> Iterator[tuple[dict[Any, Any], dict[Any, Any]]]:
    _require_postgis()
    lite, pg = DatabaseFactory("spatialite", tmp_path), DatabaseFactory("postgis", tmp_path)
    try:
        yield _render_all(lite.new_url()), _render_all(pg.new_url())
    finally:
        pg.drop_all()


def _features(decoded: dict[str, Any], layer: str) -> list[dict[str, Any]]:
    return list(decoded.get(layer, {"features": []})["features"])


def _same(fa: dict[str, Any], fb: dict[str, Any]) -> bool:
    ga, gb = shape(fa["geometry"]), shape(fb["geometry"])
    if ga.geom_type.replace("Multi", "") != gb.geom_type.replace("Multi", ""):
        return False
    if ga.geom_type == "Point":
        return bool(ga.distance(gb) <= 1.5)  # one unit of rounding either way
    return bool(ga.symmetric_difference(gb).area <= 0.01 * max(ga.area, 1))


def test_both_databases_give_the_same_tiles(both: tuple[dict[Any, Any], dict[Any, Any]]) -> None:
    lite, pg = both
    assert lite.keys() == pg.keys()
    compared = 0
    for key in lite:
        a, b = _features(lite[key], key[0]), _features(pg[key], key[0])
        assert len(a) == len(b), key
        # Overview tiles have no ids: match each feature to an unused twin, same properties
        # and the same place.
        unused = list(b)
        for fa in a:
            twin = next(
                (fb for fb in unused if fb["properties"] == fa["properties"] and _same(fa, fb)),
                None,
            )
            assert twin is not None, (key, fa["properties"])
            unused.remove(twin)
            compared += 1
    assert compared > 300
    assert any(f["properties"].get("id") for k, v in lite.items() for f in _features(v, k[0]))
