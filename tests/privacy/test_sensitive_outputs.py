"""Sensitive places: one observation of a sensitive category (``incident``, made
actionable by the admin so it has an action item too), fetched through every output by every
kind of caller. Coordinators and admins (and the author) see the true point and the note;
engineers, planners and the other participants of the walk see the centre of its H3
resolution-8 cell and no note; the public sees nothing at all. Filters cannot locate it.
"""

from __future__ import annotations

import hashlib
import json
import math
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import mapbox_vector_tile
import pytest
from sqlalchemy.orm import Session

from api.auth import tokens as token_service
from api.outputs.exports import data as export_data
from geo.projection import geodesic_distance_m
from geo.sensitive import generalise
from models import ActionItem, ActionStatus, Participant, ParticipantGroup, Photo, utcnow
from models.tokens import TokenCreate
from tests.factories import make_category
from tests.factories.client import SyncClient
from tests.factories.world import World, participant_token

TRUE = (5.7352, 58.8517)  # inside the world's Sentrum square
GENERAL = generalise(*TRUE)
NOTE = "Secret place behind the shed"
AUTHOR_NAME = "Hidden Author"
FULL = ("admin", "coordinator", "author")
GENERALISED = ("engineer", "planner", "participant")
STAFF_FULL = ("admin", "coordinator")
STAFF_GENERALISED = ("engineer", "planner")
# Personal access tokens (for QGIS) read /ogc and /tiles only.
READER_GENERALISED = (*STAFF_GENERALISED, "planner_token")


class Scene:
    def __init__(self, app: Any, client: SyncClient, world: World, session: Session) -> None:
        self.client, self.world = client, world
        world.org.public_followup = True
        incident = make_category(session, world.org, "incident")
        assert incident.sensitive
        assert not incident.published
        incident.actionable = True  # an admin may make a sensitive category actionable
        self.author = Participant(
            organization_id=world.org.id,
            walk_id=world.walk.id,
            group=ParticipantGroup.police,
            display_name=AUTHOR_NAME,
        )
        session.add(self.author)
        session.flush()
        planner = world.users["planner"]
        self.pat = token_service.create_token(session, planner, TokenCreate(name="QGIS")).secret
        session.commit()
        self.headers = {
            **{who: world.headers(who) for who in ("admin", "coordinator", "engineer")},
            "planner": world.headers("planner"),
            "participant": world.headers("participant"),
            "author": {"Authorization": f"Bearer {participant_token(app, self.author)}"},
            "planner_token": {"Authorization": f"Bearer {self.pat}"},
            "anonymous": {},
        }
        self.obs = self.put("incident", TRUE, NOTE)
        self.plain = self.put("lighting", (5.7362, 58.8520), "Lamp out by the school")
        self.item_id = self.obs["action_item_id"]
        assert self.item_id is not None
        # A photo row of the sensitive observation (no file needed to test who may list it).
        self.photo = Photo(
            id=uuid.uuid4(),
            organization_id=world.org.id,
            observation_id=uuid.UUID(self.obs["id"]),
            upload_sha256=hashlib.sha256(b"x").hexdigest(),
            sha256=hashlib.sha256(b"x").hexdigest(),
            media_type="image/jpeg",
            size_bytes=1,
            width=1,
            height=1,
            uploaded_by_participant_id=self.author.id,
        )
        session.add(self.photo)
        session.commit()

    def put(self, category: str, pos: tuple[float, float], note: str) -> dict[str, Any]:
        body = {
            "walk_id": str(self.world.walk.id),
            "category": category,
            "location": {"type": "Point", "coordinates": list(pos)},
            "accuracy_m": 4.0,
            "severity": 3,
            "note": note,
            "recorded_at": (utcnow() - timedelta(minutes=5)).isoformat(),
        }
        r = self.client.put(
            f"/api/v1/observations/{uuid.uuid4()}", headers=self.headers["author"], json=body
        )
        assert r.status_code == 201, r.text
        out: dict[str, Any] = r.json()
        return out

    def plain_item_location(self, who: str) -> dict[str, Any]:
        item = self.json(f"/api/v1/action-items/{self.plain['action_item_id']}", who)
        location: dict[str, Any] = item["location"]
        return location

    def get(self, url: str, who: str, status: int | None = 200, **kw: Any) -> Any:
        r = self.client.get(url, headers=self.headers[who], **kw)
        if status is not None:
            assert r.status_code == status, (who, url, r.text)
        return r

    def json(self, url: str, who: str, **kw: Any) -> Any:
        return json.loads(self.get(url, who, **kw).content)


@pytest.fixture
def scene(app: Any, client: SyncClient, world: World, session: Session) -> Scene:
    return Scene(app, client, world, session)


