"""The action list end to end: grouping on arrival, workflow, ETags, regroup, merge/split,
recurrence, the per-area list and CSV, follow-up figures and follow-up walks."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session

from api.auth import policy
from models import ActionItem, ActionStatus, Participant, ParticipantGroup, utcnow
from tests.factories import make_walk
from tests.factories.action_items import Scene, at
from tests.factories.client import SyncClient
from tests.factories.follow_up import count_all
from tests.factories.world import World, participant_token


@pytest.fixture
def scene(client: SyncClient, world: World, session: Session) -> Scene:
    return Scene(client, world, session)


def build_walk(scene: Scene) -> dict[str, list[dict[str, Any]]]:
    """The scenario, with its expected action list stated up front:

    West (Vest):
      - lighting chain of 4 lamps 15 m apart at (-200..-155, 0)      -> one item of 4
      - lighting pair 10 m apart at (-400, 100), >100 m from the chain -> one item of 2
      - vegetation x3 within 10 m on top of the lighting chain        -> one item of 3 (no mixing)
      - graffiti x2, 30 m apart (threshold 20 m)                      -> two items of 1
      - lighting 10 m west of the border at (-10, -300)               -> one item of 1
    East (Øst):
      - lighting 10 m east of the border at (10, -300)                -> one item of 1 (areas never mix)
    Both: positive_place x3 and feels_unsafe x2                       -> no items
    """
    o: dict[str, list[dict[str, Any]]] = {
        k: [] for k in ("chain", "pair", "veg", "graffiti", "border_w", "border_e", "perception")
    }
    for i in range(4):
        o["chain"].append(
            scene.observe("lighting", at(-200 + 15 * i, 0), severity=3, perceived_safety=0)
        )
    for i in range(2):
        o["pair"].append(scene.observe("lighting", at(-400 + 10 * i, 100)))
    for dx, dy in ((-190, 2), (-185, -3), (-182, 5)):
        o["veg"].append(scene.observe("vegetation", at(dx, dy)))
    o["graffiti"] = [
        scene.observe("graffiti", at(-600, -100)),
        scene.observe("graffiti", at(-570, -100)),
    ]
    o["border_w"] = [scene.observe("lighting", at(-10, -300))]
    o["border_e"] = [scene.observe("lighting", at(10, -300))]
    for pos in (at(-200, 0), at(-205, 3), at(300, 200)):
        o["perception"].append(scene.observe("positive_place", pos, perceived_safety=3))
    for pos in (at(-198, 1), at(250, 0)):
        o["perception"].append(scene.observe("feels_unsafe", pos))
    return o


def test_realistic_walk_produces_the_expected_list(scene: Scene) -> None:
    o = build_walk(scene)
    west, east = scene.listing(scene.west), scene.listing(scene.east)
    assert west["counts"]["by_category"] == {"graffiti": 2, "lighting": 3, "vegetation": 1}
    assert east["counts"]["by_category"] == {"lighting": 1}
    counts = sorted((i["category"], i["observation_count"]) for i in west["items"])
    assert counts == [
        ("graffiti", 1),
        ("graffiti", 1),
        ("lighting", 1),
        ("lighting", 2),
        ("lighting", 4),
        ("vegetation", 3),
    ]
    chain_item = {x["action_item_id"] for x in o["chain"]}
    assert len(chain_item) == 1
    assert all(x["action_item_id"] is None for x in o["perception"])
    assert o["border_w"][0]["area_id"] == str(scene.west.id)
    assert o["border_e"][0]["area_id"] == str(scene.east.id)
    # Highest priority first: the severe, unsafe, four-report chain tops the list.
    assert west["items"][0]["id"] == chain_item.pop()
    priorities = [i["priority"] for i in west["items"]]
    assert priorities == sorted(priorities, reverse=True)
    chain = scene.item(west["items"][0]["id"])
    assert chain["department"] == "lighting"
    assert chain["status"] == "new"
    assert chain["participant_groups"] == []  # staff reported these
    assert chain["due_date"] is not None
    assert chain["footprint"]["type"] == "Polygon"


def test_regroup_reproduces_the_list_and_keeps_ids(scene: Scene) -> None:
    build_walk(scene)
    before = {
        i["id"]: (i["category"], i["observation_count"]) for i in scene.listing(scene.west)["items"]
    }
    chain_id = next(i for i, v in before.items() if v == ("lighting", 4))
    r = scene.patch_item(
        chain_id,
        headers=scene.h,
        json={"status": "triaged", "comment": "ok"},
    )
    assert r.status_code == 200
    result = scene.client.post(f"/api/v1/areas/{scene.west.id}/regroup", headers=scene.h).json()
    assert result == {"observations": 12, "items_kept": 6, "items_created": 0, "items_closed": 0}
    after = {
        i["id"]: (i["category"], i["observation_count"]) for i in scene.listing(scene.west)["items"]
    }
    assert after == before
    assert scene.item(chain_id)["status"] == "triaged"
    kinds = [
        e["kind"]
        for e in scene.client.get(
            f"/api/v1/action-items/{chain_id}/history", headers=scene.h
        ).json()
    ]
    assert kinds[:2] == ["created", "status"]


def test_regroup_heals_a_split_and_keeps_the_worked_on_item(scene: Scene) -> None:
    chain = [scene.observe("lighting", at(-200 + 15 * i, 0)) for i in range(4)]
    item_id = chain[0]["action_item_id"]
    scene.patch_item(item_id, headers=scene.h, json={"status": "triaged"})
    new = scene.client.post(
        f"/api/v1/action-items/{item_id}/split",
        headers=scene.h,
        json={"observation_ids": [chain[3]["id"]]},
    )
    assert new.status_code == 201, new.text
    assert new.json()["observation_count"] == 1
    assert scene.item(item_id)["observation_count"] == 3
    result = scene.client.post(f"/api/v1/areas/{scene.west.id}/regroup", headers=scene.h).json()
    assert result["items_kept"] == 1
    assert result["items_closed"] == 1
    assert scene.item(item_id)["observation_count"] == 4
    assert scene.item(item_id)["status"] == "triaged"
    assert scene.item(new.json()["id"])["status"] == "closed_empty"


def test_merge_two_items(scene: Scene) -> None:
    a = scene.observe("graffiti", at(-600, -100))
    b = scene.observe("graffiti", at(-570, -100))
    r = scene.client.post(
        f"/api/v1/action-items/{a['action_item_id']}/merge",
        headers=scene.h,
        json={"other_id": b["action_item_id"], "comment": "same wall"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["observation_count"] == 2
    other = scene.item(b["action_item_id"])
    assert other["status"] == "duplicate"
    assert other["duplicate_of_id"] == a["action_item_id"]
    assert (
        scene.client.post(
            f"/api/v1/action-items/{a['action_item_id']}/merge",
            headers=scene.h,
            json={"other_id": a["action_item_id"]},
        ).status_code
        == 422
    )


def test_split_refuses_foreign_observations_and_emptying(scene: Scene) -> None:
    a = scene.observe("graffiti", at(-600, -100))
    b = scene.observe("graffiti", at(-570, -100))
    r = scene.client.post(
        f"/api/v1/action-items/{a['action_item_id']}/split",
        headers=scene.h,
        json={"observation_ids": [b["id"]]},
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["loc"] == ["body", "observation_ids", 0]
    r = scene.client.post(
        f"/api/v1/action-items/{a['action_item_id']}/split",
        headers=scene.h,
        json={"observation_ids": [a["id"]]},
    )
    assert r.status_code == 422


def test_hidden_observation_leaves_and_empty_item_closes(scene: Scene) -> None:
    a = scene.observe("litter", at(-300, 50))
    b = scene.observe("litter", at(-290, 50))
    item_id = a["action_item_id"]
    assert b["action_item_id"] == item_id
    scene.client.patch(
        f"/api/v1/observations/{a['id']}", headers=scene.h, json={"moderation": "hidden"}
    )
    assert scene.item(item_id)["observation_count"] == 1
    scene.client.patch(
        f"/api/v1/observations/{b['id']}",
        headers=scene.h,
        json={"moderation": "duplicate", "duplicate_of": a["id"]},
    )
    assert scene.item(item_id)["status"] == "closed_empty"
    history = scene.client.get(f"/api/v1/action-items/{item_id}/history", headers=scene.h).json()
    assert history[-1]["to_status"] == "closed_empty"
    # Accepting it again brings the item back to life as a fresh item of the area.
    again = scene.client.patch(
        f"/api/v1/observations/{a['id']}", headers=scene.h, json={"moderation": "accepted"}
    ).json()
    assert again["action_item_id"] is not None


def _resolve(session: Session, item_id: str, days_ago: int) -> None:
    item = session.get(ActionItem, uuid.UUID(item_id))
    assert item is not None
    item.status = ActionStatus.resolved
    item.resolved_at = utcnow() - timedelta(days=days_ago)
    session.commit()


def test_new_observation_reopens_a_recently_resolved_item(scene: Scene) -> None:
    first = scene.observe("lighting", at(-200, 0))
    _resolve(scene.session, first["action_item_id"], days_ago=10)
    again = scene.observe("lighting", at(-190, 0))
    assert again["action_item_id"] == first["action_item_id"]
    item = scene.item(first["action_item_id"])
    assert item["status"] == "reopened"
    assert item["observation_count"] == 2
    history = scene.client.get(f"/api/v1/action-items/{item['id']}/history", headers=scene.h).json()
    assert (history[-1]["from_status"], history[-1]["to_status"]) == ("resolved", "reopened")


def test_an_old_resolved_item_gets_a_recurrence(scene: Scene) -> None:
    first = scene.observe("lighting", at(-200, 0))
    _resolve(scene.session, first["action_item_id"], days_ago=200)
    again = scene.observe("lighting", at(-190, 0))
    assert again["action_item_id"] != first["action_item_id"]
    fresh = scene.item(again["action_item_id"])
    assert fresh["recurrence_of_id"] == first["action_item_id"]
    assert scene.item(first["action_item_id"])["status"] == "resolved"


ROLES = ["engineer", "coordinator", "admin"]
STATUSES = [s.value for s in ActionStatus if s != ActionStatus.closed_empty]


def test_every_move_for_every_role(scene: Scene, session: Session) -> None:
    """Each (from, to, role): allowed by the table -> 200 and an event; a move the table knows
    but not for this role -> 403; not a move at all -> 409. Nothing changes on refusal."""
    obs = scene.observe("lighting", at(-200, 0))
    other = scene.observe("graffiti", at(-600, -100))
    item_id = uuid.UUID(obs["action_item_id"])
    body_extra = {
        "comment": "reason given",
        "referred_to": "Statens vegvesen",
        "duplicate_of": other["action_item_id"],
    }
    failures = []
    for role in ROLES:
        headers = scene.world.headers(role)
        for src in STATUSES:
            for dst in STATUSES:
                if src == dst:
                    continue
                item = session.get(ActionItem, item_id)
                assert item is not None
                item.status = ActionStatus(src)
                session.commit()
                body = {"status": dst}
                if dst == "wont_fix":
                    body["comment"] = body_extra["comment"]
                if dst == "referred":
                    body["referred_to"] = body_extra["referred_to"]
                if dst == "duplicate":
                    body["duplicate_of"] = body_extra["duplicate_of"]
                r = scene.patch_item(item_id, headers=headers, json=body)
                if policy.may_move(role, src, dst):
                    expected = 200
                elif (src, dst) in policy.ACTION_MOVES:
                    expected = 403
                else:
                    expected = 409
                session.expire_all()
                now_status = session.get(ActionItem, item_id).status  # type: ignore[union-attr]
                if r.status_code != expected or (expected == 200) != (now_status == dst):
                    failures.append(
                        f"{role} {src}->{dst}: {r.status_code} (expected {expected}), now {now_status}"
                    )
    assert failures == []


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        pytest.param({"status": "wont_fix"}, ["body", "comment"], id="wont-fix-without-reason"),
        pytest.param({"status": "referred"}, ["body", "referred_to"], id="referred-without-whom"),
        pytest.param(
            {"status": "duplicate"}, ["body", "duplicate_of"], id="duplicate-without-what"
        ),
        pytest.param(
            {"status": "duplicate", "duplicate_of": "00000000-0000-0000-0000-000000000000"},
            ["body", "duplicate_of"],
            id="duplicate-of-unknown",
        ),
        pytest.param(
            {"assignee_id": "00000000-0000-0000-0000-000000000000"},
            ["body", "assignee_id"],
            id="unknown-assignee",
        ),
        pytest.param(
            {"priority_override": 101}, ["body", "priority_override"], id="priority-out-of-range"
        ),
        pytest.param({"status": "done"}, ["body", "status"], id="unknown-status"),
        pytest.param(
            {"organization_id": "00000000-0000-0000-0000-000000000000"},
            ["body", "organization_id"],
            id="smuggled-organization",
        ),
    ],
)
def test_workflow_input_is_validated(scene: Scene, body: dict[str, Any], loc: list[str]) -> None:
    item_id = scene.observe("lighting", at(-200, 0))["action_item_id"]
    r = scene.patch_item(item_id, headers=scene.h, json=body)
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["loc"] == loc
    assert scene.item(item_id)["status"] == "new"


def test_engineers_work_their_own_department(scene: Scene) -> None:
    lamp = scene.observe("lighting", at(-200, 0))["action_item_id"]
    hedge = scene.observe("vegetation", at(-300, 0))["action_item_id"]
    eng = scene.world.headers("engineer")  # department: lighting
    for item_id in (lamp, hedge):
        scene.patch_item(item_id, headers=scene.h, json={"status": "triaged"})
    assert (
        scene.patch_item(
            lamp,
            headers=eng,
            json={"status": "planned", "due_date": "2027-01-15"},
        ).status_code
        == 200
    )
    assert scene.patch_item(hedge, headers=eng, json={"status": "planned"}).status_code == 403
    assert scene.patch_item(lamp, headers=eng, json={"department": "parks"}).status_code == 403
    assert (
        scene.patch_item(
            lamp,
            headers=scene.world.headers("planner"),
            json={"comment": "hi"},
        ).status_code
        == 403
    )


def test_patch_without_if_match_is_428_and_changes_nothing(scene: Scene) -> None:
    item_id = scene.observe("lighting", at(-200, 0))["action_item_id"]
    tag = scene.client.get(f"/api/v1/action-items/{item_id}", headers=scene.h).headers["ETag"]
    r = scene.client.patch(
        f"/api/v1/action-items/{item_id}", headers=scene.h, json={"status": "triaged"}
    )
    assert r.status_code == 428, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["current_etag"] == tag
    assert scene.item(item_id)["status"] == "new"
    history = scene.client.get(f"/api/v1/action-items/{item_id}/history", headers=scene.h).json()
    assert [e["kind"] for e in history] == ["created"]


def test_etag_and_stale_if_match(scene: Scene) -> None:
    item_id = scene.observe("lighting", at(-200, 0))["action_item_id"]
    r = scene.client.get(f"/api/v1/action-items/{item_id}", headers=scene.h)
    tag = r.headers["ETag"]
    first = scene.client.patch(
        f"/api/v1/action-items/{item_id}",
        headers={**scene.h, "If-Match": tag},
        json={"status": "triaged"},
    )
    assert first.status_code == 200
    assert first.headers["ETag"] != tag
    stale = scene.client.patch(
        f"/api/v1/action-items/{item_id}",
        headers={**scene.h, "If-Match": tag},
        json={"status": "wont_fix", "comment": "no budget"},
    )
    assert stale.status_code == 412
    assert stale.headers["content-type"] == "application/problem+json"
    after = scene.item(item_id)
    assert after["status"] == "triaged"
    history = scene.client.get(f"/api/v1/action-items/{item_id}/history", headers=scene.h).json()
    assert [e["to_status"] for e in history if e["kind"] == "status"] == ["triaged"]
    ok = scene.client.patch(
        f"/api/v1/action-items/{item_id}",
        headers={**scene.h, "If-Match": first.headers["ETag"]},
        json={"priority_override": 90},
    )
    assert ok.status_code == 200
    assert ok.json()["priority"] == 90


def test_field_changes_write_events(scene: Scene) -> None:
    item_id = scene.observe("lighting", at(-200, 0))["action_item_id"]
    eng = scene.world.users["engineer"]
    r = scene.patch_item(
        item_id,
        headers=scene.h,
        json={"assignee_id": str(eng.id), "due_date": "2027-02-01", "owner_type": "housing"},
    )
    assert r.status_code == 200, r.text
    history = scene.client.get(f"/api/v1/action-items/{item_id}/history", headers=scene.h).json()
    change = history[-1]
    assert change["kind"] == "update"
    assert set(change["changes"]) == {"assignee_id", "due_date", "owner_type"}
    assert change["actor"].startswith("user:")


def test_list_filters_including_overdue(scene: Scene, session: Session) -> None:
    late = scene.observe("lighting", at(-200, 0))["action_item_id"]
    scene.observe("graffiti", at(-600, -100))
    item = session.get(ActionItem, uuid.UUID(late))
    assert item is not None
    item.due_date = (utcnow() - timedelta(days=3)).date()
    session.commit()
    h = scene.h
    overdue = scene.client.get("/api/v1/action-items?overdue=true", headers=h).json()["items"]
    assert [i["id"] for i in overdue] == [late]
    assert overdue[0]["overdue"] is True
    assert [
        i["category"]
        for i in scene.client.get("/api/v1/action-items?department=property", headers=h).json()[
            "items"
        ]
    ] == ["graffiti"]
    assert (
        len(
            scene.client.get("/api/v1/action-items?status=new&status=triaged", headers=h).json()[
                "items"
            ]
        )
        == 2
    )
    assert (
        scene.client.get(f"/api/v1/action-items?area_id={scene.east.id}", headers=h).json()["items"]
        == []
    )


def test_csv_opens_with_norwegian_characters(scene: Scene) -> None:
    build_walk(scene)
    scene.observe("litter", at(-100, 200), note='=HYPERLINK("x") søppel ved Åsen')
    r = scene.client.get(f"/api/v1/areas/{scene.east.id}/action-list?format=csv", headers=scene.h)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    assert r.content.startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig")), delimiter=";"))
    assert len(rows) == 1
    # Titles speak the organization's language (Bokmål by default) and count the reports.
    assert rows[0]["tittel"] == "Dårlig belysning – Øst (1 melding)"
    west = scene.client.get(
        f"/api/v1/areas/{scene.west.id}/action-list?format=csv&delimiter=comma", headers=scene.h
    )
    table = list(csv.DictReader(io.StringIO(west.content.decode("utf-8-sig"))))
    assert len(table) == 7
    assert {r["kategorikode"] for r in table} == {"lighting", "vegetation", "graffiti", "litter"}
    assert all(float(r["breddegrad"]) > 58 for r in table)


def test_follow_up_figures(scene: Scene, session: Session) -> None:
    ids = [scene.observe("lighting", at(-200 + 100 * i, 0))["action_item_id"] for i in range(3)]
    ids.append(scene.observe("graffiti", at(-600, -100))["action_item_id"])
    now = utcnow()
    for item_id, days in zip(ids[:3], (10, 20, 40), strict=True):
        item = session.get(ActionItem, uuid.UUID(item_id))
        assert item is not None
        item.created_at = now - timedelta(days=days + 5)
        item.status = ActionStatus.resolved
        item.resolved_at = item.created_at + timedelta(days=days)
    late = session.get(ActionItem, uuid.UUID(ids[3]))
    assert late is not None
    late.created_at = now - timedelta(days=100)
    late.due_date = (now - timedelta(days=1)).date()
    count_all(session)  # changed behind the services' back: counted as the backfill would
    session.commit()
    by_dept = {
        g["key"]: g
        for g in scene.client.get(
            "/api/v1/stats/follow-up?group_by=department", headers=scene.h
        ).json()["groups"]
    }
    assert by_dept["lighting"]["resolved"] == 3
    assert by_dept["lighting"]["median_days_to_resolve"] == 20.0
    assert by_dept["property"]["open"] == 1
    assert by_dept["property"]["overdue"] == 1
    assert by_dept["property"]["open_age_days"] == {"0-30": 0, "31-90": 0, "91-180": 1, ">180": 0}
    by_cat = {
        g["key"]: g
        for g in scene.client.get(
            "/api/v1/stats/follow-up?group_by=category", headers=scene.h
        ).json()["groups"]
    }
    # Labels in the organization's language (Bokmål by default), English on request.
    assert by_cat["lighting"]["label"] == "Dårlig belysning"
    english = scene.client.get(
        "/api/v1/stats/follow-up?group_by=category", headers={**scene.h, "Accept-Language": "en"}
    ).json()["groups"]
    assert {g["key"]: g for g in english}["lighting"]["label"] == "Poor lighting"
    assert by_dept["lighting"]["label"] == "Belysning"
    by_area = scene.client.get("/api/v1/stats/follow-up?group_by=area", headers=scene.h).json()[
        "groups"
    ]
    assert [g["label"] for g in by_area] == ["Vest"]
    assert (
        scene.client.get("/api/v1/stats/follow-up?group_by=walk", headers=scene.h).status_code
        == 422
    )


def test_follow_up_walk_verifies_and_reopens(app: Any, scene: Scene, session: Session) -> None:
    a = scene.observe("lighting", at(-200, 0))["action_item_id"]
    b = scene.observe("graffiti", at(-600, -100))["action_item_id"]
    for item_id in (a, b):
        _resolve(session, item_id, days_ago=1)
    follow = make_walk(session, scene.world.org, area=scene.west, follow_up_of_id=scene.walk.id)
    elsewhere = make_walk(session, scene.world.org, area=scene.east)
    kid = Participant(
        organization_id=scene.world.org.id, walk_id=follow.id, group=ParticipantGroup.youth
    )
    far = Participant(
        organization_id=scene.world.org.id, walk_id=elsewhere.id, group=ParticipantGroup.resident
    )
    session.add_all([kid, far])
    session.commit()
    kid_h = {"Authorization": f"Bearer {participant_token(app, kid)}"}
    far_h = {"Authorization": f"Bearer {participant_token(app, far)}"}
    near = scene.client.get(
        f"/api/v1/walks/{follow.id}/nearby-resolved",
        headers=kid_h,
        params={"lon": at(-195, 0)[0], "lat": at(-195, 0)[1], "radius_m": 100},
    ).json()
    assert [i["id"] for i in near] == [a]
    assert (
        scene.client.post(
            f"/api/v1/action-items/{a}/follow-up", headers=kid_h, json={"outcome": "verified"}
        ).json()["status"]
        == "verified"
    )
    assert (
        scene.client.post(
            f"/api/v1/action-items/{b}/follow-up",
            headers=kid_h,
            json={"outcome": "reopened", "comment": "still tagged"},
        ).json()["status"]
        == "reopened"
    )
    assert (
        scene.client.post(
            f"/api/v1/action-items/{a}/follow-up", headers=kid_h, json={"outcome": "reopened"}
        ).status_code
        == 409
    )
    assert (
        scene.client.post(
            f"/api/v1/action-items/{b}/follow-up", headers=far_h, json={"outcome": "verified"}
        ).status_code
        == 409
    )
    history = scene.client.get(
        f"/api/v1/action-items/{a}/history", headers=scene.world.headers("planner")
    ).json()
    assert history[-1]["actor"] == "participant:youth"
    assert str(kid.id) not in str(history)
