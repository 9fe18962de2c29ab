"""The report back of a walk, on both databases: unlisted and 404 until a coordinator publishes
it (and again after a withdrawal); each observation's item with status, resolution note,
referral and declined reason; never a sensitive category, an identity or a participant's note,
in the HTML, the JSON and the PDF; and the comparison with a later walk in the same area."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from models import Participant, ParticipantGroup, utcnow
from tests.factories import make_walk
from tests.factories.client import SyncClient
from tests.factories.pdf import POPPLER, pdf_text
from tests.factories.photos import camera_jpeg
from tests.factories.world import World, participant_token

SECRET_NOTE = "Nøkkelen ligger under matta hos Hansen"
SENSITIVE_NOTE = "Salg ved trappa hver fredag"
# Inside the world's area, far enough apart for separate items.
SPOT = {
    "lighting": (5.7300, 58.8500),
    "graffiti": (5.7320, 58.8500),
    "vegetation": (5.7340, 58.8500),
    "walkway": (5.7360, 58.8500),
    "drug_dealing": (5.7380, 58.8500),
    "feels_unsafe": (5.7400, 58.8500),
    "traffic": (5.7400, 58.8540),
}


def put_obs(
    client: SyncClient, headers: dict[str, str], walk_id: Any, category: str, **kw: Any
) -> dict[str, Any]:
    body = {
        "walk_id": str(walk_id),
        "category": category,
        "location": {"type": "Point", "coordinates": list(SPOT[category])},
        "severity": 2,
        "perceived_safety": 1,
        "recorded_at": (utcnow() - timedelta(minutes=5)).isoformat(),
        **kw,
    }
    r = client.put(f"/api/v1/observations/{uuid.uuid4()}", json=body, headers=headers)
    assert r.status_code == 201, r.text
    return dict(r.json())


def move(client: SyncClient, world: World, item_id: str, body: dict[str, Any]) -> None:
    url = f"/api/v1/action-items/{item_id}"
    h = world.headers("coordinator")
    h = {**h, "If-Match": client.get(url, headers=h).headers["ETag"]}
    r = client.patch(url, json=body, headers=h)
    assert r.status_code == 200, r.text


@pytest.fixture
def walked(client: SyncClient, world: World) -> dict[str, Any]:
    """The world's walk with a participant's observations: four actionable ones that end up
    resolved, declined, referred and still new, a sensitive one and a feeling."""
    r = client.post(
        "/api/v1/categories",
        json={"code": "drug_dealing", "label_en": "Drug dealing", "label_nb": "Narkotikasalg",
              "actionable": True, "sensitive": True, "group_distance_m": 30},
        headers=world.headers("admin"),
    )  # fmt: skip
    assert r.status_code == 201, r.text
    h = world.headers("participant")
    obs = {
        code: put_obs(client, h, world.walk.id, code, note=SECRET_NOTE)
        for code in ("lighting", "graffiti", "vegetation", "walkway", "feels_unsafe")
    }
    obs["drug_dealing"] = put_obs(client, h, world.walk.id, "drug_dealing", note=SENSITIVE_NOTE)
    items = {code: o["action_item_id"] for code, o in obs.items()}
    move(client, world, items["lighting"], {"status": "resolved",
                                            "resolution_note": "Replaced the bulb"})  # fmt: skip
    move(client, world, items["graffiti"], {"status": "wont_fix",
                                            "comment": "Private wall; the owner is told"})  # fmt: skip
    move(client, world, items["vegetation"], {"status": "referred",
                                              "referred_to": "Statens vegvesen"})  # fmt: skip
    move(client, world, items["drug_dealing"], {"status": "resolved",
                                                "resolution_note": "Politiet orientert"})  # fmt: skip
    return {"obs": obs, "items": items}


def page_url(world: World, suffix: str = "") -> str:
    return f"/public/{world.org.slug}/walks/{world.walk.id}{suffix}"


def publish(client: SyncClient, world: World, who: str = "coordinator", **body: Any) -> Any:
    return client.post(
        f"/api/v1/walks/{world.walk.id}/report-back",
        json=body or None,
        headers=world.headers(who),
    )


def assert_private(text: str, walked: dict[str, Any]) -> None:
    """No identity, no participant's note, nothing of the sensitive category."""
    for secret in (
        SECRET_NOTE, SENSITIVE_NOTE, "Ada", "youth", "Drug dealing", "Narkotikasalg",
        "drug_dealing", "Politiet orientert", walked["obs"]["drug_dealing"]["id"],
        walked["items"]["drug_dealing"], "participant",
    ):  # fmt: skip
        assert secret not in text, secret


