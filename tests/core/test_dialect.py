"""Every helper of the dialect module, on SpatiaLite and on PostGIS: the same answers from each
database's own spelling."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import mapbox_vector_tile
import pytest
import shapely
from shapely.geometry import LineString, Point, Polygon, box
from sqlalchemy import Engine, Table, func, literal, select, text
from sqlalchemy.orm import Session
from sqlmodel import col

from api.core import dialect, spatial
from geo import mercator
from models import ActionItem, Area, HotspotTotal, Organization
from tests.factories import make_category, make_org

ITEM: Table = ActionItem.__table__  # type: ignore[attr-defined]
AREA: Table = Area.__table__  # type: ignore[attr-defined]
TOTAL: Table = HotspotTotal.__table__  # type: ignore[attr-defined]

# A box in Sandnes, and points on it, near it and far from it.
BOX = (5.73, 58.85, 5.74, 58.86)
POINTS = {
    "inside": (5.735, 58.855),
    "on the west edge": (5.73, 58.855),
    "on the north-east corner": (5.74, 58.86),
    "1e-7 degrees east": (5.7400001, 58.855),
    "1e-7 degrees south": (5.735, 58.8499999),
    "far *[Oslo]?": (10.75, 59.91),
}
INSIDE_BOX = {"inside", "on the west edge", "on the north-east corner"}


@dataclass
class Scene:
    org: Organization
    category_id: uuid.UUID
    items: dict[str, ActionItem]


@pytest.fixture
def scene(session: Session) -> Scene:
    org = make_org(session)
    category = make_category(session, org)
    items = {}
    for name, (lon, lat) in POINTS.items():
        item = ActionItem(
            organization_id=org.id,
            category_id=category.id,
            title=name,
            location=spatial.to_db(Point(lon, lat)),
            due_date=date(2026, 12, 24),
            created_at=datetime(2026, 12, 1, 21, 30, 5, tzinfo=UTC),
            title_edited=name == "inside",
            participant_groups=["a", "b"],
        )
        session.add(item)
        items[name] = item
    session.flush()
    return Scene(org, category.id, items)


def _names(session: Session, scene: Scene, condition: Any) -> set[str]:
    rows = session.scalars(
        select(col(ActionItem.title)).where(
            col(ActionItem.organization_id) == scene.org.id, condition
        )
    )
    return set(rows)


def _scalar(session: Session, expr: Any) -> Any:
    return session.scalar(select(expr))


def _area(session: Session, org: Organization, shape: Any, name: str = "A") -> Area:
    area = Area(organization_id=org.id, name=name, geometry=spatial.to_db(shape))
    session.add(area)
    session.flush()
    return area


# --- what a database can do ----------------------------------------------------------------------


def test_capabilities_follow_the_database(session: Session, backend: str) -> None:
    on_postgis = backend == "postgis"
    assert dialect.has_row_security(session) is on_postgis
    assert dialect.has_row_security(session.connection()) is on_postgis
    assert dialect.has_row_security(session.get_bind()) is on_postgis
    assert dialect.has_mvt(session) is on_postgis


@pytest.fixture
def own_session(engine: Engine) -> Iterator[Session]:
    """A session of its own on the test database, for helpers that begin the transaction."""
    with Session(engine) as s:
        yield s
        s.rollback()


def test_lock_wait_bounds_the_wait_for_locks(own_session: Session, backend: str) -> None:
    dialect.lock_wait(own_session, 50)
    options = own_session.connection().get_execution_options()
    assert options["sqlite_lock_wait_ms"] == 50
    if backend == "postgis":
        assert own_session.scalar(text("SHOW lock_timeout")) == "50ms"
    assert own_session.scalar(select(literal(1))) == 1


def test_tune_for_report_sets_only_this_transaction(session: Session, backend: str) -> None:
    dialect.tune_for_report(session)
    if backend == "postgis":
        assert session.scalar(text("SHOW work_mem")) == "64MB"
        assert session.scalar(text("SHOW jit")) == "off"
    assert session.scalar(select(literal(1))) == 1


def test_row_locks_on_postgresql_only(session: Session, scene: Scene, backend: str) -> None:
    stmt = select(col(ActionItem.id)).where(col(ActionItem.organization_id) == scene.org.id)
    locked = dialect.for_update(session, stmt)
    sql = str(locked.compile(bind=session.get_bind()))
    assert ("FOR UPDATE" in sql) is (backend == "postgis")
    assert len(session.scalars(locked).all()) == len(POINTS)
    dialect.lock_rows(session, stmt)  # runs on both; SQLite's single writer needs no lock


def test_group_locks(session: Session, backend: str) -> None:
    key = (uuid.uuid4(), None, uuid.uuid4())
    assert dialect.group_lock_id(key) == dialect.group_lock_id(key)
    assert -(2**63) <= dialect.group_lock_id(key) < 2**63
    dialect.lock_groups(session, [key, key])
    if backend == "postgis":
        held = session.scalar(
            text(
                "SELECT count(*) FROM pg_locks"
                " WHERE locktype = 'advisory' AND granted AND pid = pg_backend_pid()"
            )
        )
        assert held == 1
    else:
        assert session.scalar(select(literal(1))) == 1


# --- predicates ---------------------------------------------------------------------------------


def test_contains_point_border_included(session: Session) -> None:
    org = make_org(session)
    area = _area(session, org, box(*BOX))
    for where, (lon, lat), expected in (
        ("inside", (5.735, 58.855), True),
        ("on the border", (5.73, 58.855), True),
        ("outside", (5.75, 58.855), False),
    ):
        found = session.scalar(
            select(col(Area.id)).where(
                col(Area.id) == area.id,
                dialect.contains_point(session, Area.geometry, Point(lon, lat)),
            )
        )
        assert (found is not None) is expected, where


def test_bbox_filter_is_exact_on_points(session: Session, scene: Scene) -> None:
    found = _names(
        session, scene, dialect.bbox_filter(session, "action_item", ActionItem.location, BOX)
    )
    assert found == INSIDE_BOX
    by_coordinates = _names(
        session, scene, dialect.in_box(session, ActionItem.location, BOX, points=True)
    )
    assert by_coordinates == INSIDE_BOX


def test_bbox_filter_takes_a_polygon_by_its_shape(session: Session) -> None:
    org = make_org(session)
    # An L whose bounding box covers the box's corner but whose shape does not reach it.
    ell = Polygon(
        [(5.70, 58.80), (5.80, 58.80), (5.80, 58.81), (5.71, 58.81), (5.71, 58.90), (5.70, 58.90)]
    )
    touching = box(5.739, 58.859, 5.75, 58.87)
    _area(session, org, ell, "ell")
    _area(session, org, touching, "touching")
    names = set(
        session.scalars(
            select(col(Area.name)).where(
                col(Area.organization_id) == org.id,
                dialect.bbox_filter(session, "area", Area.geometry, BOX),
            )
        )
    )
    assert names == {"touching"}
    polygons = set(
        session.scalars(
            select(col(Area.name)).where(
                col(Area.organization_id) == org.id,
                dialect.in_box(session, Area.geometry, BOX, points=False),
            )
        )
    )
    assert polygons == {"touching"}


def test_bbox_filter_shown_tests_the_shown_point(session: Session, scene: Scene) -> None:
    # Shown 0.005° west of where it is; the wider search box holds all but the far point.
    shown = func.ST_Translate(ActionItem.location, -0.005, 0, 0)
    search = (BOX[0] - 0.01, BOX[1] - 0.01, BOX[2] + 0.01, BOX[3] + 0.01)
    found = _names(
        session,
        scene,
        dialect.bbox_filter_shown(session, "action_item", ActionItem.location, BOX, shown, search),
    )
    # Moved 0.005° west: the west edge falls out, the points just east of the box come in.
    assert found == {"inside", "on the north-east corner", "1e-7 degrees east"}


def test_intersects(session: Session, scene: Scene) -> None:
    triangle = Polygon([(5.73, 58.85), (5.734, 58.85), (5.73, 58.86)])
    found = _names(
        session, scene, dialect.intersects(session, "action_item", ActionItem.location, triangle)
    )
    assert found == {"on the west edge"}
    # Shown 0.004° west: "inside" comes into the triangle, the west edge leaves it.
    shown = func.ST_Translate(ActionItem.location, -0.004, 0, 0)
    search = (5.72, 58.84, 5.75, 58.87)
    moved = _names(
        session,
        scene,
        dialect.intersects_shown(
            session, "action_item", ActionItem.location, triangle, shown, search
        ),
    )
    assert moved == {"inside"}


@pytest.mark.parametrize(
    ("pattern", "nocase", "expected"),
    [
        pytest.param(
            "on the%", False, {"on the west edge", "on the north-east corner"}, id="prefix"
        ),
        pytest.param("ON THE%", False, set(), id="case-sensitive"),
        pytest.param(
            "ON THE%", True, {"on the west edge", "on the north-east corner"}, id="nocase"
        ),
        pytest.param("1e-7 degrees eas_", False, {"1e-7 degrees east"}, id="one-character"),
        pytest.param("far *[Oslo]?", False, {"far *[Oslo]?"}, id="glob-characters-are-literal"),
        pytest.param("%[Oslo]_", False, {"far *[Oslo]?"}, id="glob-characters-in-a-pattern"),
        pytest.param("FAR%", True, {"far *[Oslo]?"}, id="nocase-glob-characters"),
    ],
)
def test_like_has_cql2_meaning(
    session: Session, scene: Scene, pattern: str, nocase: bool, expected: set[str]
) -> None:
    found = _names(
        session, scene, dialect.like(session, col(ActionItem.title), pattern, nocase=nocase)
    )
    assert found == expected


# --- values -------------------------------------------------------------------------------------


def test_geometry_out(session: Session, scene: Scene) -> None:
    item = scene.items["inside"]
    where = col(ActionItem.id) == item.id
    text_ = session.scalar(select(dialect.as_geojson(session, ActionItem.location)).where(where))
    assert json.loads(text_) == {"type": "Point", "coordinates": [5.735, 58.855]}
    wkb = session.scalar(select(dialect.as_wkb(session, ActionItem.location)).where(where))
    assert shapely.from_wkb(bytes(wkb)).equals(Point(5.735, 58.855))
    swapped = session.scalar(
        select(dialect.as_geojson(session, dialect.swap_axes(session, ActionItem.location))).where(
            where
        )
    )
    assert json.loads(swapped)["coordinates"] == [58.855, 5.735]


def test_multi_transform_and_geojson_without_crs(session: Session) -> None:
    org = make_org(session)
    area = _area(session, org, box(*BOX))
    where = col(Area.id) == area.id
    multi = session.scalar(
        select(dialect.as_geojson(session, dialect.multi(session, Area.geometry))).where(where)
    )
    assert json.loads(multi)["type"] == "MultiPolygon"
    assert dialect.transform(Area.geometry, 4326) is Area.geometry
    projected = session.scalar(
        select(dialect.geometry_geojson(session, dialect.transform(Area.geometry, 3857), 1)).where(
            where
        )
    )
    doc = json.loads(projected)
    assert "crs" not in doc
    xs = [p[0] for p in doc["coordinates"][0]]
    ys = [p[1] for p in doc["coordinates"][0]]
    west, south = mercator.from_lonlat(BOX[0], BOX[1])
    assert (min(xs), min(ys)) == pytest.approx((west, south), abs=0.1)


def test_extent(session: Session, scene: Scene) -> None:
    cols = dialect.extent(session, ActionItem.location)
    row = session.execute(
        select(*cols).where(
            col(ActionItem.organization_id) == scene.org.id, col(ActionItem.title) != "far *[Oslo]?"
        )
    ).one()
    # PostGIS' extent comes from single-precision index boxes: equal to about 1e-5°.
    assert [float(v) for v in row] == pytest.approx([5.73, 58.8499999, 5.7400001, 58.86], abs=1e-5)


def test_days_and_dates(session: Session, scene: Scene) -> None:
    where = col(ActionItem.id) == scene.items["inside"].id
    created = col(ActionItem.created_at)
    day = session.scalar(select(dialect.utc_day(session, created)).where(where))
    assert str(day) == "2026-12-01"
    later = literal(datetime(2026, 12, 3, 9, 30, 5, tzinfo=UTC), type_=ITEM.c.created_at.type)
    days = session.scalar(select(dialect.days_between(session, later, created)).where(where))
    assert float(days) == pytest.approx(1.5)
    due = session.scalar(select(dialect.date_text(col(ActionItem.due_date))).where(where))
    assert due == "2026-12-24"


def test_json_values(session: Session, scene: Scene) -> None:
    item = scene.items["inside"]
    where = col(ActionItem.id) == item.id
    assert session.scalar(
        select(dialect.uuid_text(session, col(ActionItem.id))).where(where)
    ) == str(item.id)
    feature = session.scalar(
        select(
            dialect.feature_json(
                session,
                col(ActionItem.id),
                ActionItem.location,
                [
                    ("title", "text", col(ActionItem.title)),
                    ("count", "number", col(ActionItem.observation_count)),
                    ("edited", "bool", col(ActionItem.title_edited)),
                    ("overridden", "bool", col(ActionItem.priority_override) > 0),
                    ("category", "uuid", col(ActionItem.category_id)),
                    ("created", "time", col(ActionItem.created_at)),
                    ("groups", "json", col(ActionItem.participant_groups)),
                ],
            )
        ).where(where)
    )
    assert json.loads(feature) == {
        "type": "Feature",
        "id": str(item.id),
        "geometry": {"type": "Point", "coordinates": [5.735, 58.855]},
        "properties": {
            "title": "inside",
            "count": 0,
            "edited": True,
            "overridden": None,
            "category": str(scene.category_id),
            "created": "2026-12-01T21:30:05Z",
            "groups": ["a", "b"],
        },
    }
    replaced = session.scalar(
        select(
            dialect.feature_json(
                session,
                col(ActionItem.id),
                ActionItem.location,
                [],
                geometry_text=dialect.geometry_geojson(session, ActionItem.location, 1),
            )
        ).where(where)
    )
    assert json.loads(replaced)["geometry"]["coordinates"] == [5.7, 58.9]


def test_vector_tile_where_the_database_encodes_it(session: Session, scene: Scene) -> None:
    if not dialect.has_mvt(session):
        # SpatiaLite has no MVT encoder (api.outputs.tiles encodes in Python there); PostGIS has.
        assert session.get_bind().engine.url.get_backend_name() == "sqlite"
        return
    # Zoom 10 tile holding Sandnes.
    stmt = select(col(ActionItem.id)).where(col(ActionItem.organization_id) == scene.org.id)
    data = dialect.as_mvt(
        session,
        stmt,
        layer="items",
        geom=ActionItem.location,
        tile=(10, 528, 303),
        columns=[("title", col(ActionItem.title))],
        extent=4096,
        buffer=64,
    )
    titles = {
        f["properties"]["title"] for f in mapbox_vector_tile.decode(data)["items"]["features"]
    }
    assert titles == set(POINTS) - {"far *[Oslo]?"}


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        pytest.param(0.0, 0, id="zero"),
        pytest.param(0.4, 0, id="below-half"),
        pytest.param(0.6, 0, id="above-half-floors-not-rounds"),
        pytest.param(31.999, 31, id="last-cell"),
        pytest.param(7.0, 7, id="on-an-edge"),
    ],
)
def test_cell_index_is_the_floor(session: Session, value: float, cell: int) -> None:
    assert session.scalar(select(dialect.cell_index(session, literal(value)))) == cell


@pytest.mark.parametrize(
    ("lon", "lat"),
    [
        pytest.param(5.73, 58.85, id="sandnes"),
        pytest.param(-70.6, -33.4, id="south-west"),
        pytest.param(0.0, 0.0, id="origin"),
    ],
)
def test_web_mercator_xy_is_geo_mercator(session: Session, lon: float, lat: float) -> None:
    x, y = dialect.web_mercator_xy(session, spatial.geom_literal(Point(lon, lat)))
    got = session.execute(select(x, y)).one()
    want = mercator.from_lonlat(lon, lat)
    assert got[0] == pytest.approx(want[0], abs=1e-3)
    assert got[1] == pytest.approx(want[1], abs=1e-3)


def test_web_mercator_point(session: Session) -> None:
    x, y = mercator.from_lonlat(5.73, 58.85)
    point = dialect.web_mercator_point(session, literal(x), literal(y))
    back = func.ST_Transform(point, 4326)
    lon, lat = session.execute(select(func.ST_X(back), func.ST_Y(back))).one()
    assert lon == pytest.approx(5.73, abs=1e-9)
    assert lat == pytest.approx(58.85, abs=1e-9)


# --- writes -------------------------------------------------------------------------------------


def test_bulk_insert_and_update(session: Session, backend: str) -> None:
    org = make_org(session)
    now = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
    rows = [
        {
            "id": uuid.uuid4(),
            "organization_id": org.id,
            "name": f"area {i}",
            "kind": "custom",
            "geometry": box(5.7 + i / 100, 58.8, 5.705 + i / 100, 58.805),
            "created_at": now,
            "updated_at": now,
        }
        for i in range(3)
    ]
    dialect.bulk_insert(session, AREA, rows)
    dialect.bulk_insert(session, AREA, [])
    moved = [
        {
            "id": r["id"],
            "name": f"moved {i}",
            "geometry": LineString([(5, 58), (6, 59)]).buffer(0.01),
        }
        for i, r in enumerate(rows)
    ]
    assert dialect.bulk_update(session, AREA, moved) == 3
    assert dialect.bulk_update(session, AREA, []) == 0
    session.expire_all()
    stored = session.scalars(
        select(Area).where(col(Area.organization_id) == org.id).order_by(col(Area.name))
    ).all()
    assert [a.name for a in stored] == ["moved 0", "moved 1", "moved 2"]
    assert all(spatial.from_db(a.geometry).equals(moved[0]["geometry"]) for a in stored)
    assert stored[0].created_at == now


def test_bulk_update_checks_versions(session: Session, scene: Scene) -> None:
    inside, edge = scene.items["inside"], scene.items["on the west edge"]
    written = dialect.bulk_update(
        session,
        ITEM,
        [
            {"id": inside.id, "title": "renamed", "version": inside.version},
            {"id": edge.id, "title": "stale", "version": edge.version + 5},
        ],
        version="version",
    )
    assert written == 1
    session.expire_all()
    assert (inside.title, inside.version) == ("renamed", 2)
    assert (edge.title, edge.version) == ("on the west edge", 1)


def test_upsert_add_adds_to_counters(session: Session) -> None:
    org = make_org(session)
    key = {
        "organization_id": org.id,
        "resolution": 8,
        "area_id": uuid.uuid4(),
        "category_id": uuid.uuid4(),
        "cell": 42,
    }
    keys = list(key)
    counters = ["n", "score", "dark", "dark_known"]
    row = {**key, "n": 1, "score": 2, "dark": 0, "dark_known": 1}
    dialect.upsert_add(session, TOTAL, keys, counters, [row])
    dialect.upsert_add(session, TOTAL, keys, counters, [row])
    dialect.upsert_add(
        session,
        TOTAL,
        keys,
        counters,
        from_select=select(
            *[literal(v, type_=TOTAL.c[k].type) for k, v in key.items()],
            literal(3),
            literal(3),
            literal(1),
            literal(1),
        ),  # fmt: skip
    )
    stored = session.execute(
        select(TOTAL.c.n, TOTAL.c.score, TOTAL.c.dark, TOTAL.c.dark_known).where(
            TOTAL.c.organization_id == org.id
        )
    ).one()
    assert tuple(stored) == (5, 7, 1, 3)
