"""The area import's report as a person and the web app read it: each issue numbers its
feature from 1 (as a person counts the features of a file, beside ``index`` from 0) and
carries a code the web app words in the reader's language. Both databases."""

from __future__ import annotations

from typing import Any

from tests.factories.client import SyncClient
from tests.factories.world import World

RING = [[5.74, 58.84], [5.75, 58.84], [5.75, 58.85], [5.74, 58.85], [5.74, 58.84]]
BOW_TIE = [[5.70, 58.80], [5.72, 58.82], [5.72, 58.80], [5.70, 58.82], [5.70, 58.80]]


def _feature(name: str | None, geometry: Any) -> Any:
    return {"type": "Feature", "properties": {"name": name} if name else {}, "geometry": geometry}


def test_issues_number_features_from_one_with_a_code(client: SyncClient, world: World) -> None:
    body = {
        "type": "FeatureCollection",
        "features": [
            _feature("Bussholdeplass", {"type": "Point", "coordinates": [5.73, 58.85]}),
            {"type": "Polygon", "coordinates": [RING]},
            _feature(None, {"type": "Polygon", "coordinates": [RING]}),
            _feature("Sløyfe", {"type": "Polygon", "coordinates": [BOW_TIE]}),
            _feature("Trones", {"type": "Polygon", "coordinates": [RING]}),
        ],
    }
    h = world.headers("coordinator")
    r = client.post("/api/v1/areas/import", headers=h, json=body)
    assert r.status_code == 422, r.text
    problem = r.json()
    assert [(f["index"], f["feature"], f["code"]) for f in problem["refused"]] == [
        (0, 1, "bad_geometry"),
        (1, 2, "not_a_feature"),
        (2, 3, "no_name"),
    ]
    assert "Point" in problem["refused"][0]["reason"]  # the detail stays, for the curious

    r = client.post("/api/v1/areas/import", headers=h, json=body, params={"skip_invalid": "true"})
    assert r.status_code == 200, r.text
    result = r.json()
    assert result["created"] == 2
    assert [(f["feature"], f["code"]) for f in result["repaired"]] == [(4, "repaired")]
    assert [f["feature"] for f in result["refused"]] == [1, 2, 3]
