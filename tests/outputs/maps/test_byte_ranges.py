"""Map feeds by byte range, as GDAL's /vsicurl/ reads them (QGIS's "Add vector layer" over
HTTP): the length first, then pieces of the same bytes, for that caller only."""

from __future__ import annotations

import json
import os

import pytest
from sqlalchemy.orm import Session

from api.http import byte_ranges
from tests.factories.client import SyncClient
from tests.factories.seed import seed
from tests.factories.world import World

FEED = "/api/v1/map/observations?limit=10000"


@pytest.fixture
def seeded(world: World, session: Session) -> None:
    seed(session, world.org, world.walk, world.objects["area"], observations=40)
    session.commit()


def test_a_feed_tells_its_length_and_serves_ranges_of_it(
    client: SyncClient, world: World, seeded: None
) -> None:
    whole = client.get(FEED, headers=world.headers("planner"))
    assert whole.status_code == 200
    body = whole.content
    assert whole.headers["content-length"] == str(len(body))
    assert whole.headers["accept-ranges"] == "bytes"
    assert len(json.loads(body)["features"]) == 40
    n = len(body)
    for asked, start, end in (
        ("bytes=0-99", 0, 100),
        ("bytes=100-", 100, n),
        ("bytes=-50", n - 50, n),
        (f"bytes=10-{n + 500}", 10, n),  # past the end: up to the end
    ):
        r = client.get(FEED, headers={**world.headers("planner"), "Range": asked})
        assert r.status_code == 206, asked
        assert r.content == body[start:end], asked
        assert r.headers["content-range"] == f"bytes {start}-{end - 1}/{n}", asked
        assert r.headers["content-length"] == str(end - start), asked
        assert r.headers["etag"] == whole.headers["etag"]


def test_ranges_read_the_document_they_started_on(
    client: SyncClient, world: World, session: Session, seeded: None
) -> None:
    """New data between the pieces of one read does not tear the document; a read without
    Range sees it at once."""
    first = client.get(FEED, headers=world.headers("planner")).content
    seed(session, world.org, world.walk, world.objects["area"], observations=5, seed=99)
    session.commit()
    r = client.get(FEED, headers={**world.headers("planner"), "Range": "bytes=0-"})
    assert r.status_code == 206
    assert r.content == first
    fresh = client.get(FEED, headers=world.headers("planner"))
    assert len(json.loads(fresh.content)["features"]) == 45


def test_a_document_is_served_to_the_caller_it_was_made_for_only(
    client: SyncClient, world: World, session: Session
) -> None:
    seed(
        session, world.org, world.walk, world.objects["area"], observations=14, sensitive="incident"
    )
    session.commit()
    coordinator = client.get(FEED, headers=world.headers("coordinator")).content
    planner = client.get(FEED, headers={**world.headers("planner"), "Range": "bytes=0-"}).content
    assert planner != coordinator  # planners see sensitive places generalised
    fresh = client.get(FEED, headers=world.headers("planner")).content
    assert json.loads(planner)["features"] == json.loads(fresh)["features"]


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        pytest.param({"Range": "bytes=0-9,20-29"}, 200, id="several-ranges-get-the-whole"),
        pytest.param({"Range": "items=0-9"}, 200, id="other-unit-gets-the-whole"),
        pytest.param({"Range": "bytes=0-9", "If-Range": '"stale"'}, 200, id="stale-if-range"),
        pytest.param({"Range": "bytes=99999999-"}, 416, id="past-the-end"),
        pytest.param({"Range": "bytes=-0"}, 416, id="empty-suffix"),
    ],
)
def test_odd_ranges(
    client: SyncClient, world: World, seeded: None, headers: dict[str, str], status: int
) -> None:
    whole = client.get(FEED, headers=world.headers("planner"))
    r = client.get(FEED, headers={**world.headers("planner"), **headers})
    assert r.status_code == status
    if status == 200:
        assert r.content == whole.content
    else:
        assert r.headers["content-type"] == "application/problem+json"
        assert r.headers["content-range"] == f"bytes */{len(whole.content)}"


def test_the_store_forgets_old_documents_and_closes_their_files() -> None:
    now = [0.0]
    store = byte_ranges.DocumentStore(ttl=60, capacity=2, clock=lambda: now[0])
    docs = [byte_ranges.render([f"doc {i}".encode()], store.clock) for i in range(3)]
    for i, doc in enumerate(docs):
        store.put(i, doc)
    assert store.take(0) is None  # beyond capacity: the oldest went
    kept = store.take(2)
    assert kept is not None
    assert os.pread(kept.fd, 100, 0) == b"doc 2"
    kept.close()
    now[0] = 61.0
    assert store.take(1) is None
    assert store.take(2) is None  # expired
    for doc in docs:  # the callers' own copies are theirs to close, and still readable
        assert os.pread(doc.fd, 3, 0) == b"doc"
        doc.close()


def test_hotspots_are_served_by_range_too(client: SyncClient, world: World, seeded: None) -> None:
    url = "/api/v1/map/hotspots?resolution=9"
    whole = client.get(url, headers=world.headers("planner"))
    assert whole.status_code == 200
    assert whole.headers["content-type"] == "application/geo+json"
    assert whole.headers["content-length"] == str(len(whole.content))
    r = client.get(url, headers={**world.headers("planner"), "Range": "bytes=5-24"})
    assert r.status_code == 206
    assert r.content == whole.content[5:25]
