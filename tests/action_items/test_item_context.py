"""What an engineer needs to know about an item: its observations and photos, a title that
says what and where, exports in the organization's language, and filters that are never
silently ignored."""

from __future__ import annotations

import csv
import io
import re
import uuid
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy.orm import Session

from models import Organization, utcnow
from models.organizations import Language
from tests.factories.action_items import Scene, at, patch
from tests.factories.client import SyncClient
from tests.factories.photos import plain_jpeg, put_photo
from tests.factories.world import _fill


@pytest.fixture
def scene(client: SyncClient, world: Any, session: Session) -> Scene:
    return Scene(client, world, session)


def test_an_items_observations_with_notes_and_photos(scene: Scene) -> None:
    p_headers = scene.world.headers("participant")
    # The participant's walk is the world's walk (Sentrum); the scene's walk is in Vest.
    a = scene.observe("lighting", at(-200, 0), note="Dark by the bridge", severity=3)
    b = scene.observe("lighting", at(-190, 0), note="Lamp flickers")
    scene.observe("lighting", at(-400, 100))  # another item
    item_id = a["action_item_id"]
    assert b["action_item_id"] == item_id
    r = put_photo(scene.client, scene.world, a["id"], plain_jpeg(), who="coordinator")
    assert r.status_code == 201, r.text

    for who in ("engineer", "planner", "coordinator"):
        got = scene.client.get(
            f"/api/v1/action-items/{item_id}/observations", headers=scene.world.headers(who)
        )
        assert got.status_code == 200, (who, got.text)
        obs = got.json()["items"]
        assert {o["id"] for o in obs} == {a["id"], b["id"]}
        first = next(o for o in obs if o["id"] == a["id"])
        assert (first["note"], first["severity"]) == ("Dark by the bridge", 3)
        assert "is_dark" in first
        assert first["photo_ids"] == [r.json()["id"]]
        # Signed links: an <img> shows them without a header.
        assert scene.client.get(first["photos"][0]["urls"]["thumb"]).status_code == 200
        text = got.text
        assert "participant_id" not in text
        assert "display_name" not in text
        assert "Ada" not in text  # the world participant's display name
    assert (
        scene.client.get(f"/api/v1/action-items/{item_id}/observations", headers=p_headers)
    ).status_code == 403
    # The same list through the observation filter, which used to be ignored.
    filtered = scene.client.get(
        f"/api/v1/observations?action_item_id={item_id}", headers=scene.h
    ).json()["items"]
    assert {o["id"] for o in filtered} == {a["id"], b["id"]}
    none = scene.client.get(
        f"/api/v1/observations?action_item_id={uuid.uuid4()}", headers=scene.h
    ).json()
    assert none["items"] == []


def test_titles_say_what_where_and_how_many_in_the_org_language(
    scene: Scene, session: Session
) -> None:
    item_id = scene.observe("lighting", at(-200, 0))["action_item_id"]
    assert scene.item(item_id)["title"] == "Dårlig belysning – Vest (1 melding)"
    scene.observe("lighting", at(-190, 0))
    assert scene.item(item_id)["title"] == "Dårlig belysning – Vest (2 meldinger)"
    org = session.get(Organization, scene.world.org.id)
    assert org is not None
    org.language = Language.en
    session.commit()
    scene.observe("lighting", at(-180, 0))
    assert scene.item(item_id)["title"] == "Poor lighting – Vest (3 reports)"
    # A coordinator's title stays, whatever arrives later.
    r = patch(scene, item_id, "coordinator", {"title": "  Underpass lamps, Vest  "})
    assert r.status_code == 200, r.text
    assert r.json()["title"] == "Underpass lamps, Vest"
    scene.observe("lighting", at(-170, 0))
    assert scene.item(item_id)["title"] == "Underpass lamps, Vest"
    assert scene.item(item_id)["observation_count"] == 4
    assert patch(scene, item_id, "engineer", {"title": "mine"}).status_code == 403
    blank = patch(scene, item_id, "coordinator", {"title": "   "})
    assert (blank.status_code, blank.json()["errors"][0]["loc"]) == (422, ["body", "title"])


def _csv(scene: Scene, **headers: str) -> list[dict[str, str]]:
    r = scene.client.get(
        f"/api/v1/areas/{scene.west.id}/action-list?format=csv", headers={**scene.h, **headers}
    )
    assert r.status_code == 200, r.text
    # English spreadsheets use commas (and decimal points), Norwegian ones semicolons.
    delimiter = "," if headers.get("Accept-Language") == "en" else ";"
    return list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig")), delimiter=delimiter))


def test_csv_speaks_the_language_and_links_photos_for_days(scene: Scene) -> None:
    a = scene.observe("lighting", at(-200, 0))
    put_photo(scene.client, scene.world, a["id"], plain_jpeg(), who="coordinator")
    patch(scene, a["action_item_id"], "coordinator", {"status": "in_progress"})
    rows = _csv(scene)
    assert list(rows[0])[:6] == ["id", "prioritet", "tittel", "kategori", "kategorikode", "status"]
    row = rows[0]
    assert (row["status"], row["avdeling"], row["kategori"]) == (
        "Under arbeid", "Belysning", "Dårlig belysning",
    )  # fmt: skip
    assert row["forfalt"] == "nei"
    links = row["bilder"].split()
    assert len(links) == 1
    assert links[0].startswith("http://testserver/api/v1/photos/")
    expires = int(re.search(r"expires=(\d+)", links[0]).group(1))  # type: ignore[union-attr]
    assert expires - utcnow().timestamp() > 6 * 86400
    assert scene.client.get(links[0].removeprefix("http://testserver")).status_code == 200
    english = _csv(scene, **{"Accept-Language": "en"})[0]
    assert (english["status"], english["department"], english["overdue"]) == (
        "In progress", "Lighting", "no",
    )  # fmt: skip


def test_unknown_query_parameters_are_422_on_every_route(
    app: FastAPI, client: SyncClient, world: Any
) -> None:
    """Never silently ignore a filter: a typo is a 422 naming the parameter, on every route."""
    failures = []
    for path, ops in app.openapi()["paths"].items():
        if "get" not in ops or path in ("/healthz", "/readyz"):
            continue
        if not path.startswith("/api/v1/"):
            # The JSON API's rule. Open311 answers its own error lists (test_server.py), the OGC
            # API and tiles follow their own standards' parameters, /metrics is for Prometheus.
            continue
        url = _fill(path, world)
        r = client.get(url, params={"action_item": "x"}, headers=world.headers("admin"))
        body = r.json() if r.headers["content-type"].startswith("application/") else {}
        if r.status_code != 422 or body.get("errors", [{}])[0].get("loc") != [
            "query",
            "action_item",
        ]:
            failures.append(f"GET {path}: {r.status_code}")
    assert failures == []
    r = client.get("/api/v1/action-items?stauts=new", headers=world.headers("admin"))
    assert "stauts" in r.json()["detail"]
    assert "status" in r.json()["detail"]
    # Known parameters still work; repeated ones too.
    ok = client.get(
        "/api/v1/action-items?status=new&status=triaged", headers=world.headers("admin")
    )
    assert ok.status_code == 200