def test_unpublished_published_withdrawn(
    client: SyncClient, world: World, walked: dict[str, Any]
) -> None:
    for suffix in ("", ".json", "?format=pdf"):
        assert client.get(page_url(world, suffix)).status_code == 404
    r = publish(client, world)
    assert r.status_code == 200, r.text
    state = r.json()
    assert state["published"] is True
    assert state["url"].endswith(page_url(world))
    first = state["published_at"]
    # Publishing again keeps the first time; the walk read says when.
    assert publish(client, world, published=True).json()["published_at"] == first
    walk = client.get(f"/api/v1/walks/{world.walk.id}", headers=world.headers("coordinator"))
    assert walk.json()["report_back_published_at"] == first
    for suffix in ("", ".json", "?format=pdf", "?format=json"):
        assert client.get(page_url(world, suffix)).status_code == 200, suffix
    # Anyone with the link, but only with the right organization.
    other = f"/public/{world.other_org.slug}/walks/{world.walk.id}"
    assert client.get(other).status_code == 404
    assert client.get(f"/public/{world.org.slug}/walks/{world.other_walk.id}").status_code == 404
    assert client.get(f"/public/no-such-org/walks/{world.walk.id}").status_code == 404

    r = publish(client, world, published=False)
    assert r.status_code == 200, r.text
    assert (r.json()["published"], r.json()["published_at"]) == (False, None)
    for suffix in ("", ".json", "?format=pdf"):
        assert client.get(page_url(world, suffix)).status_code == 404


@pytest.mark.parametrize(
    ("who", "status"),
    [
        pytest.param("admin", 200, id="admin"),
        pytest.param("coordinator", 200, id="coordinator"),
        pytest.param("engineer", 403, id="engineer"),
        pytest.param("planner", 403, id="planner"),
        pytest.param("participant", 403, id="participant"),
        pytest.param("anonymous", 401, id="anonymous"),
        pytest.param("foreign_admin", 404, id="another-organization"),
    ],
)
def test_who_may_publish_and_withdraw(
    client: SyncClient, world: World, who: str, status: int
) -> None:
    assert publish(client, world, who).status_code == status
    assert publish(client, world, who, published=False).status_code == status


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"published": "no"}, id="text"),
        pytest.param({"published": 0}, id="number"),
        pytest.param({"published": None}, id="null"),
        pytest.param({"published": False, "walk_id": str(uuid.uuid4())}, id="unknown-field"),
    ],
)
def test_a_bad_body_is_a_422_naming_the_field(
    client: SyncClient, world: World, body: dict[str, Any]
) -> None:
    r = client.post(
        f"/api/v1/walks/{world.walk.id}/report-back", json=body, headers=world.headers("admin")
    )
    assert r.status_code == 422, r.text
    assert set(body) & {str(e["loc"][-1]) for e in r.json()["errors"]}


