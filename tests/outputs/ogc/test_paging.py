"""Paging stays exact while observations arrive (its own module: it writes, so it cannot share
the module-scoped read-only world of the other /ogc tests)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from tests.factories.readers import Readers

OGC = "/ogc"


def _doc(r: Any) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(r.content)
    return doc


def _visible(readers: Readers) -> dict[str, dict[str, Any]]:
    # No sensitive category here: sensitive places have tests of their own
    # (tests/privacy/test_sensitive_outputs.py).
    return {str(k): o for k, o in readers.data.observations.items()}


def _local(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + ("?" + parts.query if parts.query else "")


def test_paging_visits_every_feature_once_while_observations_arrive(
    fresh_readers: Readers, session: Any
) -> None:
    readers = fresh_readers
    from tests.factories.seed import seed

    seen: list[str] = []
    url = f"{OGC}/collections/observations/items?limit=7"
    matched = None
    pages = 0
    while url:
        doc = _doc(readers.get(url))
        matched = doc["numberMatched"] if matched is None else matched
        seen += [f["id"] for f in doc["features"]]
        nxt = [link["href"] for link in doc["links"] if link["rel"] == "next"]
        url = _local(nxt[0]) if nxt else ""
        pages += 1
        if pages == 2:  # new observations arrive while a client pages: they come at the end
            seed(session, readers.world.org, readers.world.walk, None, observations=5, seed=99)
            session.commit()
    assert len(seen) == len(set(seen))
    assert set(_visible(readers)) <= set(seen)
    assert len(seen) == matched + 5
