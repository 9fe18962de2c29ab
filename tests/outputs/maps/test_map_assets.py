"""A participant's lamps: those within 100 m of their walk's area itself, not of its bounding
box."""

from __future__ import annotations

from shapely.geometry import Polygon
from sqlalchemy.orm import Session

from api.core import spatial
from models import Area
from tests.factories.assets import make_lamp
from tests.factories.client import SyncClient
from tests.factories.observations import near
from tests.factories.world import World

# The world's square cut along its diagonal: the north-east half is bounding box, not area.
TRIANGLE = Polygon([(5.728, 58.848), (5.742, 58.848), (5.728, 58.856)])
DIAGONAL_MIDDLE = [5.735, 58.852]
# Out of the triangle across its diagonal, per metre (east, north).
OUT = (0.7414, 0.6711)


def test_a_participant_sees_the_lamps_within_100_m_of_the_area_shape(
    client: SyncClient, world: World, session: Session
) -> None:
    area = session.get(Area, world.objects["area"].id)
    assert area is not None
    area.geometry = spatial.to_db(TRIANGLE)
    lamps = {
        "INSIDE": near(100, 100, base=[5.728, 58.848]),
        "OUT-50M": near(50 * OUT[0], 50 * OUT[1], base=DIAGONAL_MIDDLE),
        "OUT-150M": near(150 * OUT[0], 150 * OUT[1], base=DIAGONAL_MIDDLE),
        "BOX-CORNER": near(-10, -10, base=[5.742, 58.856]),
        "BEYOND-BOX": near(0, 150, base=[5.735, 58.856]),
    }
    for number, (lon, lat) in lamps.items():
        make_lamp(session, world.org, number, lon, lat)
    session.commit()

    mine = client.get("/api/v1/map/assets", headers=world.headers("participant"))
    assert mine.status_code == 200, mine.text
    assert {f["properties"]["external_id"] for f in mine.json()["features"]} == {
        "INSIDE",
        "OUT-50M",
    }
    # Staff see every lamp of the organization.
    staff = client.get("/api/v1/map/assets", headers=world.headers("planner"))
    assert {f["properties"]["external_id"] for f in staff.json()["features"]} == set(lamps)
