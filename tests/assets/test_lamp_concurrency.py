"""One item per lamp under concurrent capture: reports of one lamp from both sides of an area
border (two grouping keys, two group locks) still make one item, held together by the lamp's
own group lock."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import timedelta
from typing import Any

from shapely.geometry import Polygon
from sqlalchemy import select

from api.core import spatial
from models import ActionItem, Area, Category, Observation, Organization, utcnow
from tests.factories.assets import make_lamp
from tests.factories.client import SyncClient
from tests.factories.observations import near
from tests.factories.world import staff_token

LAMP = near(0, 0)


def test_reports_of_one_lamp_from_two_areas_at_once_make_one_item(
    live: tuple[Any, Any, dict[str, Any]],
) -> None:
    app, factory, ids = live
    with factory() as s:
        org_id = s.get(Organization, s.get(type(ids["user"]), ids["user"].id).organization_id).id
        org = s.get(Organization, org_id)
        assert org is not None
        # The border runs through the lamp: west and east are two areas.
        lon, lat = LAMP
        for name, x0, x1 in (("Vest", lon - 0.01, lon), ("Øst", lon, lon + 0.01)):
            shape = Polygon(
                [(x0, lat - 0.01), (x1, lat - 0.01), (x1, lat + 0.01), (x0, lat + 0.01)]
            )
            s.add(Area(organization_id=org.id, name=name, geometry=spatial.to_db(shape)))
        # The narrowest distance rule: reports 24 m apart would be two items by distance.
        cat = s.scalar(
            select(Category).where(Category.organization_id == org.id, Category.code == "lighting")
        )
        assert cat is not None
        cat.group_distance_m = 15.0
        lamp = make_lamp(s, org, "B-1", *LAMP)
        s.commit()
        lamp_id = lamp.id
    headers = {"Authorization": f"Bearer {staff_token(app, ids['user'])}"}
    recorded = (utcnow() - timedelta(minutes=1)).isoformat()
    requests = []
    for n in range(16):
        side = -12 if n % 2 else 12
        body = {
            "walk_id": str(ids["walk"]),
            "category": "lighting",
            "location": {"type": "Point", "coordinates": near(side, n - 8)},
            "recorded_at": recorded,
        }
        requests.append(
            ("PUT", f"/api/v1/observations/{uuid.uuid4()}", {"json": body, "headers": headers})
        )
    with SyncClient(app) as client:
        responses = client.gather(requests)
    assert Counter(r.status_code for r in responses) == {201: 16}, [
        r.text for r in responses if r.status_code != 201
    ]
    assert {r.json()["asset_id"] for r in responses} == {str(lamp_id)}
    assert len({r.json()["area_id"] for r in responses}) == 2
    with factory() as s:
        items = list(s.scalars(select(ActionItem).where(ActionItem.asset_id == lamp_id)))
        assert len(items) == 1
        assert items[0].observation_count == 16
        members = s.scalars(
            select(Observation.action_item_id).where(Observation.asset_id == lamp_id)
        ).all()
        assert set(members) == {items[0].id}
