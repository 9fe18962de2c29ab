"""GeoJSON in, stored in SRID 4326, GeoJSON out: equal to 6 decimals on both databases."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.core import dialect, spatial
from geo.geojson import parse_geometry, to_geojson
from models import ActionItem, Area, Walk
from tests.factories import make_category, make_org

POINT = {"type": "Point", "coordinates": [5.735212, 58.851734]}
LINE = {
    "type": "LineString",
    "coordinates": [[5.7352, 58.8517], [5.7361, 58.8522], [5.737101, 58.853005]],
}
POLYGON = {
    "type": "Polygon",
    "coordinates": [
        [[5.728, 58.848], [5.742, 58.848], [5.742, 58.856], [5.728, 58.856], [5.728, 58.848]],
        [[5.73, 58.85], [5.73, 58.851], [5.731, 58.851], [5.731, 58.85], [5.73, 58.85]],
    ],
}
MULTIPOLYGON = {
    "type": "MultiPolygon",
    "coordinates": [
        [[[5.70, 58.80], [5.71, 58.80], [5.71, 58.81], [5.70, 58.81], [5.70, 58.80]]],
        [[[5.72, 58.80], [5.73, 58.80], [5.73, 58.81], [5.72, 58.81], [5.72, 58.80]]],
    ],
}  # fmt: skip


def _db_geojson(session: Session, column: Any, row_id: Any) -> dict[str, Any]:
    import json

    text = session.scalar(
        select(dialect.as_geojson(session, column)).where(column.class_.id == row_id)
    )
    return json.loads(text)


@pytest.mark.parametrize(
    "gj", [pytest.param(POLYGON, id="polygon"), pytest.param(MULTIPOLYGON, id="multipolygon")]
)
def test_area_geometry_round_trip(session: Session, gj: dict[str, Any]) -> None:
    org = make_org(session)
    geom = parse_geometry(gj, {"Polygon", "MultiPolygon"})
    area = Area(organization_id=org.id, name="A", geometry=spatial.to_db(geom))
    session.add(area)
    session.flush()
    session.expire_all()
    stored = session.get(Area, area.id)
    assert stored is not None
    assert to_geojson(spatial.from_db(stored.geometry)) == to_geojson(geom)
    assert to_geojson(geom) == gj  # input was already CCW with CW holes, 6 decimals
    # The database's own GeoJSON says the same thing, to 6 decimals.
    assert (
        to_geojson(parse_geometry(_db_geojson(session, Area.geometry, area.id), {gj["type"]})) == gj
    )


def test_line_round_trip(session: Session) -> None:
    org = make_org(session)
    walk = Walk(
        organization_id=org.id,
        title="w",
        join_code="ABCD2345",
        route=spatial.to_db(parse_geometry(LINE, {"LineString"})),
    )
    session.add(walk)
    session.flush()
    session.expire_all()
    stored = session.get(Walk, walk.id)
    assert stored is not None
    assert to_geojson(spatial.from_db(stored.route)) == LINE
    assert _db_geojson(session, Walk.route, walk.id) == LINE


def test_point_round_trip(session: Session) -> None:
    org = make_org(session)
    cat = make_category(session, org)
    item = ActionItem(
        organization_id=org.id,
        category_id=cat.id,
        title="t",
        location=spatial.to_db(parse_geometry(POINT, {"Point"})),
    )
    session.add(item)
    session.flush()
    session.expire_all()
    stored = session.get(ActionItem, item.id)
    assert stored is not None
    assert to_geojson(spatial.from_db(stored.location)) == POINT
    assert _db_geojson(session, ActionItem.location, item.id) == POINT
