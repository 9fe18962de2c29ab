"""The Open311 GeoReport v2 server, replaying the requests FixMyStreet's Open311 client sends
(services.xml, POST requests.xml form-encoded, servicerequestupdates.xml), on both databases."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from models import ActionItem, Observation, metadata
from tests.factories.client import SyncClient
from tests.factories.open311 import BASE, REPORTER, W3C, fms_post, new_key
from tests.factories.world import World


def xml(res: Any) -> ET.Element:
    assert res.headers["content-type"].startswith("text/xml"), res.headers["content-type"]
    return ET.fromstring(res.content)


def test_services_xml_as_fixmystreet_reads_it(client: SyncClient, world: World) -> None:
    root = xml(client.get(f"{BASE}/services.xml", params={"jurisdiction_id": "sandnes"}))
    assert root.tag == "services"
    services = root.findall("service")
    codes = [s.findtext("service_code") for s in services]
    assert "lighting" in codes
    assert "feels_unsafe" not in codes
    for s in services:
        assert [c.tag for c in s] == [
            "service_code", "service_name", "description", "metadata", "type", "keywords", "group",
        ]  # fmt: skip
        assert s.findtext("metadata") == "true"
        assert s.findtext("type") == "realtime"
    definition = xml(
        client.get(f"{BASE}/services/lighting.xml", params={"jurisdiction_id": "sandnes"})
    )
    assert definition.tag == "service_definition"
    attrs = definition.findall("attributes/attribute")
    assert [a.findtext("code") for a in attrs] == ["severity", "perceived_safety"]
    assert [v.findtext("key") for v in attrs[0].findall("values/value")] == ["1", "2", "3"]
    js = client.get(f"{BASE}/services.json", params={"jurisdiction_id": "sandnes"}).json()
    assert [s["service_code"] for s in js] == codes


def test_discovery(client: SyncClient, world: World) -> None:
    d = client.get(f"{BASE}/discovery.json", params={"jurisdiction_id": "sandnes"}).json()
    assert d["endpoints"][0]["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert d["endpoints"][0]["url"].endswith("/open311/v2/")
    assert W3C.match(d["changeset"])
    assert xml(client.get(f"{BASE}/discovery.xml")).tag == "discovery"


def test_post_becomes_a_grouped_walkless_observation(
    client: SyncClient, world: World, session: Session
) -> None:
    key = new_key(client, world)
    res = fms_post(client, key)
    assert res.status_code == 201, res.text
    root = xml(res)
    assert root.tag == "service_requests"
    request_id = root.findtext("request/service_request_id")
    assert request_id
    # A second report a few metres away joins the same request (grouped like any other).
    again = xml(fms_post(client, key, lat="58.85212", long="5.73525"))
    assert again.findtext("request/service_request_id") == request_id
    obs = list(session.scalars(select(Observation).where(Observation.walk_id.is_(None))))
    assert len(obs) == 2
    assert {str(o.action_item_id) for o in obs} == {request_id}
    assert all(o.integration_key_id is not None and o.severity == 3 for o in obs)
    assert obs[0].area_id == world.objects["area"].id
    assert obs[0].is_dark is not None
    item = session.get(ActionItem, obs[0].action_item_id)
    assert item is not None
    assert item.observation_count == 2

    one = client.get(
        f"{BASE}/requests/{request_id}.json", params={"jurisdiction_id": "sandnes", "api_key": key}
    )
    assert one.status_code == 200, one.text
    [record] = one.json()
    assert record["service_request_id"] == request_id
    assert record["status"] == "open"
    assert record["service_code"] == "lighting"
    assert record["address"] == "Sentrum"
    assert record["agency_responsible"] == "lighting"
    assert abs(record["lat"] - 58.85211) < 1e-4
    assert abs(record["long"] - 5.735225) < 1e-4
    for field in ("requested_datetime", "updated_datetime", "expected_datetime"):
        assert W3C.match(record[field]), (field, record[field])
    assert record["requested_datetime"].endswith("+01:00")  # the organization's zone, November


def test_reporter_identity_is_never_stored(
    client: SyncClient, world: World, session: Session
) -> None:
    key = new_key(client, world)
    assert fms_post(client, key, phone="+47 99 99 99 99").status_code == 201
    session.expire_all()
    needles = [*REPORTER.values(), "99 99 99 99"]
    found = []
    for table in metadata.sorted_tables:
        for row in session.execute(select(table)).all():
            blob = " ".join(str(v) for v in row)
            found += [f"{table.name}: {n}" for n in needles if n.lower() in blob.lower()]
    assert found == []
    # Nor in any column the models do not know about.
    if session.get_bind().dialect.name == "postgresql":
        dump = session.execute(text("SELECT row_to_json(o)::text FROM observation o")).scalars()
        assert not any(REPORTER["email"] in d for d in dump)


@pytest.mark.parametrize(
    ("over", "status", "needle"),
    [
        pytest.param({"api_key": "sw311_wrong"}, 403, "api_key", id="wrong-key"),
        pytest.param({"api_key": None}, 400, "api_key", id="no-key"),
        pytest.param({"lat": None, "long": None}, 400, "address_string", id="no-place"),
        pytest.param({"lat": "91"}, 400, "lat", id="lat-out-of-range"),
        pytest.param({"long": None}, 400, "long", id="lat-without-long"),
        pytest.param({"service_code": "feels_unsafe"}, 400, "service_code", id="not-actionable"),
        pytest.param({"service_code": None}, 400, "service_code", id="no-service-code"),
        pytest.param({"attribute[severity]": "9"}, 400, "severity", id="bad-attribute"),
        pytest.param(
            {"jurisdiction_id": "nowhere"}, 404, "jurisdiction", id="unknown-jurisdiction"
        ),
        pytest.param({"description": "x" * 2001}, 400, "description", id="too-long"),
    ],
)
def test_bad_posts_are_open311_error_lists(
    client: SyncClient,
    world: World,
    session: Session,
    over: dict[str, Any],
    status: int,
    needle: str,
) -> None:
    key = new_key(client, world)
    res = fms_post(client, key, **over)
    assert res.status_code == status, res.text
    root = xml(res)
    assert root.tag == "errors"
    assert root.findtext("error/code") == str(status)
    assert needle in (root.findtext("error/description") or "")
    assert session.scalar(select(Observation).where(Observation.walk_id.is_(None))) is None


def test_another_organizations_key_is_refused(client: SyncClient, world: World) -> None:
    key = new_key(client, world)
    res = fms_post(client, key, jurisdiction_id="stavanger")
    assert res.status_code == 403
    js = client.post(f"{BASE}/requests.json", data={"jurisdiction_id": "stavanger", "api_key": key})
    assert js.status_code == 403
    assert js.json() == [{"code": 403, "description": "invalid api_key for this jurisdiction"}]


def test_revoked_key_stops_working(client: SyncClient, world: World) -> None:
    key = new_key(client, world)
    keys = client.get("/api/v1/integration-keys", headers=world.headers("admin")).json()
    assert len(keys) == 1
    assert "api_key" not in keys[0]
    assert key.startswith(keys[0]["prefix"])
    gone = client.delete(
        f"/api/v1/integration-keys/{keys[0]['id']}", headers=world.headers("admin")
    )
    assert gone.status_code == 204
    assert fms_post(client, key).status_code == 403
    assert (
        client.post(
            "/api/v1/integration-keys", json={"name": "x"}, headers=world.headers("coordinator")
        ).status_code
        == 403
    )


def test_address_only_is_answered_with_a_token(client: SyncClient, world: World) -> None:
    key = new_key(client, world)
    placed = xml(fms_post(client, key, lat=None, long=None, address_string="sentrum"))
    assert placed.findtext("request/service_request_id")  # an area's name places it
    unplaced = xml(fms_post(client, key, lat=None, long=None, address_string="Storgata 1"))
    token = unplaced.findtext("request/token")
    assert token
    assert unplaced.find("request/service_request_id") is None
    auth = {"jurisdiction_id": "sandnes", "api_key": key}
    res = client.get(f"{BASE}/tokens/{token}.json", params=auth).json()
    assert res == [{"service_request_id": "", "token": token}]
    assert client.get(f"{BASE}/tokens/{token}x.json", params=auth).status_code == 404


def _resolve(client: SyncClient, world: World, item_id: str, note: str) -> None:
    headers = world.headers("coordinator")
    etag = client.get(f"/api/v1/action-items/{item_id}", headers=headers).headers["etag"]
    res = client.patch(
        f"/api/v1/action-items/{item_id}",
        json={"status": "resolved", "resolution_note": note},
        headers={**headers, "If-Match": etag},
    )
    assert res.status_code == 200, res.text


def test_servicerequestupdates_xml_and_filters(client: SyncClient, world: World) -> None:
    key = new_key(client, world)
    first = xml(fms_post(client, key)).findtext("request/service_request_id")
    other = xml(fms_post(client, key, service_code="graffiti")).findtext(
        "request/service_request_id"
    )
    assert first
    assert other
    assert first != other
    _resolve(client, world, first, "Ny lyspære satt inn")
    auth = {"jurisdiction_id": "sandnes", "api_key": key}
    root = xml(
        client.get(
            f"{BASE}/servicerequestupdates.xml",
            params={**auth, "start_date": "2020-01-01T00:00:00Z"},
        )
    )
    assert root.tag == "service_requests_updates"
    updates = root.findall("request_update")
    closed = [u for u in updates if u.findtext("status") == "closed"]
    assert [u.findtext("service_request_id") for u in closed] == [first]
    assert closed[0].findtext("description") == "Ny lyspære satt inn"
    assert W3C.match(closed[0].findtext("updated_datetime") or "")
    assert {c.tag for c in closed[0]} >= {
        "update_id",
        "service_request_id",
        "status",
        "updated_datetime",
        "description",
        "media_url",
    }

    def ids(**params: str) -> list[str]:
        res = client.get(f"{BASE}/requests.json", params={**auth, **params})
        assert res.status_code == 200, res.text
        return [r["service_request_id"] for r in res.json()]

    assert set(ids()) == {first, other}
    assert ids(status="closed") == [first]
    assert ids(status="open") == [other]
    assert ids(service_code="graffiti") == [other]
    assert ids(service_request_id=f"{other},{first}", status="open") in (
        [first, other],
        [other, first],
    )
    assert ids(start_date="2020-01-01T00:00:00Z", end_date="2020-02-01T00:00:00Z") == []
    bad = client.get(f"{BASE}/requests.xml", params={**auth, "start_date": "yesterday"})
    assert bad.status_code == 400
    assert xml(bad).tag == "errors"
    naive = client.get(f"{BASE}/requests.json", params={**auth, "end_date": "2026-01-01T00:00:00"})
    assert naive.status_code == 400
    assert "time zone" in naive.json()[0]["description"]


def test_without_a_key_only_the_published_view(
    client: SyncClient, world: World, session: Session
) -> None:
    key = new_key(client, world)
    rid = xml(fms_post(client, key)).findtext("request/service_request_id")
    anon = client.get(f"{BASE}/requests.json", params={"jurisdiction_id": "sandnes"})
    assert anon.status_code == 403  # the organization publishes nothing yet
    world.org.public_followup = True
    session.flush()
    session.commit()
    [record] = client.get(f"{BASE}/requests.json", params={"jurisdiction_id": "sandnes"}).json()
    assert record["service_request_id"] == rid
    assert record["media_url"] == ""
    assert record["status_notes"] == ""
    assert (record["lat"], record["long"]) != (58.8521, 5.7352)  # snapped to a ~50 m grid
    assert abs(record["lat"] - 58.8521) < 0.0005


def test_jurisdiction_is_required_with_two_organizations(client: SyncClient, world: World) -> None:
    res = client.get(f"{BASE}/services.json")
    assert res.status_code == 400
    assert "jurisdiction_id" in res.json()[0]["description"]
    assert (
        client.get(f"{BASE}/services.csv", params={"jurisdiction_id": "sandnes"}).status_code == 404
    )


def test_moderation_rules_apply_and_the_token_resolves(
    client: SyncClient, world: World, session: Session
) -> None:
    key = new_key(client, world)
    admin = world.headers("admin")
    assert (
        client.patch(
            "/api/v1/organization", json={"moderation_mode": "pre"}, headers=admin
        ).status_code
        == 200
    )
    held = xml(fms_post(client, key))
    token = held.findtext("request/token")
    assert token
    assert held.find("request/service_request_id") is None
    auth = {"jurisdiction_id": "sandnes", "api_key": key}
    assert (
        client.get(f"{BASE}/tokens/{token}.json", params=auth).json()[0]["service_request_id"] == ""
    )
    # The walk-less observation is in the staff's lists like any other.
    listed = client.get(
        "/api/v1/observations", params={"limit": 50}, headers=world.headers("coordinator")
    )
    assert listed.status_code == 200, listed.text
    [obs] = [o for o in listed.json()["items"] if o["id"] == token]
    assert obs["walk_id"] is None
    feed = client.get("/api/v1/map/observations", headers=world.headers("planner"))
    assert feed.status_code == 200
    assert token in feed.text
    # A coordinator accepts it; it is grouped, and the token now names the request.
    res = client.patch(
        f"/api/v1/observations/{token}",
        json={"moderation": "accepted"},
        headers=world.headers("coordinator"),
    )
    assert res.status_code == 200, res.text
    [resolved] = client.get(f"{BASE}/tokens/{token}.json", params=auth).json()
    assert resolved["service_request_id"] == res.json()["action_item_id"]


def test_unknown_query_parameters_are_open311_errors(client: SyncClient, world: World) -> None:
    res = client.get(
        f"{BASE}/requests.xml", params={"jurisdiction_id": "sandnes", "stauts": "open"}
    )
    assert res.status_code == 400
    assert "stauts" in (xml(res).findtext("error/description") or "")
