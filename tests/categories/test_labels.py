"""One label per language on every category: the defaults come in all six, admins write
the rest, the list says which languages a category still lacks, and the older label_en /
label_nb fields keep working."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.categories.service import fill_default_labels
from models import Category
from tests.factories.client import SyncClient
from tests.factories.world import World

URL = "/api/v1/categories"
SIX = ["nb", "nn", "sv", "da", "fi", "en"]


def _category(client: SyncClient, world: World, code: str) -> dict[str, Any]:
    items = client.get(URL, headers=world.headers("admin")).json()["items"]
    found: dict[str, Any] = next(c for c in items if c["code"] == code)
    return found


def test_defaults_have_every_language(client: SyncClient, world: World) -> None:
    for c in client.get(URL, headers=world.headers("planner")).json()["items"]:
        assert sorted(c["labels"]) == sorted(SIX), c["code"]
        assert c["missing_labels"] == []
    lighting = _category(client, world, "lighting")
    assert lighting["labels"]["sv"] == "Dålig belysning"
    assert lighting["labels"]["fi"] == "Huono valaistus"
    assert (lighting["label_en"], lighting["label_nb"]) == ("Poor lighting", "Dårlig belysning")


def test_admin_writes_labels_and_sees_what_is_missing(client: SyncClient, world: World) -> None:
    admin = world.headers("admin")
    body = {"code": "bench_missing", "labels": {"en": "Missing bench", "sv": "Bänk saknas"}}
    created = client.post(URL, json=body, headers=admin)
    assert created.status_code == 201, created.text
    got = created.json()
    assert got["labels"] == {"sv": "Bänk saknas", "en": "Missing bench"}
    assert got["missing_labels"] == ["nb", "nn", "da", "fi"]
    assert got["label_en"] == "Missing bench"
    labels = {"en": "Missing bench", "nb": "Mangler benk", "nn": "Manglar benk",
              "sv": "Bänk saknas", "da": "Bænk mangler", "fi": "Penkki puuttuu"}  # fmt: skip
    patched = client.patch(f"{URL}/bench_missing", json={"labels": labels}, headers=admin)
    assert patched.status_code == 200, patched.text
    assert patched.json()["labels"] == {k: labels[k] for k in SIX}
    assert patched.json()["missing_labels"] == []
    assert patched.json()["label_nb"] == "Mangler benk"
    # A language left out of a PATCH loses its label; English cannot be left out.
    fewer = {k: v for k, v in labels.items() if k != "da"}
    assert client.patch(f"{URL}/bench_missing", json={"labels": fewer}, headers=admin).json()[
        "missing_labels"
    ] == ["da"]
    no_english = client.patch(
        f"{URL}/bench_missing", json={"labels": {"sv": "Bänk saknas"}}, headers=admin
    )
    assert no_english.status_code == 422
    assert no_english.json()["errors"][0]["loc"] == ["body", "labels", "en"]
    unknown = client.patch(
        f"{URL}/bench_missing", json={"labels": {"en": "x", "de": "Bank fehlt"}}, headers=admin
    )
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["loc"][:3] == ["body", "labels", "de"]


def test_the_older_fields_keep_working(client: SyncClient, world: World) -> None:
    admin = world.headers("admin")
    body = {"code": "dog_waste", "label_en": "Dog waste", "label_nb": "Hundebæsj"}
    created = client.post(URL, json=body, headers=admin).json()
    assert created["labels"] == {"nb": "Hundebæsj", "en": "Dog waste"}
    res = client.patch(f"{URL}/dog_waste", json={"label_nb": "Hundeskitt"}, headers=admin)
    assert res.json()["labels"]["nb"] == "Hundeskitt"
    nothing = client.post(URL, json={"code": "no_label"}, headers=admin)
    assert nothing.status_code == 422
    assert nothing.json()["errors"][0]["loc"] == ["body", "label_en"]


def test_the_reader_sees_their_language_and_english_where_missing(
    client: SyncClient, world: World, session: Session
) -> None:
    admin = world.headers("admin")
    body = {"code": "bench_missing", "labels": {"en": "Missing bench", "sv": "Bänk saknas"}}
    assert client.post(URL, json=body, headers=admin).status_code == 201
    cat = session.scalar(select(Category).where(Category.code == "bench_missing"))
    assert cat is not None
    assert (cat.label("sv"), cat.label("fi"), cat.label("nb")) == (
        "Bänk saknas",
        "Missing bench",
        "Missing bench",
    )


def test_backfill_fills_the_defaults_an_admin_has_not_changed(
    world: World, session: Session
) -> None:
    cats = {
        c.code: c
        for c in session.scalars(select(Category).where(Category.organization_id == world.org.id))
    }
    cats["lighting"].other_labels = None
    cats["litter"].other_labels = None
    cats["litter"].label_en = "Rubbish"  # the admin's own wording: left alone
    session.flush()
    assert fill_default_labels(session) >= 1
    assert cats["lighting"].labels["nn"] == "Dårleg belysning"
    assert cats["litter"].other_labels is None
    assert fill_default_labels(session) == 0  # idempotent
