"""The gettext catalogues under locale/: every key in every language, placeholders that
match, plural forms that CLDR and gettext agree on, the glossary followed, every key the code
names present, and the web apps' JSON compiled from the same PO files."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path
from types import ModuleType

import pytest
from babel import Locale

from api.core.i18n.catalogues import (
    DOMAINS,
    SOURCE_LOCALE_DIR,
    WEB_DOMAINS,
    read_catalog,
    translations,
    web_messages,
)
from models.organizations import LANGUAGES, Language

ROOT = Path(__file__).resolve().parents[2]
PLACEHOLDER = re.compile(r"\{(\w+)")
OTHERS = [lang for lang in LANGUAGES if lang is not Language.en]


def _entries(lang: Language | str, domain: str) -> dict[str, tuple[str, ...]]:
    """Key -> its forms (one for a plain message, one per plural form)."""
    out = {}
    for message in read_catalog(lang, domain, SOURCE_LOCALE_DIR):
        if not message.id:
            continue
        key = message.id[0] if message.pluralizable else message.id
        forms = message.string if message.pluralizable else (message.string,)
        out[str(key)] = tuple(str(f) for f in forms)
    return out


@pytest.mark.parametrize("domain", DOMAINS)
@pytest.mark.parametrize("lang", LANGUAGES, ids=str)
def test_every_key_in_every_language(domain: str, lang: Language) -> None:
    english = _entries(Language.en, domain)
    entries = _entries(lang, domain)
    assert len(english) > 100
    assert sorted(set(english) - set(entries)) == [], "keys missing from the catalogue"
    assert sorted(set(entries) - set(english)) == [], "keys English does not have"
    untranslated = [k for k, forms in entries.items() if not all(f.strip() for f in forms)]
    assert untranslated == []
    fuzzy = [m.id for m in read_catalog(lang, domain, SOURCE_LOCALE_DIR) if m.id and m.fuzzy]
    assert fuzzy == []
    plural = {k for k, forms in english.items() if len(forms) > 1}
    assert {k for k, forms in entries.items() if len(forms) > 1} == plural


@pytest.mark.parametrize("domain", DOMAINS)
@pytest.mark.parametrize("lang", OTHERS, ids=str)
def test_placeholders_match_english(domain: str, lang: Language) -> None:
    english = _entries(Language.en, domain)
    wrong = {}
    for key, forms in _entries(lang, domain).items():
        # A plural form may write the number out ("One item."), so the forms together must
        # use the same placeholders as English's forms together.
        theirs = {p for f in forms for p in PLACEHOLDER.findall(f)}
        ours = {p for f in english[key] for p in PLACEHOLDER.findall(f)}
        if theirs != ours:
            wrong[key] = (sorted(ours), sorted(theirs))
        for form in forms:
            # str.format on the server, the same {name} syntax in the browser: no stray braces.
            assert form.count("{") == form.count("}"), (key, form)
    assert wrong == {}


def test_a_placeholder_mismatch_is_caught(tmp_path: Path) -> None:
    """The check above is not vacuous: a Swedish message that drops {count} fails it."""
    sv = (SOURCE_LOCALE_DIR / "sv" / "LC_MESSAGES" / "server.po").read_text(encoding="utf-8")
    broken = sv.replace('msgstr "Sida {page}"', 'msgstr "Sida"')
    assert broken != sv
    target = tmp_path / "sv" / "LC_MESSAGES"
    target.mkdir(parents=True)
    (target / "server.po").write_text(broken, encoding="utf-8")
    forms = {
        str(m.id): m.string for m in read_catalog("sv", "server", tmp_path) if m.id == "report.page"
    }
    assert PLACEHOLDER.findall(forms["report.page"]) == []


N = (0, 1, 2, 5)


@pytest.mark.parametrize("domain", DOMAINS)
@pytest.mark.parametrize("lang", LANGUAGES, ids=str)
def test_plural_forms_for_0_1_2_5(domain: str, lang: Language) -> None:
    """Babel on the server (gettext's Plural-Forms) and Intl.PluralRules in the browser (the
    compiled JSON, by CLDR category) pick the same form, and the number is in it."""
    locale = Locale.parse(lang.value)
    server = translations(lang, domain)
    web = web_messages(lang, domain, SOURCE_LOCALE_DIR)
    plurals = [k for k, forms in _entries(lang, domain).items() if len(forms) > 1]
    assert plurals
    for key in plurals:
        said = {}
        for n in N:
            category = str(locale.plural_form(n))
            text = server.ngettext(key, key, n)
            assert text == web[key][category], (key, n)
            said[n] = text
            filled = text.replace("{n}", str(n)).replace("{count}", str(n))
            assert str(n) in filled or n == 1, (key, n, text)
        # Every language here has "one" for 1 only: 0, 2 and 5 share the other form.
        assert said[0] == said[2] == said[5], key


@pytest.mark.parametrize(
    ("lang", "forms"),
    [
        pytest.param("nb", {0: "0 bilder", 1: "1 bilde", 2: "2 bilder", 5: "5 bilder"}, id="nb"),
        pytest.param("sv", {0: "0 bilder", 1: "1 bild", 2: "2 bilder", 5: "5 bilder"}, id="sv"),
        pytest.param("da", {1: "1 billede", 5: "5 billeder"}, id="da"),
        pytest.param("fi", {0: "0 kuvaa", 1: "1 kuva", 2: "2 kuvaa"}, id="fi"),
        pytest.param("en", {1: "1 photo", 2: "2 photos"}, id="en"),
    ],
)
def test_web_plurals(lang: str, forms: dict[int, str]) -> None:
    """The field app's photo count by CLDR category: never "1 bilder"."""
    message = web_messages(lang, "field", SOURCE_LOCALE_DIR)["photos_n"]
    locale = Locale.parse(lang)
    for n, expected in forms.items():
        assert message[str(locale.plural_form(n))].replace("{n}", str(n)) == expected


