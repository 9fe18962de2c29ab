"""The gettext catalogues (``locale/<lang>/LC_MESSAGES/<domain>.po``) as the server and the
web apps read them.

Three domains: ``server`` (API errors, exports, mail, public pages), ``field`` and ``staff``
(the two web apps). Message ids are stable keys (``status.new``), and English is a catalogue
like the others, so a translator's tool (Weblate, Transifex, Poedit) works on the PO files and
nothing else. The server reads the PO files directly (compiled in memory, once per process);
the web apps read JSON compiled from them by ``python -m api.core.i18n`` (the
install step), where a plural message is an object keyed by CLDR category (``one``, ``other``)
for ``Intl.PluralRules``.
"""

from __future__ import annotations

import argparse
import io
import json
from functools import cache
from pathlib import Path
from typing import Any

from babel import Locale
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.plurals import get_plural
from babel.messages.pofile import read_po
from babel.support import Translations

from models.organizations import LANGUAGES, Language

SOURCE_LOCALE_DIR = Path(__file__).resolve().parents[3] / "locale"
WEB_DOMAINS = ("field", "staff")
DOMAINS = ("server", *WEB_DOMAINS)


@cache
def locale_dir() -> Path:
    from api.settings import get_settings  # read once; the catalogues do not change at run time

    return get_settings().locale_dir or SOURCE_LOCALE_DIR


def po_path(lang: Language | str, domain: str, root: Path | None = None) -> Path:
    return (root or locale_dir()) / str(lang) / "LC_MESSAGES" / f"{domain}.po"


def read_catalog(lang: Language | str, domain: str, root: Path | None = None) -> Catalog:
    with po_path(lang, domain, root).open("rb") as fp:
        return read_po(fp, locale=str(lang), domain=domain)


@cache
def translations(lang: Language, domain: str) -> Translations:
    buffer = io.BytesIO()
    write_mo(buffer, read_catalog(lang, domain))
    buffer.seek(0)
    return Translations(buffer, domain=domain)


@cache
def locale_for(lang: Language) -> Locale:
    """The CLDR locale for numbers and dates: English readers here expect day-month dates and
    the 24-hour clock (en_GB), as the web apps show them."""
    return Locale.parse("en_GB" if lang is Language.en else lang.value)


def cldr_categories(lang: Language | str) -> dict[str, int]:
    """Which gettext plural form (by index) each CLDR category of the language uses; found by
    running both rules over enough whole numbers to meet every category."""
    locale = Locale.parse(str(lang))
    expression = get_plural(str(lang)).plural_expr
    # A gettext plural expression is C; these operators are all it uses for our languages.
    python = expression.replace("&&", " and ").replace("||", " or ").replace("!", " not ")
    python = python.replace(" not =", " !=")
    forms: dict[str, int] = {}
    for n in range(0, 1001):
        index = int(eval(python, {}, {"n": n}))  # noqa: S307 - the expression is Babel's own
        forms.setdefault(str(locale.plural_form(n)), index)
    return forms


def web_messages(lang: Language | str, domain: str, root: Path | None = None) -> dict[str, Any]:
    """A web app's messages: text by key; a plural message maps CLDR categories to text."""
    categories = cldr_categories(lang)
    out: dict[str, Any] = {}
    for message in read_catalog(lang, domain, root):
        if not message.id:
            continue
        if message.pluralizable:
            key = message.id[0]
            forms = [str(form) for form in message.string or ()]
            out[key] = {cat: forms[i] for cat, i in categories.items() if i < len(forms)}
        else:
            out[str(message.id)] = message.string
    return out


def compile_web(web_dir: Path, root: Path | None = None) -> list[Path]:
    """Write ``<web>/<app>/i18n/<lang>.json`` for every app and language."""
    written = []
    for domain in WEB_DOMAINS:
        target = web_dir / domain / "i18n"
        target.mkdir(parents=True, exist_ok=True)
        for lang in LANGUAGES:
            path = target / f"{lang.value}.json"
            text = json.dumps(web_messages(lang, domain, root), ensure_ascii=False, indent=0)
            if not path.is_file() or path.read_text(encoding="utf-8") != text:
                path.write_text(text, encoding="utf-8")
            written.append(path)
    return written


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Compile the web apps' JSON catalogues.")
    parser.add_argument("--locale", type=Path, default=SOURCE_LOCALE_DIR)
    parser.add_argument("--web", type=Path, default=SOURCE_LOCALE_DIR.parent / "web")
    args = parser.parse_args(argv)
    compile_web(args.web, args.locale)
