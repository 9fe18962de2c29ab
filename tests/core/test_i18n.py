"""Accept-Language picks, errors speak the reader's language (validation messages too, by
their type), numbers and dates follow CLDR. The catalogues themselves: test_catalogues.py."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from api.core.i18n import (
    Language,
    csv_delimiter,
    date_time,
    decimal,
    month,
    pick_language,
    plural,
    translate,
)
from api.core.i18n import date as format_date
from tests.factories.client import SyncClient
from tests.factories.world import World


@pytest.mark.parametrize(
    ("header", "default", "expected"),
    [
        pytest.param(None, "nb", Language.nb, id="no-header-org-default"),
        pytest.param(None, None, Language.en, id="no-header-no-org"),
        pytest.param("en-GB,en;q=0.9", "nb", Language.en, id="english-browser"),
        pytest.param("nb-NO", "en", Language.nb, id="bokmal"),
        pytest.param("no", "en", Language.nb, id="plain-norwegian"),
        pytest.param("nn-NO,nb;q=0.8", "en", Language.nn, id="nynorsk"),
        pytest.param("sv-FI", "nb", Language.sv, id="swedish-in-finland"),
        pytest.param("fi", "nb", Language.fi, id="finnish"),
        pytest.param("da-DK,en;q=0.5", "nb", Language.da, id="danish"),
        pytest.param(None, "sv", Language.sv, id="org-default-swedish"),
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
    assert nb_body["detail"] == "rollen «Saksbehandler» har ikke lov til dette"
    en_body = client.get(
        url, headers={**world.headers("engineer"), "Accept-Language": "en-GB,en;q=0.8"}
    ).json()
    assert (en_body["title"], en_body["detail"]) == (
        "Forbidden",
        "the “Engineer” role may not do this",
    )
    # Before the caller is known there is no organization: English unless asked otherwise.
    anon = client.get(url).json()
    assert anon["title"] == "Unauthorized"
    assert client.get(url, headers={"Accept-Language": "nb"}).json()["title"] == "Ikke innlogget"
    missing = client.get("/api/v1/nothing-here", headers={"Accept-Language": "nb"}).json()
    assert (missing["status"], missing["title"]) == (404, "Fant ikke")


FORBIDDEN = {
    "nb": ("Ingen tilgang", "rollen «Saksbehandler» har ikke lov til dette"),
    "nn": ("Ingen tilgang", "rolla «Sakshandsamar» har ikkje lov til dette"),
    "sv": ("Åtkomst nekad", "rollen ”Handläggare” får inte göra detta"),
    "da": ("Ingen adgang", "rollen »Sagsbehandler« må ikke gøre dette"),
    "fi": ("Ei käyttöoikeutta", "rooli ”Käsittelijä” ei saa tehdä tätä"),
    "en": ("Forbidden", "the “Engineer” role may not do this"),
}


@pytest.mark.parametrize("lang", list(FORBIDDEN))
def test_a_problem_detail_in_each_language(client: SyncClient, world: World, lang: str) -> None:
    headers = {**world.headers("engineer"), "Accept-Language": f"{lang};q=0.9,en;q=0.1"}
    body = client.get("/api/v1/users", headers=headers).json()
    assert (body["status"], body["title"], body["detail"]) == (403, *FORBIDDEN[lang])


@pytest.mark.parametrize("lang", list(FORBIDDEN))
def test_validation_messages_by_type_in_each_language(
    client: SyncClient, world: World, lang: str
) -> None:
    """Pydantic's messages become the catalogue's, by error type, with the limits filled in
    as the reader writes numbers; the detail names the field."""
    headers = {**world.headers("admin"), "Accept-Language": lang}
    body = {"code": "x", "labels": {"en": "X"}, "group_distance_m": 12.5, "colour": "red"}
    problem = client.post("/api/v1/categories", json=body, headers=headers).json()
    assert problem["status"] == 422
    assert problem["title"] == translate("problem.validation-error", lang)
    by_field = {e["loc"][-1]: e for e in problem["errors"]}
    assert by_field["colour"]["msg"] == translate("validation.extra_forbidden", lang)
    assert by_field["code"]["msg"] == translate("validation.string_pattern_mismatch", lang)
    assert by_field["group_distance_m"]["msg"] == translate(
        "validation.greater_than_equal", lang, ge="15"
    )
    assert by_field["group_distance_m"]["type"] == "greater_than_equal"
    first = problem["errors"][0]
    assert problem["detail"] == f"{'.'.join(map(str, first['loc']))}: {first['msg']}"
    missing = client.post("/api/v1/categories", json={}, headers=headers).json()
    assert {e["msg"] for e in missing["errors"]} == {translate("validation.missing", lang)}


def test_a_staff_members_own_language_is_their_default(client: SyncClient, world: World) -> None:
    """Without Accept-Language: the staff member's own language, else the organization's."""
    headers = world.headers("engineer")
    assert client.get("/api/v1/users", headers=headers).json()["title"] == "Ingen tilgang"
    me = client.patch("/api/v1/me", json={"language": "fi"}, headers=headers).json()
    assert (me["language"], me["own_language"]) == ("fi", "fi")
    assert client.get("/api/v1/users", headers=headers).json()["title"] == "Ei käyttöoikeutta"
    assert client.get("/api/v1/me", headers=headers).json()["language"] == "fi"
    me = client.patch("/api/v1/me", json={"language": None}, headers=headers).json()
    assert (me["language"], me["own_language"]) == ("nb", None)
    bad = client.patch("/api/v1/me", json={"language": "de"}, headers=headers)
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["loc"] == ["body", "language"]


NUMBERS = {
    "nb": ("1\xa0234,5", "3. nov. 2026", "november 2026", ";"),
    "nn": ("1\xa0234,5", "3. nov. 2026", "november 2026", ";"),
    "sv": ("1\xa0234,5", "3 nov. 2026", "november 2026", ";"),
    "da": ("1.234,5", "3. nov. 2026", "november 2026", ";"),
    "fi": ("1\xa0234,5", "3.11.2026", "marraskuu 2026", ";"),
    "en": ("1,234.5", "3 Nov 2026", "November 2026", ","),
}


@pytest.mark.parametrize("lang", list(NUMBERS))
def test_number_and_date_formats_per_locale(lang: str) -> None:
    number, day, in_month, delimiter = NUMBERS[lang]
    assert decimal(1234.5, lang) == number
    assert format_date(date(2026, 11, 3), lang) == day
    assert month(date(2026, 11, 3), lang) == in_month
    assert csv_delimiter(lang) == delimiter
    evening = datetime(2026, 11, 3, 19, 42, tzinfo=ZoneInfo("Europe/Oslo"))
    assert "19" in date_time(evening, lang, style="short")


def test_mails_follow_the_staff_members_language(client: SyncClient, world: World) -> None:
    """Without a language chosen for the mails, their own language, else the organization's."""
    headers = world.headers("engineer")
    url = "/api/v1/me/notifications"
    assert client.get(url, headers=headers).json()["effective_language"] == "nb"
    client.patch("/api/v1/me", json={"language": "sv"}, headers=headers)
    assert client.get(url, headers=headers).json()["effective_language"] == "sv"
    res = client.put(url, json={"language": "da"}, headers=headers)
    assert res.status_code == 200, res.text
    assert client.get(url, headers=headers).json()["effective_language"] == "da"
