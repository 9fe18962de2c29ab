"""Every output reads a domain's ``features.py``: the maps feed, the OGC collection (and with
it the vector tiles) and the GeoPackage export carry the same properties of an action item and
of an observation, and a hidden item (emptied, merged away) or a sensitive category appears in
no public output. Both databases."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pyogrio
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.action_items import features as item_features
from api.observations import features as observation_features
from models import ActionItem, ActionStatus, Participant
from tests.factories.client import SyncClient
from tests.factories.observations import near, observe, point
from tests.factories.world import World

NAME = "Kari Nordmann"


def _properties(client: SyncClient, world: World, url: str) -> dict[str, dict[str, Any]]:
    res = client.get(url, headers=world.headers("planner"))
    assert res.status_code == 200, res.text
    return {f["id"]: f["properties"] for f in json.loads(res.content)["features"]}


def _gpkg(client: SyncClient, world: World, tmp_path: Path) -> Path:
    area = world.objects["area"]
    res = client.get(
        f"/api/v1/areas/{area.id}/action-list",
        params={"format": "gpkg"},
        headers=world.headers("planner"),
    )
    assert res.status_code == 200, res.text
    path = tmp_path / "list.gpkg"
    path.write_bytes(res.content)
    return path


def _gpkg_item_ids(client: SyncClient, world: World, tmp_path: Path) -> set[str]:
    path = _gpkg(client, world, tmp_path)
    _, _, _, values = pyogrio.raw.read(path, layer="action_items", columns=["id"])
    return {str(v) for v in values[0]}


def _gpkg_fields(client: SyncClient, world: World, tmp_path: Path) -> dict[str, list[str]]:
    path = _gpkg(client, world, tmp_path)
    return {
        layer: list(pyogrio.read_info(path, layer=layer)["fields"])
        for layer in ("action_items", "observations")
    }


@pytest.fixture
def reported(client: SyncClient, world: World, session: Session) -> dict[str, Any]:
    participant = session.get(Participant, world.participant.id)
    assert participant is not None
    participant.display_name = NAME
    session.commit()
    return observe(client, world)


def test_maps_ogc_and_exports_carry_the_same_properties(
    client: SyncClient, world: World, reported: dict[str, Any], tmp_path: Path
) -> None:
    items = {
        "maps": _properties(client, world, "/api/v1/map/action-items"),
        "ogc": _properties(client, world, "/ogc/collections/action-items/items"),
    }
    observations = {
        "maps": _properties(client, world, "/api/v1/map/observations"),
        "ogc": _properties(client, world, "/ogc/collections/observations/items"),
    }
    for name, features in items.items():
        assert set(features[reported["action_item_id"]]) == set(item_features.NAMES), name
    for name, features in observations.items():
        assert set(features[reported["id"]]) == set(observation_features.NAMES), name
    # A GeoPackage adds what a desk reader wants (labels, notes, numbers); it drops nothing.
    fields = _gpkg_fields(client, world, tmp_path)
    assert set(item_features.NAMES) <= set(fields["action_items"])
    assert set(observation_features.NAMES) <= set(fields["observations"])
    # Nobody's identity travels in a feature.
    for features in (*items.values(), *observations.values()):
        assert NAME not in json.dumps(features)
        assert not {"participant_id", "group", "display_name"} & {
            k for props in features.values() for k in props
        }


@pytest.mark.parametrize("hidden", sorted(item_features.HIDDEN_STATUSES))
def test_a_hidden_item_is_in_no_output(
    client: SyncClient, world: World, session: Session, tmp_path: Path, hidden: ActionStatus
) -> None:
    admin = world.headers("admin")
    res = client.patch("/api/v1/organization", json={"public_followup": True}, headers=admin)
    assert res.status_code == 200, res.text
    shown = observe(client, world)["action_item_id"]
    gone = observe(client, world, category="litter", location=point(near(300, 0)))
    gone_id = gone["action_item_id"]
    item = session.get(ActionItem, uuid.UUID(gone_id))
    assert item is not None
    item.status = hidden
    session.commit()
    slug = world.org.slug
    staff = [
        "/api/v1/map/action-items",
        "/ogc/collections/action-items/items",
        f"/api/v1/areas/{world.objects['area'].id}/action-list",
    ]
    for url in staff:
        res = client.get(url, headers=world.headers("planner"))
        assert res.status_code == 200, (url, res.text)
        assert shown in res.text, url
        assert gone_id not in res.text, url
    feed = client.get(f"/public/{slug}/action-items.geojson")
    assert feed.status_code == 200, feed.text
    assert shown in feed.text
    assert gone_id not in feed.text
    area = world.objects["area"]
    page = client.get(f"/public/{slug}/areas/{area.id}")  # the page names items by title
    assert page.status_code == 200, page.text
    titles = {i.id: i.title for i in session.scalars(select(ActionItem))}
    assert titles[uuid.UUID(shown)] in page.text
    assert titles[uuid.UUID(gone_id)] not in page.text
    requests = client.get(f"/open311/v2/requests.json?jurisdiction_id={slug}")
    assert requests.status_code == 200, requests.text
    listed = {r["service_request_id"]: r for r in requests.json()}
    if hidden == ActionStatus.closed_empty:
        assert gone_id not in listed
    else:
        # A case system is told that a merged request is closed, not left waiting.
        assert listed[gone_id]["status"] == "closed"
    csv = client.get(
        f"/api/v1/areas/{area.id}/action-list",
        params={"format": "csv"},
        headers=world.headers("planner"),
    )
    assert csv.status_code == 200, csv.text
    assert shown in csv.text
    assert gone_id not in csv.text
    ids = _gpkg_item_ids(client, world, tmp_path)
    assert shown in ids
    assert gone_id not in ids
