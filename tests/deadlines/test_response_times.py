"""Response times end to end, on both databases: who may read and write the list, the checks
on it, due dates of new items from the most specific rule (on arrival, on a split and on a
regroup), manual due dates that no rule moves, and applying a changed list to open items."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from sqlmodel import col

from api.core import spatial
from api.deadlines.calendar import add_working_days, default_due_date
from models import ActionEvent, ActionItem, Moderation, Observation, utcnow
from tests.factories import make_category
from tests.factories.client import SyncClient
from tests.factories.world import World

URL = "/api/v1/response-times"
# Inside the world's area (the factories' Sandnes square), grouping distances apart.
SPOTS = [(5.7300 + 0.001 * k, 58.8500) for k in range(8)]
OSLO = ZoneInfo("Europe/Oslo")


def put_rules(client: SyncClient, world: World, rules: list[dict[str, Any]]) -> Any:
    r = client.put(URL, json=rules, headers=world.headers("admin"))
    assert r.status_code == 200, r.text
    return r.json()


def observe(
    client: SyncClient, world: World, category: str, spot: int, **kw: Any
) -> dict[str, Any]:
    lon, lat = SPOTS[spot]
    body = {
        "walk_id": str(world.walk.id),
        "category": category,
        "location": {"type": "Point", "coordinates": [lon, lat]},
        "severity": kw.pop("severity", 2),
        "perceived_safety": kw.pop("perceived_safety", 1),
        "recorded_at": (utcnow() - timedelta(minutes=5)).isoformat(),
        **kw,
    }
    r = client.put(
        f"/api/v1/observations/{uuid.uuid4()}", json=body, headers=world.headers("coordinator")
    )
    assert r.status_code == 201, r.text
    data: dict[str, Any] = r.json()
    return data


def item(client: SyncClient, world: World, item_id: str) -> dict[str, Any]:
    r = client.get(f"/api/v1/action-items/{item_id}", headers=world.headers("coordinator"))
    assert r.status_code == 200, r.text
    data: dict[str, Any] = r.json()
    return data


def start_day(created_at: str) -> date:
    return datetime.fromisoformat(created_at).astimezone(OSLO).date()


@pytest.mark.parametrize(
    ("who", "read", "write"),
    [
        pytest.param("admin", 200, 200, id="admin"),
        pytest.param("coordinator", 200, 403, id="coordinator"),
        pytest.param("engineer", 200, 403, id="engineer"),
        pytest.param("planner", 200, 403, id="planner"),
        pytest.param("participant", 403, 403, id="participant"),
        pytest.param("anonymous", 401, 401, id="anonymous"),
    ],
)
def test_staff_read_and_admins_write(
    client: SyncClient, world: World, who: str, read: int, write: int
) -> None:
    h = world.headers(who)
    assert client.get(URL, headers=h).status_code == read
    assert client.put(URL, json=[], headers=h).status_code == write
    assert client.post(f"{URL}/apply", headers=h).status_code == write


def test_the_list_is_stored_in_order_and_paged(client: SyncClient, world: World) -> None:
    rules = [
        {"days": 60, "working_days": False},
        {"category": "lighting", "days": 10, "working_days": True},
        {"department": "parks", "priority_min": 50, "days": 5, "working_days": True},
    ]
    stored = put_rules(client, world, rules)
    want = [
        {"category": None, "department": None, "priority_min": None, **rules[0]},
        {"department": None, "priority_min": None, **rules[1]},
        {"category": None, **rules[2]},
    ]
    assert stored == {"items": want, "next": None}
    h = world.headers("engineer")
    first = client.get(URL, params={"limit": 2}, headers=h).json()
    assert first["items"] == want[:2]
    rest = client.get(first["next"], headers=h).json()
    assert rest == {"items": want[2:], "next": None}
    # Another organization sees its own (empty) list; replacing with [] clears ours.
    assert client.get(URL, headers=world.headers("foreign_admin")).json()["items"] == []
    assert put_rules(client, world, [])["items"] == []
    assert client.get(URL, headers=h).json()["items"] == []


@pytest.mark.parametrize(
    ("rules", "loc"),
    [
        pytest.param(
            [
                {"days": 3, "working_days": True},
                {"category": "nope", "days": 1, "working_days": True},
            ],
            ["body", 1, "category"],
            id="unknown-category",
        ),
        pytest.param(
            [{"category": "feels_unsafe", "days": 3, "working_days": True}],
            ["body", 0, "category"],
            id="perception-only-category",
        ),
        pytest.param(
            [
                {"category": "lighting", "days": 3, "working_days": True},
                {"category": "lighting", "days": 9, "working_days": False},
            ],
            ["body", 1],
            id="two-rules-alike",
        ),
        pytest.param([{"days": -1, "working_days": True}], ["body", 0, "days"], id="negative"),
        pytest.param([{"days": "30", "working_days": True}], ["body", 0, "days"], id="days-text"),
        pytest.param([{"days": 2.5, "working_days": True}], ["body", 0, "days"], id="days-float"),
        pytest.param([{"days": 99999, "working_days": True}], ["body", 0, "days"], id="too-long"),
        pytest.param([{"days": 3}], ["body", 0, "working_days"], id="working-days-missing"),
        pytest.param(
            [{"days": 3, "working_days": "yes"}], ["body", 0, "working_days"], id="working-text"
        ),
        pytest.param(
            [{"days": 3, "working_days": True, "priority_min": 101}],
            ["body", 0, "priority_min"],
            id="priority-above-100",
        ),
        pytest.param(
            [{"days": 3, "working_days": True, "organization_id": str(uuid.uuid4())}],
            ["body", 0, "organization_id"],
            id="unknown-field",
        ),
        pytest.param({"days": 3, "working_days": True}, ["body"], id="not-a-list"),
    ],
)
def test_a_bad_list_is_a_422_naming_the_entry_and_field(
    client: SyncClient, world: World, rules: Any, loc: list[Any]
) -> None:
    put_rules(client, world, [{"days": 7, "working_days": False}])
    r = client.put(URL, json=rules, headers=world.headers("admin"))
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert loc in [e["loc"] for e in r.json()["errors"]]
    # Nothing of the refused list was stored.
    assert client.get(URL, headers=world.headers("admin")).json()["items"] == [
        {
            "category": None,
            "department": None,
            "priority_min": None,
            "days": 7,
            "working_days": False,
        }
    ]


def test_new_items_take_the_most_specific_rule(client: SyncClient, world: World) -> None:
    put_rules(
        client,
        world,
        [
            {"days": 100, "working_days": False},
            {"department": "lighting", "days": 50, "working_days": False},
            {"category": "lighting", "days": 20, "working_days": False},
            {"category": "lighting", "priority_min": 50, "days": 4, "working_days": True},
            {"category": "lighting", "priority_min": 90, "days": 1, "working_days": True},
            {"department": "parks", "priority_min": 0, "days": 30, "working_days": False},
        ],
    )
    # A severe, unsafe lamp: priority ~ 60-70, so the priority_min 50 rule (not 90).
    urgent = item(client, world, observe(client, world, "lighting", 0, severity=3,
                                         perceived_safety=0)["action_item_id"])  # fmt: skip
    assert 50 <= urgent["priority"] < 90
    assert urgent["due_date"] == add_working_days(start_day(urgent["created_at"]), 4).isoformat()
    # A mild lamp: below 50, the lighting rule without priority.
    mild = item(client, world, observe(client, world, "lighting", 2, severity=1,
                                       perceived_safety=3)["action_item_id"])  # fmt: skip
    assert mild["priority"] < 50
    assert mild["due_date"] == (start_day(mild["created_at"]) + timedelta(days=20)).isoformat()
    # Vegetation goes to parks: the department rule.
    veg = item(client, world, observe(client, world, "vegetation", 4)["action_item_id"])
    assert veg["department"] == "parks"
    assert veg["due_date"] == (start_day(veg["created_at"]) + timedelta(days=30)).isoformat()
    # Graffiti (property): only the catch-all matches.
    tag = item(client, world, observe(client, world, "graffiti", 6)["action_item_id"])
    assert tag["due_date"] == (start_day(tag["created_at"]) + timedelta(days=100)).isoformat()
    assert not any(i["due_date_manual"] for i in (urgent, mild, veg, tag))


def test_without_rules_the_default_by_priority_stays(client: SyncClient, world: World) -> None:
    got = item(client, world, observe(client, world, "lighting", 0)["action_item_id"])
    assert (
        got["due_date"]
        == default_due_date(got["priority"], start_day(got["created_at"])).isoformat()
    )


def _patch(client: SyncClient, world: World, item_id: str, body: dict[str, Any]) -> Any:
    etag = client.get(f"/api/v1/action-items/{item_id}", headers=world.headers("engineer")).headers[
        "ETag"
    ]
    r = client.patch(
        f"/api/v1/action-items/{item_id}",
        json=body,
        headers={**world.headers("engineer"), "If-Match": etag},
    )
    assert r.status_code == 200, r.text
    return r.json()


def test_a_manual_due_date_overrides_and_apply_moves_only_the_others(
    client: SyncClient, world: World, session: Session
) -> None:
    put_rules(client, world, [{"category": "lighting", "days": 10, "working_days": False}])
    ids = [observe(client, world, "lighting", k)["action_item_id"] for k in (0, 2, 4)]
    manual = _patch(client, world, ids[0], {"due_date": "2031-01-15"})
    assert (manual["due_date"], manual["due_date_manual"]) == ("2031-01-15", True)
    # A bulk change of due dates is as manual as a PATCH.
    bulk = client.post(
        "/api/v1/action-items/bulk",
        json={"ids": [ids[1]], "set": {"due_date": None}},
        headers=world.headers("coordinator"),
    )
    assert bulk.json()["ok"] == 1, bulk.text
    # A resolved item is no longer open: apply leaves it alone too.
    resolved = observe(client, world, "lighting", 6)["action_item_id"]
    _patch(client, world, resolved, {"status": "resolved"})
    before = {i: item(client, world, i) for i in [*ids, resolved]}

    put_rules(client, world, [{"category": "lighting", "days": 3, "working_days": True}])
    # A rule change alone moves nothing that exists.
    assert item(client, world, ids[2])["due_date"] == before[ids[2]]["due_date"]
    r = client.post(f"{URL}/apply", headers=world.headers("admin"))
    assert r.status_code == 200, r.text
    assert r.json() == {"changed": 1}
    after = {i: item(client, world, i) for i in [*ids, resolved]}
    assert after[ids[0]]["due_date"] == "2031-01-15"
    assert after[ids[1]]["due_date"] is None
    assert after[resolved]["due_date"] == before[resolved]["due_date"]
    moved = after[ids[2]]
    assert moved["due_date"] == add_working_days(start_day(moved["created_at"]), 3).isoformat()
    assert moved["version"] == before[ids[2]]["version"] + 1  # a new ETag for the change
    event = session.scalars(
        select(ActionEvent).where(
            col(ActionEvent.action_item_id) == uuid.UUID(ids[2]),
            col(ActionEvent.comment) == "response times applied",
        )
    ).one()
    assert event.changes == {"due_date": [before[ids[2]]["due_date"], moved["due_date"]]}
    assert event.actor_user_id == world.users["admin"].id
    # Nothing left to change.
    assert client.post(f"{URL}/apply", headers=world.headers("admin")).json() == {"changed": 0}


def test_apply_counts_working_days_over_easter_from_the_local_creation_day(
    client: SyncClient, world: World, session: Session
) -> None:
    ids = [observe(client, world, "lighting", k)["action_item_id"] for k in (0, 3)]
    # Created at 00:30 in Oslo on Wednesday 1 April 2026 (still 31 March in UTC).
    created = datetime(2026, 3, 31, 22, 30, tzinfo=UTC)
    session.execute(
        update(ActionItem)
        .where(col(ActionItem.id).in_([uuid.UUID(i) for i in ids]))
        .values(created_at=created)
    )
    session.commit()
    put_rules(
        client,
        world,
        [
            {"category": "lighting", "days": 3, "working_days": True},
            {"category": "lighting", "priority_min": 0, "department": "lighting", "days": 3,
             "working_days": False},
        ],
    )  # fmt: skip
    # The second rule names category and department: it wins for both items.
    assert client.post(f"{URL}/apply", headers=world.headers("admin")).json() == {"changed": 2}
    assert {item(client, world, i)["due_date"] for i in ids} == {"2026-04-04"}
    put_rules(client, world, [{"category": "lighting", "days": 3, "working_days": True}])
    assert client.post(f"{URL}/apply", headers=world.headers("admin")).json() == {"changed": 2}
    # Maundy Thursday, Good Friday, the weekend and Easter Monday are skipped.
    assert {item(client, world, i)["due_date"] for i in ids} == {"2026-04-09"}


def test_split_and_regroup_give_new_items_the_rule(
    client: SyncClient, world: World, session: Session
) -> None:
    put_rules(client, world, [{"category": "lighting", "days": 12, "working_days": False}])
    a = observe(client, world, "lighting", 0)
    lon, lat = SPOTS[0]
    b = observe(client, world, "lighting", 0, location={"type": "Point",
                "coordinates": [lon + 0.0001, lat]})  # fmt: skip
    assert a["action_item_id"] == b["action_item_id"]
    r = client.post(
        f"/api/v1/action-items/{a['action_item_id']}/split",
        json={"observation_ids": [b["id"]]},
        headers=world.headers("coordinator"),
    )
    assert r.status_code == 201, r.text
    fresh = r.json()
    assert fresh["due_date"] == (start_day(fresh["created_at"]) + timedelta(days=12)).isoformat()

    # Observations in no item yet (stored before the category made items, say): a regroup of
    # the area makes their item, due by the rule.
    cat = make_category(session, world.org, "lighting")
    area = world.objects["area"]
    oid = uuid.uuid4()
    lon, lat = SPOTS[5]
    session.add(
        Observation(
            id=oid, organization_id=world.org.id, walk_id=world.walk.id, category_id=cat.id,
            location=spatial.to_db(spatial.point(lon, lat)), area_id=area.id, severity=2,
            recorded_at=utcnow(), moderation=Moderation.accepted,
            body_hash=hashlib.sha256(oid.bytes).hexdigest(),
        )
    )  # fmt: skip
    session.commit()
    put_rules(client, world, [{"category": "lighting", "days": 7, "working_days": False}])
    r = client.post(f"/api/v1/areas/{area.id}/regroup", headers=world.headers("coordinator"))
    assert r.status_code == 200, r.text
    assert r.json()["items_created"] == 1
    made = session.scalars(
        select(Observation.action_item_id).where(col(Observation.id) == oid)
    ).one()
    got = item(client, world, str(made))
    assert got["due_date"] == (start_day(got["created_at"]) + timedelta(days=7)).isoformat()
