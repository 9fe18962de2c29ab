"""The message catalogues: both languages know every key, Accept-Language picks, errors speak."""

from __future__ import annotations

import re

import pytest

from api.core.i18n import Language, en, nb, pick_language, plural, translate
from tests.factories.client import SyncClient
from tests.factories.world import World


def test_catalogues_have_the_same_keys_and_placeholders() -> None:
    assert set(en.MESSAGES) == set(nb.MESSAGES)
    for key, text in en.MESSAGES.items():
        fields = set(re.findall(r"\{(\w+)", text))
        assert fields == set(re.findall(r"\{(\w+)", nb.MESSAGES[key])), key


@pytest.mark.parametrize(
    ("header", "default", "expected"),
    [
        pytest.param(None, "nb", Language.nb, id="no-header-org-default"),
        pytest.param(None, None, Language.en, id="no-header-no-org"),
        pytest.param("en-GB,en;q=0.9", "nb", Language.en, id="english-browser"),
        pytest.param("nb-NO", "en", Language.nb, id="bokmal"),
        pytest.param("no", "en", Language.nb, id="plain-norwegian"),
        pytest.param("nn-NO,nb;q=0.8", "en", Language.nb, id="nynorsk-reads-bokmal"),
        pytest.param("de-DE,fr;q=0.8", "nb", Language.nb, id="unsupported-falls-back"),
        pytest.param("en;q=0.3,nb;q=0.7", "en", Language.nb, id="q-values-win"),
        pytest.param("en;q=0,nb;q=0", "en", Language.en, id="all-refused"),
        pytest.param("en;q=abc", "nb", Language.nb, id="bad-q-is-zero"),
    ],
)
def test_pick_language(header: str | None, default: str | None, expected: Language) -> None:
    assert pick_language(header, default) == expected


def test_translate_fills_in_and_pluralises() -> None:
    assert translate("status.in_progress", "nb") == "Under arbeid"
    assert translate("status.in_progress", "en") == "In progress"
    assert translate("no.such.key", "nb") == "no.such.key"
    one = plural("item.title", "nb", 1, category="Dårlig belysning", area="Øst")
    assert one == "Dårlig belysning – Øst (1 melding)"
    assert plural("item.title", "en", 3, category="Poor lighting", area="Øst").endswith(
        "(3 reports)"
    )


def test_problem_titles_follow_the_org_language_and_accept_language(
    client: SyncClient, world: World
) -> None:
    url = "/api/v1/users"  # admin only: the engineer is refused
    nb_body = client.get(url, headers=world.headers("engineer")).json()
    assert (nb_body["status"], nb_body["title"]) == (403, "Ingen tilgang")
    assert nb_body["detail"] == "rollen engineer har ikke lov til dette"
    en_body = client.get(
        url, headers={**world.headers("engineer"), "Accept-Language": "en-GB,en;q=0.8"}
    ).json()
    assert (en_body["title"], en_body["detail"]) == ("Forbidden", "a engineer may not do this")
    # Before the caller is known there is no organization: English unless asked otherwise.
    anon = client.get(url).json()
    assert anon["title"] == "Unauthorized"
    assert client.get(url, headers={"Accept-Language": "nb"}).json()["title"] == "Ikke innlogget"
    missing = client.get("/api/v1/nothing-here", headers={"Accept-Language": "nb"}).json()
    assert (missing["status"], missing["title"]) == (404, "Fant ikke")