def _feature(doc: dict[str, Any], fid: str) -> dict[str, Any] | None:
    return next((f for f in doc["features"] if f["id"] == fid), None)


def _coords(geometry: dict[str, Any]) -> tuple[float, float]:
    x, y = geometry["coordinates"][:2]
    return float(x), float(y)


def _assert_shown(who: str, coords: tuple[float, float], note: Any) -> None:
    if who in FULL:
        assert coords == pytest.approx(TRUE, abs=1e-6), who
        assert note == NOTE, who
    else:
        assert coords == pytest.approx(GENERAL, abs=1e-6), who
        assert note is None, who


def test_the_generalised_point_is_far_enough_to_matter() -> None:
    assert geodesic_distance_m(*TRUE, *GENERAL) > 50


def test_observation_reads(scene: Scene) -> None:
    oid = scene.obs["id"]
    for who in (*FULL, *GENERALISED):
        one = scene.json(f"/api/v1/observations/{oid}", who)
        _assert_shown(who, _coords(one["location"]), one["note"])
        listed = scene.json(f"/api/v1/observations?walk_id={scene.world.walk.id}", who)
        row = next(o for o in listed["items"] if o["id"] == oid)
        assert row == one, who
        if who in FULL:
            assert one["accuracy_m"] == 4.0
            assert one["photo_ids"] == [str(scene.photo.id)]
        else:
            assert one["accuracy_m"] is None
            assert one["photo_ids"] == []
            assert one["photos"] == []
            scene.get(f"/api/v1/photos/{scene.photo.id}", who, status=404)
        # The other participant of the walk sees no identity at all, not even the group.
        if who == "participant":
            assert one["participant_group"] is None
            assert row["participant_group"] is None
            assert AUTHOR_NAME not in json.dumps(listed)
    # A plain observation of another participant: in full, but anonymous.
    plain = scene.json(f"/api/v1/observations/{scene.plain['id']}", "participant")
    assert plain["note"] == "Lamp out by the school"
    assert plain["participant_group"] is None
    assert scene.json(f"/api/v1/observations/{scene.plain['id']}", "author")[
        "participant_group"
    ] == ("police")


def test_map_feeds(scene: Scene) -> None:
    oid = scene.obs["id"]
    for who in (*STAFF_FULL, *STAFF_GENERALISED):
        doc = scene.json("/api/v1/map/observations", who)
        f = _feature(doc, oid)
        assert f is not None
        _assert_shown(who, _coords(f["geometry"]), f["properties"]["note"])
    for who in (*FULL, *GENERALISED):
        doc = scene.json(f"/api/v1/map/walks/{scene.world.walk.id}", who)
        f = _feature(doc, oid)
        assert f is not None, who
        _assert_shown(who, _coords(f["geometry"]), f["properties"]["note"])
        text = json.dumps(doc)
        assert AUTHOR_NAME not in text
        assert str(scene.author.id) not in text


def test_action_items(scene: Scene) -> None:
    iid = scene.item_id
    for who in (*STAFF_FULL, *STAFF_GENERALISED):
        item = scene.json(f"/api/v1/action-items/{iid}", who)
        coords = _coords(item["location"])
        doc = scene.json("/api/v1/map/action-items", who)
        f = _feature(doc, iid)
        assert f is not None
        assert _coords(f["geometry"]) == pytest.approx(coords, abs=1e-6)
        obs = scene.json(f"/api/v1/action-items/{iid}/observations", who)["items"]
        assert len(obs) == 1
        _assert_shown(who, _coords(obs[0]["location"]), obs[0]["note"])
        if who in STAFF_FULL:
            assert coords == pytest.approx(TRUE, abs=1e-6)
        else:
            assert coords == pytest.approx(GENERAL, abs=1e-6)
            assert item["footprint"] is None


def test_ogc_items_and_extent(scene: Scene) -> None:
    oid, iid = scene.obs["id"], scene.item_id
    for who in (*STAFF_FULL, *READER_GENERALISED):
        f = scene.json(f"/ogc/collections/observations/items/{oid}", who)
        _assert_shown(who, _coords(f["geometry"]), f["properties"]["note"])
        page = scene.json("/ogc/collections/observations/items?limit=100", who)
        listed = _feature(page, oid)
        assert listed is not None
        assert _coords(listed["geometry"]) == _coords(f["geometry"])
        item = scene.json(f"/ogc/collections/action-items/items/{iid}", who)
        want = TRUE if who in STAFF_FULL else GENERAL
        assert _coords(item["geometry"]) == pytest.approx(want, abs=1e-6)
        # The extent is of what the caller is shown: it cannot bound the true point.
        ext = scene.json("/ogc/collections/action-items", who)["extent"]["spatial"]["bbox"][0]
        other = _coords(scene.plain_item_location("coordinator"))
        xs, ys = (want[0], other[0]), (want[1], other[1])
        assert ext == pytest.approx([min(xs), min(ys), max(xs), max(ys)], abs=1e-6)