@pytest.mark.parametrize(
    ("lang", "n", "expected"),
    [
        pytest.param("nb", 1, "Lys – Øst (1 melding)", id="nb-1"),
        pytest.param("nb", 2, "Lys – Øst (2 meldinger)", id="nb-2"),
        pytest.param("nn", 5, "Lys – Øst (5 meldingar)", id="nn-5"),
        pytest.param("sv", 0, "Lys – Øst (0 rapporter)", id="sv-0"),
        pytest.param("da", 1, "Lys – Øst (1 indmelding)", id="da-1"),
        pytest.param("fi", 5, "Lys – Øst (5 ilmoitusta)", id="fi-5"),
        pytest.param("fi", 1, "Lys – Øst (1 ilmoitus)", id="fi-1"),
        pytest.param("en", 0, "Lys – Øst (0 reports)", id="en-0"),
    ],
)
def test_server_plurals(lang: str, n: int, expected: str) -> None:
    from api.core.i18n import plural

    assert plural("item.title", lang, n, category="Lys", area="Øst") == expected


def _glossary(section: str) -> dict[str, dict[str, str]]:
    text = (SOURCE_LOCALE_DIR / "GLOSSARY.md").read_text(encoding="utf-8")
    block = text.split(f"## {section}", 1)[1].split("\n## ", 1)[0]
    rows = [r for r in block.splitlines() if r.startswith("| `")]
    header = ["code", "en", "nb", "nn", "sv", "da", "fi"]
    out: dict[str, dict[str, str]] = {}
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split("|")]
        values = dict(zip(header, cells, strict=True))
        out[values.pop("code").strip("`")] = values
    return out


@pytest.mark.parametrize("lang", LANGUAGES, ids=str)
def test_statuses_and_roles_follow_the_glossary(lang: Language) -> None:
    statuses = _glossary("Item statuses")
    assert len(statuses) == 10
    server, field, staff = (_entries(lang, d) for d in DOMAINS)
    for code, names in statuses.items():
        assert server[f"status.{code}"] == (names[lang.value],), code
        assert staff[f"status.{code}"] == (names[lang.value],), code
        assert field[f"item_status_{code}"] == (names[lang.value],), code
    for code, names in _glossary("Staff roles").items():
        assert staff[f"role.{code}"] == (names[lang.value],), code
        assert server[f"role.{code}"] == (names[lang.value],), code


def _messages_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("messages", ROOT / "scripts" / "messages.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("domain", DOMAINS)
def test_every_key_the_code_names_is_in_the_catalogue(domain: str) -> None:
    """What `make messages` extracts (Babel's Python and JavaScript extractors, the markup's
    data-i18n attributes) is all in the English catalogue, plural where the code says so."""
    found = _messages_script().found_in_code(domain)
    assert len(found) > 30
    english = _entries(Language.en, domain)
    assert sorted(k for k in found if k not in english) == []
    assert sorted(k for k, p in found.items() if p and len(english[k]) < 2) == []


@pytest.mark.parametrize("domain", WEB_DOMAINS)
def test_web_json_is_compiled_from_the_po_files(domain: str) -> None:
    for lang in LANGUAGES:
        path = ROOT / "web" / domain / "i18n" / f"{lang.value}.json"
        assert path.is_file(), f"{path} is missing: run `make web`"
        on_disk = json.loads(path.read_text(encoding="utf-8"))
        assert on_disk == web_messages(lang, domain, SOURCE_LOCALE_DIR), (
            f"{path} is older than locale/: run `make web`"
        )
