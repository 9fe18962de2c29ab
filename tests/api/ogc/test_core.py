"""OGC API – Features Part 1 in-process: the CITE assertions ported, items, paging, filters."""

from __future__ import annotations

import json
from typing import Any

from tests.api.ogc.conftest import N_ITEMS, N_OBSERVATIONS, Readers

OGC = "/ogc"
CORE = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core"


def _features(r: Any) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(r.content)
    return doc


def test_landing_page_links(readers: Readers) -> None:
    doc = readers.get(OGC).json()
    rels = {link["rel"]: link for link in doc["links"]}
    assert rels["service-desc"]["type"] == "application/vnd.oai.openapi+json;version=3.0"
    assert rels["service-desc"]["href"].endswith("/ogc/api")
    assert rels["service-doc"]["type"] == "text/html"
    assert rels["conformance"]["href"].endswith("/ogc/conformance")
    assert rels["data"]["href"].endswith("/ogc/collections")
    assert all("rel" in link and "type" in link and "href" in link for link in doc["links"])


def test_items_smoke(readers: Readers) -> None:
    r = readers.get(f"{OGC}/collections/observations/items?limit=10")
    doc = _features(r)
    assert doc["numberReturned"] == 10
    assert doc["numberMatched"] == N_OBSERVATIONS - len(
        [o for o in readers.data.observations.values() if o["category"] == "incident"]
    )
    r = readers.get(f"{OGC}/collections/action-items/items")
    assert _features(r)["numberMatched"] == N_ITEMS
    r = readers.get(f"{OGC}/collections/areas/items")
    assert _features(r)["features"][0]["geometry"]["type"] == "MultiPolygon"
    readers.get(f"{OGC}/collections")
    readers.get(f"{OGC}/api")
