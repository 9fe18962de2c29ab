"""The public pages by URL in every language (/public/{slug}/{lang}/…), each linking to the
others in their own names; the older ?lang= and Accept-Language forms keep working."""

from __future__ import annotations

import re
from typing import Any

import pytest

from api.core.i18n import ENDONYMS, LANGUAGES, translate
from tests.factories.client import SyncClient
from tests.factories.observations import observe
from tests.factories.world import World


@pytest.fixture
def public(client: SyncClient, world: World) -> dict[str, Any]:
    observe(client, world, note="Mørk sti")
    res = client.patch(
        "/api/v1/organization", json={"public_followup": True}, headers=world.headers("admin")
    )
    assert res.status_code == 200, res.text
    return {"slug": world.org.slug, "area": world.objects["area"].id}


@pytest.mark.parametrize("lang", [lang.value for lang in LANGUAGES])
def test_index_and_area_pages_by_language_url(
    client: SyncClient, public: dict[str, Any], lang: str
) -> None:
    base = f"/public/{public['slug']}/{lang}/"
    page = client.get(base)
    assert page.status_code == 200, page.text
    assert f'<html lang="{lang}">' in page.text
    assert translate("public.title", lang, org="") in page.text
    # Every other language is a link in its own name; this one is marked current.
    for other in LANGUAGES:
        if other.value == lang:
            assert f'<span aria-current="page" lang="{lang}">{ENDONYMS[other]}</span>' in page.text
        else:
            link = f'<a href="/public/{public["slug"]}/{other.value}/" hreflang="{other.value}"'
            assert link in page.text
    areas = re.findall(r'href="(/public/[^"]+/areas/[^"]+)"', page.text)
    assert areas == [f"{base}areas/{public['area']}"]
    area = client.get(areas[0])
    assert area.status_code == 200, area.text
    assert f'<html lang="{lang}">' in area.text
    assert translate("status.new", lang) in area.text
    assert translate("public.back", lang) in area.text


def test_the_older_forms_still_answer(client: SyncClient, public: dict[str, Any]) -> None:
    slug = public["slug"]
    assert '<html lang="sv">' in client.get(f"/public/{slug}/", params={"lang": "sv"}).text
    fi = client.get(f"/public/{slug}/", headers={"Accept-Language": "fi-FI"})
    assert '<html lang="fi">' in fi.text
    area = client.get(f"/public/{slug}/areas/{public['area']}", params={"lang": "da"})
    assert '<html lang="da">' in area.text
    feed = client.get(f"/public/{slug}/action-items.geojson", params={"lang": "nn"}).json()
    assert feed["features"][0]["properties"]["category_label"] == "Dårleg belysning"


def test_a_segment_that_is_no_language_is_not_a_page(
    client: SyncClient, public: dict[str, Any]
) -> None:
    assert client.get(f"/public/{public['slug']}/de/").status_code == 404
    assert client.get(f"/public/{public['slug']}/xx/areas/{public['area']}").status_code == 404


def test_the_report_back_by_language_url(
    client: SyncClient, world: World, public: dict[str, Any]
) -> None:
    res = client.post(
        f"/api/v1/walks/{world.walk.id}/report-back", headers=world.headers("coordinator")
    )
    assert res.status_code == 200, res.text
    base = f"/public/{public['slug']}"
    page = client.get(f"{base}/sv/walks/{world.walk.id}")
    assert page.status_code == 200, page.text
    assert '<html lang="sv">' in page.text
    assert "Återkoppling:" in page.text
    assert f'href="{base}/fi/walks/{world.walk.id}" hreflang="fi"' in page.text
    assert f'href="{base}/sv/walks/{world.walk.id}?format=pdf"' in page.text
    pdf = client.get(f"{base}/fi/walks/{world.walk.id}", params={"format": "pdf"})
    assert pdf.headers["content-type"] == "application/pdf"
    data = client.get(f"{base}/da/walks/{world.walk.id}", params={"format": "json"}).json()
    assert data["items"][0]["category_label"] == "Dårlig belysning"  # Danish