def _box(center: tuple[float, float], metres: float) -> tuple[float, float, float, float]:
    dlat = metres / 111_320
    dlon = dlat / math.cos(math.radians(center[1]))
    return (center[0] - dlon, center[1] - dlat, center[0] + dlon, center[1] + dlat)


def _polygon(b: tuple[float, float, float, float]) -> str:
    x0, y0, x1, y1 = b
    return f"POLYGON(({x0} {y0},{x1} {y0},{x1} {y1},{x0} {y1},{x0} {y0}))"


def test_filters_cannot_locate_the_true_point(scene: Scene) -> None:
    oid, iid = scene.obs["id"], scene.item_id
    near_true, near_general = _box(TRUE, 30), _box(GENERAL, 30)
    for who in (*STAFF_FULL, *STAFF_GENERALISED):
        sees_true = who in STAFF_FULL
        for b, expect in ((near_true, sees_true), (near_general, not sees_true)):
            bbox = ",".join(str(v) for v in b)
            feeds = {
                "map": scene.json(f"/api/v1/map/observations?bbox={bbox}", who),
                "ogc": scene.json(f"/ogc/collections/observations/items?bbox={bbox}", who),
                "cql2": scene.json(
                    "/ogc/collections/observations/items",
                    who,
                    params={"filter": f"S_INTERSECTS(geometry, {_polygon(b)})"},
                ),
            }
            for name, doc in feeds.items():
                assert (_feature(doc, oid) is not None) == expect, (who, name, b)
            listed = scene.json(f"/api/v1/observations?bbox={bbox}", who)["items"]
            assert any(o["id"] == oid for o in listed) == expect, (who, b)
            items = scene.json(f"/api/v1/map/action-items?bbox={bbox}", who)
            ogc_items = scene.json(f"/ogc/collections/action-items/items?bbox={bbox}", who)
            for doc in (items, ogc_items):
                assert (_feature(doc, iid) is not None) == expect, (who, "items", b)
        # Nor can a filter on the note find it.
        doc = scene.json(
            "/ogc/collections/observations/items",
            who,
            params={"filter": "note LIKE '%Secret%'"},
        )
        assert (_feature(doc, oid) is not None) == sees_true, who


