"""Input that makes sense: far and swapped locations, held observations and the review queue,
pre-moderation, moderation reasons, the author's corrections and withdrawal (photo files
included), and "is this already reported?" nearby."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from shapely.geometry import LineString, box
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session
from sqlmodel import col

from api.core import spatial
from api.core.i18n import decimal
from api.observations.service import fill_reason_codes
from api.settings import Settings
from models import (
    ActionItem,
    ActionStatus,
    Observation,
    Participant,
    ParticipantGroup,
    Photo,
)
from tests.factories import make_walk
from tests.factories.client import SyncClient
from tests.factories.observations import INSIDE, near, obs_body, point
from tests.factories.photos import camera_jpeg, plain_jpeg, put_photo, stored_files
from tests.factories.world import World, participant_token

# Inside the world's Sentrum square (5.728..5.742 E, 58.848..58.856 N).


# ~600 m north of the square's northern edge: near the walk, outside every area.
OUTSIDE_AREAS = [5.7352, 58.8614]


def put(client: SyncClient, world: World, who: str = "participant", **kw: Any) -> Any:
    return client.put(
        f"/api/v1/observations/{uuid.uuid4()}",
        headers=world.headers(who),
        json=obs_body(world, **kw),
    )


def count(session: Session, model: Any) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def item_of(session: Session, item_id: str | None) -> ActionItem:
    assert item_id is not None
    session.expire_all()
    item = session.get(ActionItem, uuid.UUID(item_id))
    assert item is not None
    return item


# --- far and swapped ---------------------------------------------------------------------


def test_swapped_coordinates_are_refused_and_named(
    client: SyncClient, world: World, session: Session
) -> None:
    before = (count(session, Observation), count(session, ActionItem))
    # What a phone that writes [lat, lon] sends for Sandnes.
    r = put(client, world, location=point([INSIDE[1], INSIDE[0]]))
    assert r.status_code == 422, r.text
    problem = r.json()
    assert problem["errors"][0]["loc"] == ["body", "location"]
    # The detail and the errors speak the organization's language (Bokmål) unless the phone
    # asks otherwise.
    assert "byttet om" in problem["errors"][0]["msg"]
    assert problem["detail"] == f"body.location: {problem['errors'][0]['msg']}"
    assert "[lengdegrad, breddegrad]" in problem["detail"]
    english = client.put(
        f"/api/v1/observations/{uuid.uuid4()}",
        headers={**world.headers("participant"), "Accept-Language": "en"},
        json=obs_body(world, location=point([INSIDE[1], INSIDE[0]])),
    ).json()
    assert english["detail"].startswith("body.location: the coordinates look swapped")
    assert "[longitude, latitude]" in english["detail"]
    assert "swapped" in english["errors"][0]["msg"]
    assert (count(session, Observation), count(session, ActionItem)) == before


def test_a_far_away_point_is_refused_without_a_swap_hint(
    client: SyncClient, world: World, session: Session
) -> None:
    before = (count(session, Observation), count(session, ActionItem))
    r = put(client, world, location=point([10.7522, 59.9139]))  # Oslo, ~300 km away
    assert r.status_code == 422, r.text
    err = r.json()["errors"][0]
    assert err["loc"] == ["body", "location"]
    assert "km fra vandringens område" in err["msg"]
    assert "byttet om" not in err["msg"]
    assert (count(session, Observation), count(session, ActionItem)) == before


def test_batch_marks_far_and_swapped_items_invalid_and_keeps_the_rest(
    client: SyncClient, world: World, session: Session
) -> None:
    good = obs_body(world, id=str(uuid.uuid4()))
    swapped = obs_body(world, id=str(uuid.uuid4()), location=point([INSIDE[1], INSIDE[0]]))
    far = obs_body(world, id=str(uuid.uuid4()), location=point([10.7522, 59.9139]))
    r = client.post(
        "/api/v1/observations/batch",
        headers=world.headers("participant"),
        json={"observations": [good, swapped, far]},
    )
    assert r.status_code == 200, r.text
    res = r.json()["results"]
    assert [x["status"] for x in res] == ["created", "invalid", "invalid"]
    assert res[1]["errors"][0]["loc"] == ["body", "observations", 1, "location"]
    # Each refusal speaks the reader's language, as a problem detail does: the
    # organization's Bokmål by default, the phone's language when it asks.
    assert "byttet om" in res[1]["errors"][0]["msg"]
    assert res[2]["errors"][0]["loc"] == ["body", "observations", 2, "location"]
    assert session.get(Observation, uuid.UUID(swapped["id"])) is None
    assert session.get(Observation, uuid.UUID(far["id"])) is None
    swedish = client.post(
        "/api/v1/observations/batch",
        headers={**world.headers("participant"), "Accept-Language": "sv"},
        json={"observations": [swapped]},
    ).json()["results"]
    assert swedish[0]["status"] == "invalid"
    assert "omkastade" in swedish[0]["errors"][0]["msg"]
    assert "[longitud, latitud]" in swedish[0]["errors"][0]["msg"]


def test_distance_is_measured_from_the_route_too_and_is_configurable(
    app: Any, client: SyncClient, world: World, session: Session
) -> None:
    # A walk with a route and no area, 3 km east of the square.
    start = near(3000, 0)
    walk = make_walk(
        session, world.org, route=spatial.to_db(LineString([start, near(500, 0, start)]))
    )
    session.commit()
    h = "coordinator"
    assert (
        put(
            client, world, h, walk_id=str(walk.id), location=point(near(0, 1500, start))
        ).status_code
        == 201
    )
    r = put(client, world, h, walk_id=str(walk.id), location=point(near(0, 2500, start)))
    assert r.status_code == 422
    assert f"{decimal(2000, 'nb')} m" in r.json()["errors"][0]["msg"]  # as Bokmål writes it
    settings: Settings = app.state.settings
    settings.walk_max_distance_m = 1000
    r = put(client, world, h, walk_id=str(walk.id), location=point(near(0, 1500, start)))
    assert r.status_code == 422
    assert f"{decimal(1000, 'nb')} m" in r.json()["errors"][0]["msg"]


def test_a_walk_without_area_or_route_is_not_checked(
    client: SyncClient, world: World, session: Session
) -> None:
    walk = make_walk(session, world.org)
    session.commit()
    r = put(client, world, "coordinator", walk_id=str(walk.id), location=point([10.7522, 59.9139]))
    assert r.status_code == 201, r.text
    # Far from Sentrum, so outside every area: held, not grouped.
    assert r.json()["moderation"] == "submitted"


def test_unknown_category_lists_the_valid_codes(client: SyncClient, world: World) -> None:
    r = put(client, world, category="ufo")
    assert r.status_code == 422
    msg = r.json()["errors"][0]["msg"]
    assert r.json()["errors"][0]["loc"] == ["body", "category"]
    for code in ("lighting", "graffiti", "positive_place"):
        assert code in msg


# --- held for review, the queue, pre-moderation ------------------------------------------


def _queue(client: SyncClient, world: World) -> list[str]:
    r = client.get(
        "/api/v1/observations",
        params={"moderation": "submitted"},
        headers=world.headers("coordinator"),
    )
    assert r.status_code == 200, r.text
    return [o["id"] for o in r.json()["items"]]


def test_outside_every_area_is_held_then_accepted_with_a_reason(
    client: SyncClient, world: World, session: Session
) -> None:
    items_before = count(session, ActionItem)
    r = put(client, world, location=point(OUTSIDE_AREAS))
    assert r.status_code == 201, r.text
    held = r.json()
    assert held["moderation"] == "submitted"
    assert held["area_id"] is None
    assert held["action_item_id"] is None
    assert "outside every area" in held["moderation_reason"]
    assert held["moderation_reason_code"] == "outside_areas"
    assert count(session, ActionItem) == items_before
    assert held["id"] in _queue(client, world)

    ok = client.patch(
        f"/api/v1/observations/{held['id']}",
        headers=world.headers("coordinator"),
        json={"moderation": "accepted", "reason": "Path just outside the district, still ours"},
    )
    assert ok.status_code == 200, ok.text
    assert ok.json()["moderation_reason"] == "Path just outside the district, still ours"
    # The coordinator's own words have no code: the service's reason no longer applies.
    assert ok.json()["moderation_reason_code"] is None
    item = item_of(session, ok.json()["action_item_id"])
    assert item.observation_count == 1
    assert held["id"] not in _queue(client, world)


def test_reasons_stored_before_codes_get_their_code_from_the_words(
    client: SyncClient, world: World, session: Session
) -> None:
    held = put(client, world, location=point(OUTSIDE_AREAS)).json()["id"]
    mine = put(client, world).json()["id"]
    r = client.patch(
        f"/api/v1/observations/{mine}",
        headers=world.headers("coordinator"),
        json={"moderation": "hidden", "reason": "Names a neighbour"},
    )
    assert r.status_code == 200, r.text
    # As the rows were before the column: the words only.
    session.execute(update(Observation).values(moderation_reason_code=None))
    assert fill_reason_codes(session) == 1
    assert fill_reason_codes(session) == 0  # done once; a rerun finds nothing
    session.expire_all()
    codes = {
        str(o.id): (o.moderation_reason, o.moderation_reason_code)
        for o in session.scalars(select(Observation))
    }
    assert codes[held] == ("outside every area of the organization", "outside_areas")
    assert codes[mine] == ("Names a neighbour", None)


def test_pre_moderation_holds_everything_until_accepted(
    client: SyncClient, world: World, session: Session
) -> None:
    assert (
        client.patch(
            "/api/v1/organization",
            headers=world.headers("coordinator"),
            json={"moderation_mode": "pre"},
        ).status_code
        == 403
    )
    r = client.patch(
        "/api/v1/organization", headers=world.headers("admin"), json={"moderation_mode": "pre"}
    )
    assert r.status_code == 200, r.text
    assert r.json()["moderation_mode"] == "pre"
    assert (
        client.get("/api/v1/organization", headers=world.headers("admin")).json()["moderation_mode"]
        == "pre"
    )

    items_before = count(session, ActionItem)
    ids = [put(client, world, location=point(near(i * 5, 0))).json()["id"] for i in range(2)]
    for oid in ids:
        got = client.get(f"/api/v1/observations/{oid}", headers=world.headers("coordinator")).json()
        assert (got["moderation"], got["action_item_id"]) == ("submitted", None)
        assert got["moderation_reason_code"] == "pre_moderation"
    assert count(session, ActionItem) == items_before
    assert set(ids) <= set(_queue(client, world))

    accepted = [
        client.patch(
            f"/api/v1/observations/{oid}",
            headers=world.headers("coordinator"),
            json={"moderation": "accepted"},
        )
        for oid in ids
    ]
    assert [a.status_code for a in accepted] == [200, 200]
    item_ids = {a.json()["action_item_id"] for a in accepted}
    assert len(item_ids) == 1  # grouped, together
    assert None not in item_ids
    item = item_of(session, item_ids.pop())
    assert item.observation_count == 2

    # Hiding one with a reason takes it out; the reason is in the item's history.
    hide = client.patch(
        f"/api/v1/observations/{ids[0]}",
        headers=world.headers("coordinator"),
        json={"moderation": "hidden", "reason": "Names a neighbour"},
    )
    assert hide.status_code == 200
    assert hide.json()["moderation_reason"] == "Names a neighbour"
    assert item_of(session, str(item.id)).observation_count == 1
    history = client.get(
        f"/api/v1/action-items/{item.id}/history", headers=world.headers("coordinator")
    ).json()
    assert history[-1]["kind"] == "observation_removed"
    assert history[-1]["comment"] == "Names a neighbour"


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        pytest.param({"moderation_mode": "sometimes"}, ["body", "moderation_mode"], id="bad-mode"),
        pytest.param({"slug": "x"}, ["body", "slug"], id="unknown-field"),
        pytest.param({"moderation_mode": None}, ["body", "moderation_mode"], id="null-mode"),
    ],
)
def test_organization_settings_are_validated(
    client: SyncClient, world: World, body: dict[str, Any], loc: list[str]
) -> None:
    r = client.patch("/api/v1/organization", headers=world.headers("admin"), json=body)
    assert r.status_code == 422
    assert r.json()["errors"][0]["loc"] == loc


def test_only_coordinators_moderate(client: SyncClient, world: World) -> None:
    oid = put(client, world).json()["id"]
    r = client.patch(
        f"/api/v1/observations/{oid}",
        headers=world.headers("participant"),
        json={"moderation": "hidden"},
    )
    assert r.status_code == 403
    r = client.patch(
        f"/api/v1/observations/{oid}", headers=world.headers("coordinator"), json={"reason": "why"}
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["loc"] == ["body", "moderation"]
    r = client.patch(f"/api/v1/observations/{oid}", headers=world.headers("coordinator"), json={})
    assert r.status_code == 422


# --- the author corrects and withdraws ---------------------------------------------------


def test_author_moves_the_category_and_the_item_follows(
    client: SyncClient, world: World, session: Session
) -> None:
    a = put(client, world, location=point(near(0, 0))).json()
    b = put(client, world, location=point(near(5, 0))).json()
    g = put(client, world, category="graffiti", location=point(near(0, 5))).json()
    lighting = a["action_item_id"]
    assert b["action_item_id"] == lighting
    assert item_of(session, lighting).observation_count == 2
    priority_before = item_of(session, lighting).priority_score

    r = client.patch(
        f"/api/v1/observations/{b['id']}",
        headers=world.headers("participant"),
        json={"category": "graffiti", "note": "  Tags on the lamp post, not the lamp  "},
    )
    assert r.status_code == 200, r.text
    moved = r.json()
    assert (moved["category"], moved["note"]) == ("graffiti", "Tags on the lamp post, not the lamp")
    assert moved["action_item_id"] == g["action_item_id"]
    assert item_of(session, lighting).observation_count == 1
    assert item_of(session, g["action_item_id"]).observation_count == 2
    history = client.get(
        f"/api/v1/action-items/{lighting}/history", headers=world.headers("coordinator")
    ).json()
    assert history[-1]["kind"] == "observation_removed"

    # Severity and perceived safety change the priority of the item they are in.
    r = client.patch(
        f"/api/v1/observations/{a['id']}",
        headers=world.headers("participant"),
        json={"severity": 3, "perceived_safety": 0},
    )
    assert r.status_code == 200
    assert (r.json()["severity"], r.json()["perceived_safety"]) == (3, 0)
    assert item_of(session, lighting).priority_score != priority_before


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        pytest.param({"category": "ufo"}, ["body", "category"], id="unknown-category"),
        pytest.param({"category": None}, ["body", "category"], id="null-category"),
        pytest.param({"severity": None}, ["body", "severity"], id="null-severity"),
        pytest.param({"severity": 5}, ["body", "severity"], id="severity-too-high"),
        pytest.param({"walk_id": str(uuid.uuid4())}, ["body", "walk_id"], id="not-editable"),
    ],
)
def test_author_edits_are_validated(
    client: SyncClient, world: World, body: dict[str, Any], loc: list[str]
) -> None:
    oid = put(client, world).json()["id"]
    r = client.patch(f"/api/v1/observations/{oid}", headers=world.headers("participant"), json=body)
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["loc"] == loc


def test_only_the_author_edits_and_only_while_the_walk_is_open(
    app: Any, client: SyncClient, world: World, session: Session
) -> None:
    oid = put(client, world).json()["id"]
    # Another participant of the same walk sees it but may not change it.
    ola = Participant(
        organization_id=world.org.id, walk_id=world.walk.id, group=ParticipantGroup.resident
    )
    session.add(ola)
    session.commit()
    h_ola = {"Authorization": f"Bearer {participant_token(app, ola)}"}
    assert client.get(f"/api/v1/observations/{oid}", headers=h_ola).status_code == 200
    assert (
        client.patch(
            f"/api/v1/observations/{oid}", headers=h_ola, json={"note": "mine"}
        ).status_code
        == 403
    )
    assert client.delete(f"/api/v1/observations/{oid}", headers=h_ola).status_code == 403
    # Staff who did not write it: a coordinator moderates but does not rewrite the author's words.
    assert (
        client.patch(
            f"/api/v1/observations/{oid}", headers=world.headers("coordinator"), json={"note": "x"}
        ).status_code
        == 403
    )
    assert (
        client.patch(
            f"/api/v1/observations/{oid}", headers=world.headers("engineer"), json={"note": "x"}
        ).status_code
        == 403
    )
    # Another walk's participant: 404, as for an unknown id.
    assert (
        client.patch(
            f"/api/v1/observations/{oid}",
            headers=world.headers("other_participant"),
            json={"note": "x"},
        ).status_code
        == 404
    )

    ended = client.patch(
        f"/api/v1/walks/{world.walk.id}",
        headers=world.headers("coordinator"),
        json={"status": "completed"},
    )
    assert ended.status_code == 200, ended.text
    r = client.patch(
        f"/api/v1/observations/{oid}", headers=world.headers("participant"), json={"note": "late"}
    )
    assert r.status_code == 409
    assert r.headers["content-type"] == "application/problem+json"
    assert (
        client.delete(
            f"/api/v1/observations/{oid}", headers=world.headers("participant")
        ).status_code
        == 409
    )
    stored = client.get(f"/api/v1/observations/{oid}", headers=world.headers("coordinator")).json()
    assert stored["note"] == obs_body(world)["note"]
    assert stored["moderation"] == "accepted"
    # Coordinators may still withdraw it.
    assert (
        client.delete(
            f"/api/v1/observations/{oid}", headers=world.headers("coordinator")
        ).status_code
        == 204
    )
    got = client.get(f"/api/v1/observations/{oid}", headers=world.headers("coordinator")).json()
    assert (got["moderation"], got["moderation_reason"]) == ("hidden", "withdrawn by a coordinator")
    assert got["moderation_reason_code"] == "withdrawn_by_coordinator"


def test_withdrawn_observation_loses_its_photos_and_files(
    client: SyncClient, world: World, session: Session, settings: Settings
) -> None:
    media = settings.resolved_media_dir
    keep = put(client, world, location=point(near(0, 0))).json()
    gone = put(client, world, location=point(near(4, 0))).json()
    item_id = gone["action_item_id"]
    assert keep["action_item_id"] == item_id
    assert item_of(session, item_id).observation_count == 2

    shared = plain_jpeg(colour="olive")  # also on the kept observation: its files must stay
    own = plain_jpeg(colour="maroon")
    assert put_photo(client, world, keep["id"], shared).status_code == 201
    files_of_kept = set(stored_files(media))
    p_own = put_photo(client, world, gone["id"], own)
    p_shared = put_photo(client, world, gone["id"], shared)
    assert (p_own.status_code, p_shared.status_code) == (201, 201)
    own_files = set(stored_files(media)) - files_of_kept
    assert len(own_files) == 3  # original, display, thumbnail
    assert all(p.is_file() for p in own_files)

    r = client.delete(f"/api/v1/observations/{gone['id']}", headers=world.headers("participant"))
    assert r.status_code == 204, r.text
    assert r.content == b""

    # Every rendition of the withdrawn photo is gone from disk; the shared picture stays.
    assert not any(p.exists() for p in own_files)
    assert set(stored_files(media)) == files_of_kept
    session.expire_all()
    assert (
        session.scalar(
            select(func.count())
            .select_from(Photo)
            .where(col(Photo.observation_id) == uuid.UUID(gone["id"]))
        )
        == 0
    )
    for pid in (p_own.json()["id"], p_shared.json()["id"]):
        assert (
            client.get(f"/api/v1/photos/{pid}", headers=world.headers("coordinator")).status_code
            == 404
        )
    kept_photo = client.get(
        f"/api/v1/observations/{keep['id']}", headers=world.headers("coordinator")
    ).json()
    assert (
        client.get(
            f"/api/v1/photos/{kept_photo['photo_ids'][0]}", headers=world.headers("coordinator")
        ).status_code
        == 200
    )

    # The item is recounted; the observation is hidden, to the author too.
    assert item_of(session, item_id).observation_count == 1
    staff_view = client.get(
        f"/api/v1/observations/{gone['id']}", headers=world.headers("coordinator")
    ).json()
    assert staff_view["moderation"] == "hidden"
    assert staff_view["moderation_reason"] == "withdrawn by the author"
    assert staff_view["moderation_reason_code"] == "withdrawn_by_author"
    assert staff_view["action_item_id"] is None
    assert staff_view["photo_ids"] == []
    assert (
        client.get(
            f"/api/v1/observations/{gone['id']}", headers=world.headers("participant")
        ).status_code
        == 404
    )
    history = client.get(
        f"/api/v1/action-items/{item_id}/history", headers=world.headers("coordinator")
    ).json()
    assert history[-1]["comment"] == "withdrawn by the author"


def test_withdrawing_the_last_observation_closes_the_item(
    client: SyncClient, world: World, session: Session
) -> None:
    only = put(client, world).json()
    assert (
        client.delete(
            f"/api/v1/observations/{only['id']}", headers=world.headers("participant")
        ).status_code
        == 204
    )
    assert item_of(session, only["action_item_id"]).status == ActionStatus.closed_empty


# --- nearby ------------------------------------------------------------------------------


def _nearby(client: SyncClient, world: World, who: str = "participant", **params: Any) -> Any:
    return client.get("/api/v1/observations/nearby", headers=world.headers(who), params=params)


def test_nearby_lists_open_items_of_the_category_nearest_first(
    client: SyncClient, world: World, session: Session
) -> None:
    close = put(client, world, location=point(near(30, 0))).json()
    put(client, world, location=point(near(30, 5)))  # same item: two reports
    farther = put(client, world, location=point(near(-120, 0))).json()
    put(client, world, location=point(near(0, 400)))  # 400 m away: outside any radius
    graffiti = put(client, world, category="graffiti", location=point(near(10, 0))).json()

    r = _nearby(client, world, lat=INSIDE[1], lon=INSIDE[0], category="lighting", radius=150)
    assert r.status_code == 200, r.text
    found = r.json()["items"]
    assert [f["id"] for f in found] == [close["action_item_id"], farther["action_item_id"]]
    first = found[0]
    assert first["status"] == "new"
    assert first["category"] == "lighting"
    assert first["observation_count"] == 2
    assert 25 < first["distance_m"] < 40
    assert "Dårlig belysning" in first["title"]  # the organization's language (nb)
    assert 110 < found[1]["distance_m"] < 130

    # Default radius 50 m, every category when none is given.
    r = _nearby(client, world, lat=INSIDE[1], lon=INSIDE[0])
    assert {f["id"] for f in r.json()["items"]} == {
        close["action_item_id"],
        graffiti["action_item_id"],
    }

    # Only open items.
    item = item_of(session, close["action_item_id"])
    item.status = ActionStatus.resolved
    session.commit()
    r = _nearby(client, world, lat=INSIDE[1], lon=INSIDE[0], category="lighting", radius=150)
    assert [f["id"] for f in r.json()["items"]] == [farther["action_item_id"]]

    # Staff may ask too; another organization sees nothing of ours.
    assert (
        _nearby(client, world, "engineer", lat=INSIDE[1], lon=INSIDE[0], radius=150).status_code
        == 200
    )
    other = _nearby(client, world, "foreign_admin", lat=INSIDE[1], lon=INSIDE[0], radius=250)
    assert other.status_code == 200
    assert other.json()["items"] == []


@pytest.mark.parametrize(
    ("params", "loc"),
    [
        pytest.param({"lat": 91, "lon": 5.7}, ["query", "lat"], id="lat-out-of-range"),
        pytest.param({"lat": 58.8, "lon": -181}, ["query", "lon"], id="lon-out-of-range"),
        pytest.param({"lat": "north", "lon": 5.7}, ["query", "lat"], id="lat-not-a-number"),
        pytest.param({"lat": "nan", "lon": 5.7}, ["query", "lat"], id="lat-nan"),
        pytest.param({"lat": 58.8, "lon": "inf"}, ["query", "lon"], id="lon-infinite"),
        pytest.param({"lon": 5.7}, ["query", "lat"], id="lat-missing"),
        pytest.param(
            {"lat": 58.8, "lon": 5.7, "radius": 251}, ["query", "radius"], id="radius-too-large"
        ),
        pytest.param({"lat": 58.8, "lon": 5.7, "radius": 0}, ["query", "radius"], id="radius-zero"),
        pytest.param(
            {"lat": 58.8, "lon": 5.7, "radius": "far"}, ["query", "radius"], id="radius-text"
        ),
        pytest.param(
            {"lat": 58.8, "lon": 5.7, "category": "ufo"},
            ["query", "category"],
            id="unknown-category",
        ),
    ],
)
def test_nearby_bad_input_is_422_naming_the_parameter(
    client: SyncClient, world: World, params: dict[str, Any], loc: list[str]
) -> None:
    r = _nearby(client, world, **params)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["errors"][0]["loc"] == loc


def test_nearby_needs_a_token(client: SyncClient, world: World) -> None:
    assert _nearby(client, world, "anonymous", lat=58.8, lon=5.7).status_code == 401


def test_photo_gps_outside_every_area_holds_the_observation(
    client: SyncClient, world: World, session: Session
) -> None:
    # Sentrum moves 2 km east, so the camera's position (58.8517 N 5.7352 E) is in no area.
    area = world.objects["area"]
    area.geometry = spatial.to_db(box(5.77, 58.848, 5.78, 58.856))
    session.commit()
    body = obs_body(world)
    del body["location"]
    oid = client.put(
        f"/api/v1/observations/{uuid.uuid4()}", headers=world.headers("participant"), json=body
    ).json()["id"]
    assert put_photo(client, world, oid, camera_jpeg()).status_code == 201
    got = client.get(f"/api/v1/observations/{oid}", headers=world.headers("coordinator")).json()
    assert got["location"]["coordinates"] == pytest.approx([5.7352, 58.8517], abs=1e-4)
    assert (got["moderation"], got["area_id"], got["action_item_id"]) == ("submitted", None, None)
    assert oid in _queue(client, world)


def test_a_coordinator_withdraws_their_own_observation_after_the_walk(
    client: SyncClient, world: World
) -> None:
    oid = put(client, world, "coordinator").json()["id"]
    ended = client.patch(
        f"/api/v1/walks/{world.walk.id}",
        headers=world.headers("coordinator"),
        json={"status": "completed"},
    )
    assert ended.status_code == 200, ended.text
    h = world.headers("coordinator")
    assert (
        client.patch(f"/api/v1/observations/{oid}", headers=h, json={"note": "x"}).status_code
        == 409
    )
    assert client.delete(f"/api/v1/observations/{oid}", headers=h).status_code == 204
    got = client.get(f"/api/v1/observations/{oid}", headers=h).json()
    assert (got["moderation"], got["moderation_reason"]) == ("hidden", "withdrawn by the author")
    assert got["moderation_reason_code"] == "withdrawn_by_author"
