"""The area import's report as a person and the web app read it: each issue numbers its
feature from 1 (as a person counts the features of a file, beside ``index`` from 0) and
carries a code the web app words in the reader's language. Both databases."""

from __future__ import annotations

from typing import Any

import pytest

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


# A figure of eight is repaired (two triangles); a ring that only doubles back on itself has
# no area left and is refused.
FIGURE_EIGHT = [[5.70, 58.80], [5.72, 58.82], [5.72, 58.80], [5.70, 58.82], [5.70, 58.80]]
FLAT = [[5.70, 58.80], [5.71, 58.81], [5.70, 58.80], [5.70, 58.80]]
WORDS = {
    "nb": (
        "reparert: omrisset krysser seg selv ved breddegrad 58,81, lengdegrad 5,71",
        "ugyldig polygon som ikke kan repareres: en ring har for få ulike punkter, "
        "ved breddegrad 58,8, lengdegrad 5,7",
        "objekt 2: ",
    ),
    "sv": (
        "reparerad: avgränsningen korsar sig själv vid latitud 58,81, longitud 5,71",
        "ogiltig polygon som inte kan repareras: en ring har för få olika punkter, "
        "vid latitud 58,8, longitud 5,7",
        "objekt 2: ",
    ),
    "en": (
        "repaired: the outline crosses itself at latitude 58.81, longitude 5.71",
        "invalid polygon that cannot be repaired: a ring has too few distinct points, "
        "at latitude 58.8, longitude 5.7",
        "feature 2: ",
    ),
}


@pytest.mark.parametrize("lang", list(WORDS))
def test_geos_reasons_in_the_readers_language(client: SyncClient, world: World, lang: str) -> None:
    """GEOS's English reason ("Self-intersection[5.71 58.81]") becomes the catalogue's
    sentence, with the position as the reader writes numbers, in the report and in the
    problem detail alike."""
    repaired, refused, prefix = WORDS[lang]
    body = {
        "type": "FeatureCollection",
        "features": [
            _feature("Åtte", {"type": "Polygon", "coordinates": [FIGURE_EIGHT]}),
            _feature("Flat", {"type": "Polygon", "coordinates": [FLAT]}),
        ],
    }
    h = {**world.headers("coordinator"), "Accept-Language": lang}
    r = client.post("/api/v1/areas/import", headers=h, json=body, params={"skip_invalid": "1"})
    assert r.status_code == 200, r.text
    (fixed,) = r.json()["repaired"]
    assert (fixed["problem"], fixed["at"], fixed["detail"]) == (
        "self_intersection",
        [5.71, 58.81],
        repaired,
    )
    assert fixed["reason"].endswith("Self-intersection[5.71 58.81]")  # GEOS's own, in English
    (bad,) = r.json()["refused"]
    assert (bad["code"], bad["problem"], bad["at"], bad["detail"]) == (
        "bad_geometry",
        "too_few_points",
        [5.7, 58.8],
        refused,
    )

    # All or nothing: the problem detail and its errors name the fault in the same words.
    r = client.post("/api/v1/areas/import", headers=h, json=body)
    assert r.status_code == 422
    problem = r.json()
    assert problem["errors"] == [{"loc": ["body", "features", 1, "geometry"], "msg": refused}]
    assert problem["refused"][0]["detail"] == refused
    assert problem["detail"].startswith(prefix + refused)
