"""The published follow-up: off by default; when on, published categories only, never a
sensitive one, and no notes, photos, participants, departments or exact locations."""

from __future__ import annotations

import html
import json
import math
import re
import uuid
from typing import Any

import pytest
from sqlalchemy.orm import Session

from api.core.i18n import translate
from models import ActionItem
from tests.factories.client import SyncClient
from tests.factories.observations import observe
from tests.factories.photos import plain_jpeg, put_photo
from tests.factories.world import World

SECRET_NOTE = "Nøkkelen ligger under matta hos Hansen"
EXACT = (5.735113, 58.851707)


@pytest.fixture
def published(client: SyncClient, world: World, session: Session) -> dict[str, Any]:
    admin = world.headers("admin")
    res = client.post(
        "/api/v1/categories",
        json={"code": "drug_dealing", "label_en": "Drug dealing", "label_nb": "Narkotikasalg",
              "actionable": True, "sensitive": True, "group_distance_m": 30},
        headers=admin,
    )  # fmt: skip
    assert res.status_code == 201, res.text
    res = client.patch("/api/v1/categories/graffiti", json={"published": False}, headers=admin)
    assert res.status_code == 200, res.text
    lit = observe(
        client, world, note=SECRET_NOTE, location={"type": "Point", "coordinates": list(EXACT)}
    )
    observe(client, world, category="drug_dealing", note="Salg ved trappa",
            location={"type": "Point", "coordinates": [5.7390, 58.8540]})  # fmt: skip
    observe(client, world, category="graffiti", note="Tagging på garasjen",
            location={"type": "Point", "coordinates": [5.7310, 58.8500]})  # fmt: skip
    photo = put_photo(client, world, lit["id"], plain_jpeg()).json()["id"]
    url = f"/api/v1/action-items/{lit['action_item_id']}"
    headers = world.headers("coordinator")
    headers = {**headers, "If-Match": client.get(url, headers=headers).headers["etag"]}
    res = client.patch(
        url,
        json={"status": "resolved", "resolution_note": "Byttet pære, ring 99 88 77 66"},
        headers=headers,
    )
    assert res.status_code == 200, res.text
    return {"item": lit["action_item_id"], "photo": photo, "observation": lit["id"]}


def slug(world: World) -> str:
    return world.org.slug


def turn_on(client: SyncClient, world: World) -> None:
    res = client.patch(
        "/api/v1/organization", json={"public_followup": True}, headers=world.headers("admin")
    )
    assert res.status_code == 200, res.text
    assert res.json()["public_followup"] is True


def test_off_by_default(client: SyncClient, world: World, published: dict[str, Any]) -> None:
    for path in ("/", "/action-items.geojson", f"/areas/{world.objects['area'].id}"):
        assert client.get(f"/public/{slug(world)}{path}").status_code == 404
    assert client.get("/public/no-such-org/").status_code == 404
    # Only admins switch it.
    res = client.patch(
        "/api/v1/organization", json={"public_followup": True}, headers=world.headers("coordinator")
    )
    assert res.status_code == 403


def test_page_and_feed_carry_no_forbidden_field(
    client: SyncClient, world: World, published: dict[str, Any], session: Session
) -> None:
    turn_on(client, world)
    area = world.objects["area"]
    index = client.get(f"/public/{slug(world)}/")
    page = client.get(f"/public/{slug(world)}/areas/{area.id}")
    feed = client.get(f"/public/{slug(world)}/action-items.geojson")
    for res in (index, page, feed):
        assert res.status_code == 200, res.text
    assert page.headers["content-type"].startswith("text/html")
    assert feed.headers["content-type"] == "application/geo+json"
    forbidden = [
        SECRET_NOTE, "Hansen", "99 88 77 66", "Salg ved trappa", "Tagging på garasjen",
        "Narkotikasalg", "Drug dealing", "drug_dealing", "graffiti", "Tagging eller hærverk",
        published["photo"], published["observation"], "/photos/", "Ada", "youth", "ungdom",
        "Belysning", "department", "participant", "note", "5.735113", "58.851707",
    ]  # fmt: skip
    for res in (index, page, feed):
        leaks = [f for f in forbidden if f in res.text]
        assert leaks == [], (res.url, leaks)
    collection = feed.json()
    [feature] = collection["features"]
    assert feature["id"] == published["item"]
    assert set(feature["properties"]) == {
        "title", "category", "category_label", "status", "done", "due_date", "done_date", "area",
    }  # fmt: skip
    props = feature["properties"]
    assert props["status"] == "resolved"
    assert props["done"] is True
    assert props["done_date"]
    assert props["due_date"]
    lon, lat = feature["geometry"]["coordinates"]
    metres = math.hypot(
        (lon - EXACT[0]) * 111_320 * math.cos(math.radians(lat)), (lat - EXACT[1]) * 111_320
    )
    assert 0 < metres < 40  # moved onto the ~50 m grid, never far
    item = session.get(ActionItem, uuid.UUID(published["item"]))
    assert item is not None
    assert item.title in page.text
    assert "Utbedret" in page.text  # status in Bokmål, the organization's language


def test_cache_headers_language_and_304(
    client: SyncClient, world: World, published: dict[str, Any]
) -> None:
    turn_on(client, world)
    url = f"/public/{slug(world)}/"
    res = client.get(url)
    assert res.headers["cache-control"] == "public, max-age=300"
    assert "Accept-Language" in res.headers["vary"]
    assert '<html lang="nb">' in res.text
    again = client.get(url, headers={"If-None-Match": res.headers["etag"]})
    assert again.status_code == 304
    en = client.get(url, headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert '<html lang="en">' in en.text
    assert "Follow-up of safety walks" in en.text
    assert en.headers["etag"] != res.headers["etag"]
    assert '<html lang="en">' in client.get(url, params={"lang": "en"}).text
    feed = json.loads(
        client.get(f"/public/{slug(world)}/action-items.geojson", params={"lang": "en"}).text
    )
    assert feed["features"][0]["properties"]["category_label"] == "Poor lighting"


@pytest.mark.parametrize("lang", ["nb", "en"])
def test_the_page_has_an_icon_and_a_description_in_its_language(
    client: SyncClient, world: World, published: dict[str, Any], lang: str
) -> None:
    turn_on(client, world)
    page = client.get(f"/public/{slug(world)}/", params={"lang": lang}).text
    description = re.search(r'<meta name="description" content="([^"]+)">', page)
    assert description is not None
    assert html.unescape(description.group(1)) == translate("public.intro", lang)
    icon = re.search(r'<link rel="icon" href="([^"]+)">', page)
    assert icon is not None
    r = client.get(icon.group(1))  # the tab's icon, not a 404 in the browser's console
    assert r.status_code == 200
    assert r.headers["content-type"] == "image/x-icon"
