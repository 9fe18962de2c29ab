"""Bulk changes: one request, a result per item, each item all-or-nothing with its events."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlmodel import col

from models import ActionEvent, ActionItem, Organization
from tests.factories.action_items import Scene, at
from tests.factories.client import SyncClient

URL = "/api/v1/action-items/bulk"


@pytest.fixture
def scene(client: SyncClient, world: Any, session: Session) -> Scene:
    return Scene(client, world, session)


def _events(session: Session, item_id: str, kind: str = "status") -> int:
    session.expire_all()
    return int(
        session.scalar(
            select(func.count())
            .select_from(ActionEvent)
            .where(
                col(ActionEvent.action_item_id) == uuid.UUID(item_id), col(ActionEvent.kind) == kind
            )
        )
        or 0
    )


def test_a_coordinator_triages_fifty_items_in_one_request(scene: Scene, session: Session) -> None:
    # 50 separate lamps, 60 m apart along five rows (more than the 35 m grouping distance).
    ids = [
        scene.observe("lighting", at(-950 + 60 * (i % 10), -400 + 150 * (i // 10)))[
            "action_item_id"
        ]
        for i in range(50)
    ]
    assert len(set(ids)) == 50
    r = scene.client.post(
        URL,
        headers=scene.h,
        json={
            "ids": ids,
            "set": {"status": "triaged", "department": "roads", "comment": "after the walk"},
        },
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["ok"], body["conflict"], body["forbidden"]) == (50, 0, 0)
    assert [x["id"] for x in body["results"]] == ids
    assert all(x["status"] == "ok" for x in body["results"])
    listed = scene.client.get(
        "/api/v1/action-items?status=triaged&department=roads&limit=100", headers=scene.h
    ).json()["items"]
    assert {i["id"] for i in listed} == set(ids)
    for item_id in ids[:5] + ids[-5:]:
        assert _events(session, item_id) == 1
        history = scene.client.get(
            f"/api/v1/action-items/{item_id}/history", headers=scene.h
        ).json()
        status_event = next(e for e in history if e["kind"] == "status")
        assert (status_event["to_status"], status_event["comment"]) == ("triaged", "after the walk")
        assert any(e["kind"] == "update" and "department" in e["changes"] for e in history)


def test_each_item_gets_its_own_result(scene: Scene, session: Session) -> None:
    lamp = scene.observe("lighting", at(-200, 0))["action_item_id"]
    hedge = scene.observe("vegetation", at(-300, 0))["action_item_id"]
    moved = scene.observe("graffiti", at(-600, -100))["action_item_id"]
    stale = scene.observe("litter", at(-700, 200))["action_item_id"]
    stale_version = scene.item(stale)["version"]
    scene.client.patch(
        f"/api/v1/action-items/{moved}",
        headers={**scene.h, "If-Match": f'"{uuid.UUID(moved).hex}-{scene.item(moved)["version"]}"'},
        json={"status": "in_progress"},
    )
    scene.client.patch(
        f"/api/v1/action-items/{stale}",
        headers={**scene.h, "If-Match": f'"{uuid.UUID(stale).hex}-{stale_version}"'},
        json={"priority_override": 80},
    )
    foreign = str(uuid.uuid4())
    eng = scene.world.headers("engineer")  # lighting department
    r = scene.client.post(
        URL,
        headers=eng,
        json={
            "ids": [
                lamp,
                hedge,
                moved,
                {"id": stale, "version": stale_version},
                foreign,
            ],
            "set": {"status": "in_progress"},
        },
    )
    assert r.status_code == 200, r.text
    results = {x["id"]: x for x in r.json()["results"]}
    assert results[lamp]["status"] == "ok"
    assert results[hedge]["status"] == "forbidden"  # another department
    assert results[hedge]["allowed_moves"] == []
    assert results[moved]["status"] == "forbidden"  # parks' graffiti: not theirs either
    assert results[stale]["status"] == "conflict"  # the version is checked first, as If-Match
    assert results[foreign]["status"] == "not_found"
    assert scene.item(lamp)["status"] == "in_progress"
    assert scene.item(hedge)["status"] == "new"
    assert _events(session, hedge) == 0

    # The coordinator: a stale version is that item's conflict; a backward move too.
    r = scene.client.post(
        URL,
        headers=scene.h,
        json={
            "ids": [{"id": stale, "version": stale_version}, moved, lamp],
            "set": {"status": "triaged"},
        },
    )
    results = {x["id"]: x for x in r.json()["results"]}
    assert results[stale]["status"] == "conflict"
    # In the organization's Bokmål, as every answer to this reader.
    assert "versjon 2, ikke 1" in results[stale]["detail"]
    assert results[moved]["status"] == "conflict"
    assert results[moved]["allowed_moves"] == ["resolved", "wont_fix", "referred", "duplicate"]
    assert results[lamp]["status"] == "conflict"
    assert scene.item(stale)["status"] == "new"
    assert _events(session, stale) == 0


def test_an_item_is_all_or_nothing(scene: Scene, session: Session) -> None:
    """A resolution note is required and missing: the department change of the same item is
    not applied either, while the next item goes through."""
    org = session.get(Organization, scene.world.org.id)
    assert org is not None
    org.require_resolution_note = True
    lamp = scene.observe("lighting", at(-200, 0))["action_item_id"]
    item = session.get(ActionItem, uuid.UUID(lamp))
    assert item is not None
    item.resolution_note = "Lamp replaced"
    session.commit()
    hedge = scene.observe("vegetation", at(-300, 0))["action_item_id"]
    r = scene.client.post(
        URL,
        headers={**scene.h, "Accept-Language": "sv"},
        json={"ids": [hedge, lamp], "set": {"status": "resolved", "department": "lighting"}},
    )
    results = {x["id"]: x for x in r.json()["results"]}
    assert results[hedge]["status"] == "invalid"
    assert results[hedge]["errors"][0]["loc"] == ["body", "resolution_note"]
    # The item's answer is in the reader's language, as a problem detail is.
    assert "åtgärdsanteckning" in results[hedge]["errors"][0]["msg"]
    assert "åtgärdsanteckning" in results[hedge]["detail"]
    assert scene.item(hedge)["department"] == "parks"
    assert scene.item(hedge)["status"] == "new"
    assert _events(session, hedge, "update") == 0
    assert results[lamp]["status"] == "ok"
    assert scene.item(lamp)["status"] == "resolved"


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        pytest.param({"ids": [], "set": {"status": "triaged"}}, ["body", "ids"], id="no-ids"),
        pytest.param({"ids": [str(uuid.uuid4())], "set": {}}, ["body", "set"], id="empty-set"),
        pytest.param(
            {"ids": [str(uuid.uuid4())], "set": {"title": "x"}},
            ["body", "set", "title"],
            id="title-not-in-bulk",
        ),  # fmt: skip
        pytest.param(
            {"ids": [str(uuid.uuid4())], "set": {"status": None}},
            ["body", "set", "status"],
            id="null-status",
        ),  # fmt: skip
        pytest.param(
            {"ids": ["nope"], "set": {"status": "triaged"}}, ["body", "ids", 0], id="not-an-id"
        ),  # fmt: skip
        pytest.param(
            {"ids": [str(uuid.uuid4())] * 501, "set": {"status": "triaged"}},
            ["body", "ids"],
            id="too-many",
        ),  # fmt: skip
    ],
)
def test_bad_bulk_requests(scene: Scene, body: dict[str, Any], loc: list[Any]) -> None:
    r = scene.client.post(URL, headers=scene.h, json=body)
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["loc"][: len(loc)] == loc


def test_planners_and_participants_cannot_bulk(scene: Scene) -> None:
    lamp = scene.observe("lighting", at(-200, 0))["action_item_id"]
    for who in ("planner", "participant"):
        r = scene.client.post(
            URL, headers=scene.world.headers(who), json={"ids": [lamp], "set": {"comment": "x"}}
        )
        assert r.status_code == 403
    # Another organization's admin gets not_found for our ids, never a change.
    r = scene.client.post(
        URL,
        headers=scene.world.headers("foreign_admin"),
        json={"ids": [lamp], "set": {"status": "triaged"}},
    )
    assert r.json()["results"][0]["status"] == "not_found"
    assert scene.item(lamp)["status"] == "new"