def test_the_json_shows_each_item_and_nothing_private(
    client: SyncClient, world: World, walked: dict[str, Any]
) -> None:
    publish(client, world)
    r = client.get(page_url(world, ".json"), params={"lang": "en"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/json")
    assert r.headers["x-robots-tag"] == "noindex, nofollow"
    assert_private(r.text, walked)
    body = r.json()
    items = {i["category"]: i for i in body["items"]}
    assert set(items) == {"lighting", "graffiti", "vegetation", "walkway"}
    lit, tag, veg, path = (items[c] for c in ("lighting", "graffiti", "vegetation", "walkway"))
    assert (lit["status"], lit["done"], lit["resolution_note"]) == (
        "resolved",
        True,
        "Replaced the bulb",
    )
    assert lit["done_date"] is not None
    assert (tag["status"], tag["declined_reason"]) == (
        "wont_fix",
        "Private wall; the owner is told",
    )
    assert (veg["status"], veg["referred_to"]) == ("referred", "Statens vegvesen")
    assert (path["status"], path["resolution_note"], path["done"]) == ("new", None, False)
    assert path["due_date"] is not None
    # The phone finds its own observations by id; the feeling has no item.
    by_obs = {o["id"]: o["item_id"] for o in body["observations"]}
    o = walked["obs"]
    assert by_obs == {
        o["lighting"]["id"]: lit["id"], o["graffiti"]["id"]: tag["id"],
        o["vegetation"]["id"]: veg["id"], o["walkway"]["id"]: path["id"],
        o["feels_unsafe"]["id"]: None,
    }  # fmt: skip
    assert lit["observation_ids"] == [o["lighting"]["id"]]
    assert body["counts"] == {"observations": 5, "items": 4, "done": 1}
    assert body["comparison"] is None
    # The same by content negotiation on the page's own address.
    same = client.get(
        page_url(world), params={"lang": "en"}, headers={"Accept": "application/json"}
    )
    assert same.json() == body


def test_the_page_and_the_pdf_show_the_same_and_nothing_private(
    client: SyncClient, world: World, walked: dict[str, Any], tmp_path: Path, backend: str
) -> None:
    publish(client, world)
    r = client.get(page_url(world), headers={"Accept-Language": "en"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/html")
    assert r.headers["referrer-policy"] == "no-referrer"
    assert r.headers["cache-control"] == "no-cache"
    html = r.text
    assert_private(html, walked)
    for shown in ("Replaced the bulb", "Not done: Private wall; the owner is told",
                  "Referred to Statens vegvesen", "Resolved", "Won&#x27;t fix", "Evening walk"):  # fmt: skip
        assert shown in html, shown
    assert client.get(page_url(world), headers={"If-None-Match": r.headers["etag"],
                      "Accept-Language": "en"}).status_code == 304  # fmt: skip
    nb = client.get(page_url(world), params={"lang": "nb"}).text
    assert "Utføres ikke: Private wall" in nb
    assert 'lang="nb"' in nb

    pdf = client.get(page_url(world), params={"format": "pdf", "lang": "en"})
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    if POPPLER:
        text = " ".join(pdf_text(pdf.content, tmp_path, f"report-back-{backend}").split())
        assert "Replaced the bulb" in text
        assert "Statens vegvesen" in text
        assert_private(text, walked)


def test_a_later_walk_shows_verified_still_a_problem_and_new(
    app: Any, client: SyncClient, world: World, walked: dict[str, Any], session: Session
) -> None:
    items = walked["items"]
    move(client, world, items["walkway"], {"status": "resolved", "resolution_note": "Patched"})
    area = world.objects["area"]
    later = make_walk(
        session, world.org, area=area, title="Oppfølging", follow_up_of_id=world.walk.id,
        starts_at=utcnow() + timedelta(minutes=1),
    )  # fmt: skip
    kid = Participant(organization_id=world.org.id, walk_id=later.id, group=ParticipantGroup.youth,
                      display_name="Kari")  # fmt: skip
    session.add(kid)
    session.commit()
    kid_h = {"Authorization": f"Bearer {participant_token(app, kid)}"}
    # The walkway was fixed; the lamp is dark again (its item reopens); a traffic hazard is new;
    # a new sensitive report stays out of the comparison.
    r = client.post(f"/api/v1/action-items/{items['walkway']}/follow-up",
                    json={"outcome": "verified"}, headers=kid_h)  # fmt: skip
    assert r.status_code == 200, r.text
    put_obs(client, kid_h, later.id, "lighting", note="Still dark")
    traffic = put_obs(client, kid_h, later.id, "traffic")
    put_obs(client, kid_h, later.id, "drug_dealing", note=SENSITIVE_NOTE)
    publish(client, world)
    # Not compared while the later walk is under way.
    assert client.get(page_url(world, ".json")).json()["comparison"] is None
    r = client.patch(f"/api/v1/walks/{later.id}", json={"status": "completed"},
                     headers=world.headers("coordinator"))  # fmt: skip
    assert r.status_code == 200, r.text

    body = client.get(page_url(world, ".json"), params={"lang": "en"}).json()
    c = body["comparison"]
    assert c["walk"]["id"] == str(later.id)
    assert c["verified"] == [items["walkway"]]
    assert c["still_a_problem"] == [items["lighting"]]
    assert [(i["id"], i["category"]) for i in c["new"]] == [(traffic["action_item_id"], "traffic")]
    assert_private(str(c), walked)
    assert "Kari" not in client.get(page_url(world, ".json")).text
    html = client.get(page_url(world), params={"lang": "en"}).text
    assert "Follow-up walk: Oppfølging" in html
    assert "Verified fixed" in html
    assert "Still a problem" in html
    assert "Drug dealing" not in html


def _fix_photo(client: SyncClient, world: World, item_id: str) -> str:
    photo_id = str(uuid.uuid4())
    up = client.put(
        f"/api/v1/action-items/{item_id}/photos/{photo_id}",
        headers={**world.headers("coordinator"), "Content-Type": "image/jpeg"},
        content=camera_jpeg(),
    )
    assert up.status_code == 201, up.text
    return photo_id


def test_fix_photos_only_where_the_organization_shows_them(
    client: SyncClient, world: World, walked: dict[str, Any]
) -> None:
    lit = walked["items"]["lighting"]
    photo_id = _fix_photo(client, world, lit)
    # A photo of an observation is never shown, whatever the setting.
    obs_photo = str(uuid.uuid4())
    up = client.put(
        f"/api/v1/observations/{walked['obs']['lighting']['id']}/photos/{obs_photo}",
        headers={**world.headers("participant"), "Content-Type": "image/jpeg"},
        content=camera_jpeg(),
    )
    assert up.status_code == 201, up.text
    assert publish(client, world).status_code == 200
    served = page_url(world, f"/photos/{photo_id}")

    # Off (the default): neither listed nor served.
    [item] = [i for i in client.get(page_url(world, ".json")).json()["items"] if i["id"] == lit]
    assert "photos" not in item
    assert served not in client.get(page_url(world)).text
    assert client.get(served).status_code == 404

    admin = world.headers("admin")
    r = client.patch("/api/v1/organization", json={"report_back_photos": True}, headers=admin)
    assert r.status_code == 200, r.text
    assert r.json()["report_back_photos"] is True
    bad = client.patch("/api/v1/organization", json={"report_back_photos": None}, headers=admin)
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["loc"][-1] == "report_back_photos"

    items = {i["id"]: i for i in client.get(page_url(world, ".json")).json()["items"]}
    assert items[lit]["photos"] == [served]
    assert all(i["photos"] == [] for k, i in items.items() if k != lit)
    assert f'href="{served}"' in client.get(page_url(world)).text
    got = client.get(served)
    assert got.status_code == 200
    assert got.headers["content-type"] == "image/jpeg"
    assert got.headers["x-robots-tag"] == "noindex, nofollow"
    assert b"Exif" not in got.content  # the stored renditions carry no metadata
    # Only fix photos of this report back's items.
    assert client.get(page_url(world, f"/photos/{obs_photo}")).status_code == 404
    assert client.get(page_url(world, f"/photos/{uuid.uuid4()}")).status_code == 404
    # Withdrawn: the photo goes with the page.
    assert publish(client, world, published=False).status_code == 200
    assert client.get(served).status_code == 404
