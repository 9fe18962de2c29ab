"""Working the action list as people do: forward moves that skip steps, allowed_moves for the
caller, resolving with a note and a fix photo, comments, and the refusals that say what is
possible instead."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy.orm import Session

from api.auth import policy
from models import ActionStatus, Organization
from tests.factories.action_items import Scene, at, patch, read
from tests.factories.client import SyncClient
from tests.factories.photos import plain_jpeg, stored_files

S = ActionStatus


@pytest.fixture
def scene(client: SyncClient, world: Any, session: Session) -> Scene:
    return Scene(client, world, session)


def history(scene: Scene, item_id: str) -> list[dict[str, Any]]:
    r = scene.client.get(f"/api/v1/action-items/{item_id}/history", headers=scene.h)
    assert r.status_code == 200
    events: list[dict[str, Any]] = r.json()
    return events


# --- the table itself ------------------------------------------------------------------------


def test_forward_moves_skip_steps_and_backward_moves_do_not_exist() -> None:
    coordinator = policy.moves_for("coordinator", "new")
    assert coordinator[:4] == [S.triaged, S.planned, S.in_progress, S.resolved]
    assert policy.moves_for("engineer", "new") == [S.in_progress, S.resolved]
    assert policy.moves_for("engineer", "triaged") == [S.planned, S.in_progress, S.resolved]
    assert policy.moves_for("engineer", "reopened") == [S.in_progress, S.resolved]
    assert policy.moves_for("planner", "new") == []
    for src, dst in [("planned", "triaged"), ("in_progress", "planned"), ("resolved", "new"),
                     ("in_progress", "new"), ("verified", "resolved")]:  # fmt: skip
        assert not policy.is_move(src, dst), (src, dst)
    for role in ("engineer", "planner"):
        assert S.verified not in policy.moves_for(role, "resolved")
    for role in ("coordinator", "admin", "participant"):
        assert policy.moves_for(role, "resolved") == [S.verified, S.reopened]
    # Typed by the enum, next to it.
    assert all(isinstance(a, S) and isinstance(b, S) for a, b in policy.ACTION_MOVES)


# --- the day -----------------------------------------------------------------------------------


def test_the_engineers_day(scene: Scene, settings: Any) -> None:
    """A coordinator triages a dark path to lighting; the lighting engineer replaces the lamp
    and resolves it with a note and a photo of the fix in one PATCH."""
    item_id = scene.observe("lighting", at(-200, 0), note="Lamp out by the underpass")[
        "action_item_id"
    ]
    assert read(scene, item_id, "engineer").json()["allowed_moves"] == ["in_progress", "resolved"]
    assert read(scene, item_id, "planner").json()["allowed_moves"] == []
    coord_moves = read(scene, item_id).json()["allowed_moves"]
    assert coord_moves == ["triaged", "planned", "in_progress", "resolved", "wont_fix",
                           "referred", "duplicate"]  # fmt: skip

    r = patch(scene, item_id, "coordinator", {"status": "triaged", "department": "lighting"})
    assert r.status_code == 200, r.text
    assert r.json()["allowed_moves"][:3] == ["planned", "in_progress", "resolved"]
    seen = read(scene, item_id, "engineer").json()
    assert seen["allowed_moves"] == ["planned", "in_progress", "resolved"]

    photo_id = str(uuid.uuid4())
    up = scene.client.put(
        f"/api/v1/action-items/{item_id}/photos/{photo_id}",
        headers={**scene.world.headers("engineer"), "Content-Type": "image/jpeg"},
        content=plain_jpeg(colour="yellow"),
    )
    assert up.status_code == 201, up.text
    assert up.json()["action_item_id"] == item_id
    assert up.json()["observation_id"] is None
    files = stored_files(settings.resolved_media_dir)
    assert len(files) == 3  # original, display, thumb

    done = patch(
        scene,
        item_id,
        "engineer",
        {"status": "resolved", "resolution_note": "Replaced the LED fitting"},
    )
    assert done.status_code == 200, done.text
    body = done.json()
    assert body["status"] == "resolved"
    assert body["resolution_note"] == "Replaced the LED fitting"
    assert body["resolved_at"] is not None
    assert body["allowed_moves"] == []  # verifying is for coordinators and follow-up walks
    assert read(scene, item_id).json()["allowed_moves"] == ["verified", "reopened"]
    # The fix photo comes with the item, behind a signed link that needs no header.
    assert [p["id"] for p in body["photos"]] == [photo_id]
    img = scene.client.get(body["photos"][0]["urls"]["thumb"])
    assert img.status_code == 200
    assert img.headers["content-type"] == "image/jpeg"

    events = history(scene, item_id)
    moves = [(e["kind"], e["from_status"], e["to_status"]) for e in events if e["to_status"]]
    assert moves == [
        ("created", None, "new"),
        ("status", "new", "triaged"),
        ("status", "triaged", "resolved"),
    ]
    assert [e["changes"] for e in events if e["kind"] == "photo"] == [{"photo": photo_id}]
    by_kind = {e["kind"]: e for e in events}
    assert by_kind["photo"]["actor"].startswith("user:")
    note_change = [e for e in events if "resolution_note" in e["changes"]]
    assert note_change[0]["changes"]["resolution_note"] == [None, "Replaced the LED fitting"]


def test_an_engineer_resolves_a_new_item_in_one_patch(scene: Scene) -> None:
    item_id = scene.observe("lighting", at(-200, 0))["action_item_id"]
    r = patch(scene, item_id, "engineer", {"status": "resolved", "resolution_note": "Fixed"})
    assert r.status_code == 200, r.text
    assert [e["to_status"] for e in history(scene, item_id) if e["kind"] == "status"] == [
        "resolved"
    ]


def test_refusals_carry_allowed_moves(scene: Scene) -> None:
    item_id = scene.observe("lighting", at(-200, 0))["action_item_id"]
    assert patch(scene, item_id, "coordinator", {"status": "in_progress"}).status_code == 200
    back = patch(scene, item_id, "coordinator", {"status": "triaged"})
    assert back.status_code == 409
    assert back.headers["content-type"] == "application/problem+json"
    assert back.json()["allowed_moves"] == ["resolved", "wont_fix", "referred", "duplicate"]
    refused = patch(scene, item_id, "engineer", {"status": "wont_fix", "comment": "no"})
    assert refused.status_code == 403
    assert refused.json()["allowed_moves"] == ["resolved"]
    # The messages speak the organization's language unless the client asks otherwise.
    assert refused.json()["detail"] == (
        "rollen «Saksbehandler» kan ikke flytte et tiltak fra «Under arbeid» til «Utføres ikke»"
    )
    # An engineer of another department: nothing is allowed, and the refusal says so.
    hedge = scene.observe("vegetation", at(-300, 0))["action_item_id"]
    assert read(scene, hedge, "engineer").json()["allowed_moves"] == []
    other = patch(scene, hedge, "engineer", {"status": "resolved"})
    assert other.status_code == 403
    assert other.json()["allowed_moves"] == []
    assert read(scene, hedge).json()["status"] == "new"


def test_the_organization_can_require_a_resolution_note(scene: Scene, session: Session) -> None:
    org = session.get(Organization, scene.world.org.id)
    assert org is not None
    org.require_resolution_note = True
    session.commit()
    item_id = scene.observe("lighting", at(-200, 0))["action_item_id"]
    bare = patch(scene, item_id, "engineer", {"status": "resolved"})
    assert bare.status_code == 422
    assert bare.json()["errors"][0]["loc"] == ["body", "resolution_note"]
    blank = patch(scene, item_id, "engineer", {"status": "resolved", "resolution_note": "  "})
    assert blank.status_code == 422
    assert read(scene, item_id).json()["status"] == "new"
    ok = patch(scene, item_id, "engineer", {"status": "resolved", "resolution_note": "New bulb"})
    assert ok.status_code == 200


def test_fix_photos_follow_the_workers_rules(scene: Scene, settings: Any) -> None:
    hedge = scene.observe("vegetation", at(-300, 0))["action_item_id"]
    url = f"/api/v1/action-items/{hedge}/photos/{uuid.uuid4()}"
    jpeg = {"Content-Type": "image/jpeg"}
    for who, status in (("engineer", 403), ("planner", 403), ("participant", 403),
                        ("foreign_admin", 404)):  # fmt: skip
        r = scene.client.put(
            url, headers={**scene.world.headers(who), **jpeg}, content=plain_jpeg()
        )
        assert r.status_code == status, (who, r.text)
    assert stored_files(settings.resolved_media_dir) == []
    bad = scene.client.put(url, headers={**scene.h, **jpeg}, content=b"not an image")
    assert bad.status_code == 415
    first = scene.client.put(url, headers={**scene.h, **jpeg}, content=plain_jpeg())
    again = scene.client.put(url, headers={**scene.h, **jpeg}, content=plain_jpeg())
    other = scene.client.put(url, headers={**scene.h, **jpeg}, content=plain_jpeg(colour="red"))
    assert (first.status_code, again.status_code, other.status_code) == (201, 200, 409)
    assert [e["kind"] for e in history(scene, hedge)].count("photo") == 1
    # Participants never see a fix photo, even with its id.
    pid = first.json()["id"]
    assert (
        scene.client.get(
            f"/api/v1/photos/{pid}", headers=scene.world.headers("participant")
        ).status_code
        == 404
    )
    assert (
        scene.client.get(
            f"/api/v1/photos/{pid}", headers=scene.world.headers("planner")
        ).status_code
        == 200
    )


def _fix_photo(
    scene: Scene, item_id: str, photo_id: str, colour: str = "yellow", *, status: int = 201
) -> None:
    """Upload a fix photo: 201 the first time, 200 for the same bytes again."""
    up = scene.client.put(
        f"/api/v1/action-items/{item_id}/photos/{photo_id}",
        headers={**scene.world.headers("engineer"), "Content-Type": "image/jpeg"},
        content=plain_jpeg(colour=colour),
    )
    assert up.status_code == status, up.text


def _csv_photo_cells(scene: Scene) -> str:
    r = scene.client.get(
        f"/api/v1/areas/{scene.west.id}/action-list?format=csv&delimiter=comma&include_closed=true",
        headers=scene.h,
    )
    assert r.status_code == 200, r.text
    return r.content.decode("utf-8-sig")


def test_a_fix_photo_then_resolving_with_the_etag_read_before_works_the_first_time(
    scene: Scene,
) -> None:
    """What the staff web does when an engineer resolves with a photo: one read, the photo, the
    PATCH with the ETag of that read. The photo is no change of the item, so no 412."""
    item_id = scene.observe("lighting", at(-200, 0))["action_item_id"]
    tag = read(scene, item_id, "engineer").headers["ETag"]
    photo_id = str(uuid.uuid4())
    _fix_photo(scene, item_id, photo_id)
    assert read(scene, item_id, "engineer").headers["ETag"] == tag
    done = scene.client.patch(
        f"/api/v1/action-items/{item_id}",
        headers={**scene.world.headers("engineer"), "If-Match": tag},
        json={"status": "resolved", "resolution_note": "New bulb"},
    )
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "resolved"
    assert [p["id"] for p in done.json()["photos"]] == [photo_id]
    assert done.headers["ETag"] != tag
    # Still in the history, with who sent it.
    assert [e["changes"] for e in history(scene, item_id) if e["kind"] == "photo"] == [
        {"photo": photo_id}
    ]


def test_someone_elses_change_still_gives_412_and_the_photo_is_no_fix_yet(scene: Scene) -> None:
    item_id = scene.observe("lighting", at(-200, 0))["action_item_id"]
    tag = read(scene, item_id, "engineer").headers["ETag"]
    # Meanwhile a coordinator changes the item.
    assert patch(scene, item_id, "coordinator", {"due_date": "2031-01-31"}).status_code == 200
    photo_id = str(uuid.uuid4())
    _fix_photo(scene, item_id, photo_id)
    stale = scene.client.patch(
        f"/api/v1/action-items/{item_id}",
        headers={**scene.world.headers("engineer"), "If-Match": tag},
        json={"status": "resolved"},
    )
    assert stale.status_code == 412
    assert stale.headers["content-type"] == "application/problem+json"
    # Not resolved, so the photo is not shown as its fix: not on the item, not in the export.
    item = read(scene, item_id, "engineer").json()
    assert (item["status"], item["photos"]) == ("new", [])
    assert photo_id not in _csv_photo_cells(scene)
    # The engineer tries again with the same photo (same id: stored once) and the fresh ETag.
    _fix_photo(scene, item_id, photo_id, status=200)
    done = patch(scene, item_id, "engineer", {"status": "resolved"})
    assert done.status_code == 200, done.text
    assert [p["id"] for p in done.json()["photos"]] == [photo_id]
    assert photo_id in _csv_photo_cells(scene)
    assert [e["kind"] for e in history(scene, item_id)].count("photo") == 1


def test_a_fix_photo_counts_only_while_the_item_is_resolved(scene: Scene) -> None:
    item_id = scene.observe("lighting", at(-200, 0))["action_item_id"]
    photo_id = str(uuid.uuid4())
    _fix_photo(scene, item_id, photo_id)
    assert read(scene, item_id).json()["photos"] == []
    assert photo_id not in _csv_photo_cells(scene)
    assert patch(scene, item_id, "engineer", {"status": "resolved"}).status_code == 200
    assert [p["id"] for p in read(scene, item_id).json()["photos"]] == [photo_id]
    assert photo_id in _csv_photo_cells(scene)
    # Reopened: the fix did not hold, the photo is no longer shown as one.
    assert patch(scene, item_id, "coordinator", {"status": "reopened"}).status_code == 200
    assert read(scene, item_id).json()["photos"] == []
    assert photo_id not in _csv_photo_cells(scene)


def test_comments(scene: Scene) -> None:
    item_id = scene.observe("lighting", at(-200, 0))["action_item_id"]
    url = f"/api/v1/action-items/{item_id}/comments"
    r = scene.client.post(url, headers=scene.world.headers("engineer"), json={"text": " Ordered "})
    assert r.status_code == 201, r.text
    assert (r.json()["kind"], r.json()["comment"]) == ("comment", "Ordered")
    assert history(scene, item_id)[-1]["comment"] == "Ordered"
    for body, loc in (({"text": ""}, ["body", "text"]), ({"text": "   "}, ["body", "text"]),
                      ({}, ["body", "text"]), ({"text": "x", "status": "resolved"},
                                               ["body", "status"])):  # fmt: skip
        bad = scene.client.post(url, headers=scene.h, json=body)
        assert bad.status_code == 422, body
        assert bad.json()["errors"][0]["loc"] == loc
    assert (
        scene.client.post(
            url, headers=scene.world.headers("planner"), json={"text": "hi"}
        ).status_code
        == 403
    )
    hedge = scene.observe("vegetation", at(-300, 0))["action_item_id"]
    assert (
        scene.client.post(
            f"/api/v1/action-items/{hedge}/comments",
            headers=scene.world.headers("engineer"),
            json={"text": "not mine"},
        ).status_code
        == 403
    )
    assert scene.item(item_id)["status"] == "new"


@pytest.mark.parametrize("field", ["title", "status", "owner_type"])
def test_null_for_a_required_field_is_422(scene: Scene, field: str) -> None:
    item_id = scene.observe("lighting", at(-200, 0))["action_item_id"]
    r = patch(scene, item_id, "coordinator", {field: None})
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["loc"] == ["body", field]
