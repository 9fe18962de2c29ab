"""People-facing text in Norwegian Bokmål and English: one catalogue per language.

``translate(key, lang, **params)`` looks a message up (falling back to English, then to the key
itself, so a missing translation shows as text rather than an error) and fills in ``{params}``.
``pick_language`` chooses from an ``Accept-Language`` header with the organization's language as
the default. Nothing here knows about FastAPI.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from api.core.i18n import en, nb
from models.organizations import Language

CATALOGUES: Mapping[Language, Mapping[str, str]] = {
    Language.en: en.MESSAGES,
    Language.nb: nb.MESSAGES,
}

# Norwegian in any of its tags reads Bokmål (there is no Nynorsk catalogue yet).
_ALIASES = {"nb": Language.nb, "no": Language.nb, "nn": Language.nb, "en": Language.en}


def translate(key: str, lang: Language | str, /, **params: Any) -> str:
    language = Language(lang) if lang in _ALIASES.values() else Language.en
    text = CATALOGUES[language].get(key) or CATALOGUES[Language.en].get(key) or key
    return text.format(**params) if params else text


def has(key: str) -> bool:
    return key in CATALOGUES[Language.en]


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
    if default is not None and str(default) in _ALIASES:
        return _ALIASES[str(default)]
    return Language.en


def plural(key: str, lang: Language | str, count: int, /, **params: Any) -> str:
    """``key.one`` for one, ``key.other`` otherwise (both languages pluralise the same way)."""
    return translate(f"{key}.{'one' if count == 1 else 'other'}", lang, count=count, **params)


__all__ = ["Language", "has", "pick_language", "plural", "translate"]
