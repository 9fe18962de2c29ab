"""People-facing text in six languages, read from the gettext catalogues under ``locale/``.

``translate(key, lang, **params)`` looks a message up in the ``server`` domain (a key missing
from a language falls back to English, then to the key itself, so that it shows as text; the
catalogue tests make sure that never ships) and fills in ``{params}``. ``plural`` picks the
form by the catalogue's own plural rule. ``pick_language`` chooses from an ``Accept-Language``
header with a default. Numbers and dates are formatted by CLDR (``number``, ``decimal``,
``date``). Nothing here knows about FastAPI.
"""

from __future__ import annotations

from datetime import date as Date
from datetime import datetime
from typing import Any

from babel.dates import format_date, format_datetime, get_date_format
from babel.numbers import format_decimal, get_decimal_symbol

from api.core.i18n.catalogues import locale_for, translations
from models.organizations import LANGUAGES, Language

DOMAIN = "server"

# Each language in its own name: the same in every catalogue, so a reader finds their own.
ENDONYMS: dict[Language, str] = {
    Language.nb: "Norsk bokmål",
    Language.nn: "Norsk nynorsk",
    Language.sv: "Svenska",
    Language.da: "Dansk",
    Language.fi: "Suomi",
    Language.en: "English",
}

# "no" is Norwegian without saying which written standard: Bokmål, as most readers write it.
_ALIASES: dict[str, Language] = {lang.value: lang for lang in LANGUAGES} | {"no": Language.nb}


def as_language(value: Language | str | None) -> Language:
    """A supported language from a tag such as ``sv-FI``; English for anything else."""
    primary = str(value or "").strip().lower().replace("_", "-").split("-")[0]
    return _ALIASES.get(primary, Language.en)


def translate(key: str, lang: Language | str, /, **params: Any) -> str:
    language = as_language(lang)
    text = translations(language, DOMAIN).gettext(key)
    if text == key and language is not Language.en:
        text = translations(Language.en, DOMAIN).gettext(key)
    return text.format(**params) if params else text


def plural(key: str, lang: Language | str, count: int, /, **params: Any) -> str:
    """The form of ``key`` for ``count`` (one, other, … as the language has them)."""
    language = as_language(lang)
    text = translations(language, DOMAIN).ngettext(key, key, count)
    if text == key and language is not Language.en:
        text = translations(Language.en, DOMAIN).ngettext(key, key, count)
    return text.format(count=count, **params)


def has(key: str) -> bool:
    return translations(Language.en, DOMAIN).gettext(key) != key


def pick_language(accept_language: str | None, default: Language | str | None) -> Language:
    """The best supported language of an Accept-Language header (RFC 9110 q-values), else the
    default, else English."""
    best: tuple[float, int, Language] | None = None
    for index, part in enumerate((accept_language or "").split(",")):
        tag, _, rest = part.strip().partition(";")
        primary = tag.strip().lower().split("-")[0]
        if primary not in _ALIASES:
            continue
        q = 1.0
        for param in rest.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if q <= 0:
            continue
        candidate = (-q, index, _ALIASES[primary])
        if best is None or candidate < best:
            best = candidate
    if best is not None:
        return best[2]
    if default is not None and str(default).split("-")[0] in _ALIASES:
        return as_language(default)
    return Language.en


def decimal(value: float, lang: Language | str, *, digits: int = 1) -> str:
    """A number as the reader writes it (``1,5`` in Nordic languages, ``1.5`` in English)."""
    return format_decimal(
        value,
        format=f"#,##0.{'#' * digits}" if digits else "#,##0",
        locale=locale_for(as_language(lang)),
    )


def decimal_symbol(lang: Language | str) -> str:
    return str(get_decimal_symbol(locale_for(as_language(lang))))


def csv_delimiter(lang: Language | str) -> str:
    """``;`` where the decimal mark is a comma, as spreadsheets there expect; else ``,``."""
    return ";" if decimal_symbol(lang) == "," else ","


def date(value: Date, lang: Language | str, *, style: str = "medium") -> str:
    return str(format_date(value, format=style, locale=locale_for(as_language(lang))))


def date_time(value: datetime, lang: Language | str, *, style: str = "medium") -> str:
    return str(format_datetime(value, format=style, locale=locale_for(as_language(lang))))


def short_date_pattern(lang: Language | str) -> str:
    """The CLDR pattern of the short date, e.g. ``dd.MM.y``, ``y-MM-dd``."""
    return str(get_date_format("short", locale=locale_for(as_language(lang))).pattern)


def month(value: Date, lang: Language | str) -> str:
    """The month and year, e.g. ``november 2026`` or ``marraskuu 2026``."""
    return str(format_date(value, format="LLLL y", locale=locale_for(as_language(lang))))


__all__ = [
    "DOMAIN",
    "ENDONYMS",
    "LANGUAGES",
    "Language",
    "as_language",
    "csv_delimiter",
    "date",
    "date_time",
    "decimal",
    "decimal_symbol",
    "has",
    "month",
    "pick_language",
    "plural",
    "short_date_pattern",
    "translate",
]