def _tile(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 1 << z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


def _tile_ids(scene: Scene, layer: str, who: str, z: int, xy: tuple[int, int]) -> set[str]:
    """The ids in a tile. Which status is exact follows from what the tile holds for ``who``
    (the scene's other features may share it): 204 and no body for nothing, else 200."""
    r = scene.get(f"/tiles/{layer}/{z}/{xy[0]}/{xy[1]}.mvt", who, status=None)
    if r.status_code == 204:
        assert r.content == b""
        return set()
    assert r.status_code == 200, r.text
    decoded = mapbox_vector_tile.decode(r.content)
    ids = {str(f["properties"].get("id")) for f in decoded.get(layer, {}).get("features", [])}
    assert ids, "a tile with nothing in it is answered 204, not an empty 200"
    return ids


def test_vector_tiles(scene: Scene) -> None:
    z = 17
    at_true, at_general = _tile(*TRUE, z), _tile(*GENERAL, z)
    assert at_true != at_general
    for layer, fid in (("observations", scene.obs["id"]), ("action-items", scene.item_id)):
        for who in (*STAFF_FULL, *READER_GENERALISED):
            sees_true = who in STAFF_FULL
            assert (fid in _tile_ids(scene, layer, who, z, at_true)) == sees_true, (layer, who)
            assert (fid in _tile_ids(scene, layer, who, z, at_general)) != sees_true, (
                layer,
                who,
            )


def test_exports(scene: Scene, session: Session, tmp_path: Path) -> None:
    pyogrio = pytest.importorskip("pyogrio")
    area = scene.world.objects["area"]
    base = f"/api/v1/areas/{area.id}/action-list"
    for who in (*STAFF_FULL, *STAFF_GENERALISED):
        sees_true = who in STAFF_FULL
        csv = scene.get(f"{base}?format=csv&delimiter=comma", who).content.decode("utf-8-sig")
        row = next(line for line in csv.splitlines() if scene.item_id in line)
        want = TRUE if sees_true else GENERAL
        assert f"{want[1]}" in row, (who, row)
        assert f"{want[0]}" in row, (who, row)
        gpkg = tmp_path / f"{who}.gpkg"
        gpkg.write_bytes(scene.get(f"{base}?format=gpkg", who).content)
        for layer, _ in pyogrio.list_layers(gpkg):
            df = pyogrio.read_dataframe(gpkg, layer=layer)
            if "note" in df.columns:
                assert (NOTE in set(df["note"].dropna())) == sees_true, (who, layer)
            for geom in df.geometry:
                if geom is not None and geom.geom_type == "Point":
                    assert (geom.x, geom.y) != pytest.approx(TRUE, abs=1e-6) or sees_true
        for fmt in ("xlsx", "pdf"):
            scene.get(f"{base}?format={fmt}", who)
    # xlsx and pdf render the same listing.
    listing = export_data.area_listing(
        session, scene.world.org, area, include_closed=False, full=False
    )
    row = next(o for o in listing.observations if str(o.id) == scene.obs["id"])
    assert (row.lon, row.lat) == pytest.approx(GENERAL, abs=1e-6)
    assert row.note is None
    assert row.thumb_key is None
    item = next(i for i in listing.items if str(i.id) == scene.item_id)
    assert (item.lon, item.lat) == pytest.approx(GENERAL, abs=1e-6)
    assert item.notes == []
    assert item.photo_id is None
    full = export_data.walk_listing(session, scene.world.org, scene.world.walk)
    row = next(o for o in full.observations if str(o.id) == scene.obs["id"])
    assert row.note == NOTE  # the walk report is for coordinators: in full


def test_nearby_leaves_sensitive_items_out(scene: Scene) -> None:
    for who in ("participant", "coordinator"):
        got = scene.json(f"/api/v1/observations/nearby?lon={TRUE[0]}&lat={TRUE[1]}&radius=100", who)
        assert all(i["id"] != scene.item_id for i in got["items"]), who


def test_public_outputs_never_show_sensitive_categories(scene: Scene) -> None:
    slug = scene.world.org.slug
    docs = [
        scene.get(f"/public/{slug}/action-items.geojson", "anonymous").text,
        scene.get(f"/public/{slug}/", "anonymous").text,
        scene.get(f"/open311/v2/requests.json?jurisdiction_id={slug}", "anonymous").text,
        scene.get(f"/open311/v2/services.json?jurisdiction_id={slug}", "anonymous").text,
    ]
    r = scene.client.get(f"/open311/v2/services/incident.json?jurisdiction_id={slug}")
    assert r.status_code == 404
    for text in docs:
        assert scene.item_id not in text
        assert "incident" not in text
        assert NOTE not in text
        assert f"{GENERAL[0]:.4f}" not in text
        assert f"{TRUE[0]:.4f}" not in text
    r = scene.client.get(f"/open311/v2/requests/{scene.item_id}.json?jurisdiction_id={slug}")
    assert r.status_code == 404 or scene.item_id not in r.text


def test_a_toggle_of_the_flag_takes_effect_at_once(scene: Scene) -> None:
    oid = scene.obs["id"]
    url = f"/api/v1/observations/{oid}"
    admin = scene.headers["admin"]
    r = scene.client.patch("/api/v1/categories/incident", json={"sensitive": False}, headers=admin)
    assert r.status_code == 200, r.text
    one = scene.json(url, "planner")
    assert _coords(one["location"]) == pytest.approx(TRUE, abs=1e-6)
    assert one["note"] == NOTE
    f = scene.json(f"/ogc/collections/observations/items/{oid}", "planner")
    assert _coords(f["geometry"]) == pytest.approx(TRUE, abs=1e-6)
    r = scene.client.patch("/api/v1/categories/incident", json={"sensitive": True}, headers=admin)
    assert r.status_code == 200, r.text
    one = scene.json(url, "planner")
    assert _coords(one["location"]) == pytest.approx(GENERAL, abs=1e-6)
    f = scene.json(f"/ogc/collections/observations/items/{oid}", "planner")
    assert _coords(f["geometry"]) == pytest.approx(GENERAL, abs=1e-6)
    item = scene.json(f"/api/v1/action-items/{scene.item_id}", "planner")
    assert _coords(item["location"]) == pytest.approx(GENERAL, abs=1e-6)


def test_nearby_resolved_leaves_sensitive_items_out(scene: Scene, session: Session) -> None:
    item = session.get(ActionItem, uuid.UUID(scene.item_id))
    assert item is not None
    item.status = ActionStatus.resolved
    session.commit()
    url = f"/api/v1/walks/{scene.world.walk.id}/nearby-resolved?lon={TRUE[0]}&lat={TRUE[1]}"
    for who, shown in (("participant", False), ("planner", False), ("coordinator", True)):
        got = [i["id"] for i in scene.json(url, who)]
        assert (scene.item_id in got) is shown, who
