"""OGC API and sensitive places: planners get the seeded sensitive observations generalised.

A module of its own: it commits to a fresh world, which must not wait on the module-scoped
``readers`` fixture's open transaction (the same organization slug)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.factories.readers import Readers
from tests.factories.seed import as_planners_see, categories

OGC = "/ogc"


def _doc(r: Any) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(r.content)
    return doc


def test_planners_see_sensitive_observations_generalised(
    fresh_readers: Readers, session: Any
) -> None:
    readers = fresh_readers
    categories(session, readers.world.org)["incident"].sensitive = True
    session.commit()
    seen = as_planners_see(readers.data)
    doc = _doc(readers.get(f"{OGC}/collections/observations/items?limit=1000"))
    assert doc["numberMatched"] == len(readers.data.observations)
    incidents = 0
    for f in doc["features"]:
        want = seen[f["id"]]
        assert f["geometry"]["coordinates"] == pytest.approx([want["lon"], want["lat"]], abs=1e-6)
        assert f["properties"]["note"] == want["note"]
        incidents += want["category"] == "incident"
    assert incidents
    full = _doc(readers.get(f"{OGC}/collections/observations/items?limit=1000", who="coordinator"))
    assert {f["properties"]["note"] for f in full["features"]} == {
        o["note"] for o in readers.data.observations.values()
    }
