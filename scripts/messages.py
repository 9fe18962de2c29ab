"""`make messages`: find every translatable string in the code and add the new ones to every
catalogue under locale/.

Python (api/, models/, geo/) is read with Babel's extractor for ``translate(key, …)``,
``plural(key, …)`` (a plural message) and ``key="…"`` on a domain error, and for every
``"error.…"`` literal (the message of a domain error, however it is passed on); the web apps' modules
with Babel's JavaScript extractor for ``t(key, …)`` and ``tn(key, n, …)`` (plural); their
HTML for ``data-i18n*`` attributes. Keys are message ids; English is the source catalogue
(Weblate: monolingual gettext with ``locale/en/LC_MESSAGES/<domain>.po`` as the template).

A key built at run time (``"status." + status``) is invisible to any extractor, so nothing is
ever dropped here: a key found in the code and missing from a catalogue is added, empty (the
catalogue tests then fail until it is translated); a key in the English catalogue that the
code never names literally is listed, for a person to check.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import write_po

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from api.core.i18n.catalogues import DOMAINS, read_catalog  # noqa: E402
from models.organizations import LANGUAGES  # noqa: E402

PY_KEYWORDS = {"translate": None, "plural": (1, 1), "N_": None}
JS_KEYWORDS = {"t": None, "tn": (1, 1), "N_": None}
DOMAIN_KEY = re.compile(r"""\bkey=["']([a-z_][\w.-]+)["']""")
ERROR_KEY = re.compile(r"""["'](error\.[a-z0-9_]+)["']""")
DATA_I18N = re.compile(r"""data-i18n(?:-[a-z-]+)?=["']([^"']+)["']""")

# A key as written; a template literal (`status.${s}`) or a prefix ("status." + s) is a key
# built at run time, which no extractor can name.
KEY = re.compile(r"^[A-Za-z][\w.-]*\w$")

Found = dict[str, bool]  # key -> plural


def _add(found: Found, message: str | tuple[str, ...]) -> None:
    key = message[0] if isinstance(message, tuple) else message
    if not key or not KEY.match(key):
        return
    plural = isinstance(message, tuple) and len(message) > 1
    found[key] = found.get(key, False) or plural


def _extract(dirname: Path, method: str, keywords: dict[str, object]) -> Iterator[str | tuple]:
    pattern = "**.py" if method == "python" else "**.js"
    for _, _, message, _, _ in extract_from_dir(
        str(dirname),
        method_map=[("**/node_modules/**", "ignore"), (pattern, method)],
        keywords=keywords,  # type: ignore[arg-type]
        comment_tags=(),
        strip_comment_tags=True,
    ):
        yield message


def found_in_code(domain: str) -> Found:
    found: Found = {}
    if domain == "server":
        for folder in ("api", "models", "geo"):
            for message in _extract(ROOT / folder, "python", PY_KEYWORDS):
                _add(found, message)
            for path in sorted((ROOT / folder).rglob("*.py")):
                text = path.read_text(encoding="utf-8")
                for key in (*DOMAIN_KEY.findall(text), *ERROR_KEY.findall(text)):
                    _add(found, key)
        return found
    for message in _extract(ROOT / "web" / domain, "javascript", JS_KEYWORDS):
        _add(found, message)
    for path in sorted((ROOT / "web" / domain).glob("*.html")):
        for key in DATA_I18N.findall(path.read_text(encoding="utf-8")):
            _add(found, key)
    return found


def write(catalog: Catalog, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as fp:
        write_po(fp, catalog, width=0, omit_header=False, sort_output=False)


def update(domain: str, keys: Iterable[tuple[str, bool]]) -> list[str]:
    added: list[str] = []
    for lang in LANGUAGES:
        catalog = read_catalog(lang, domain, ROOT / "locale")
        for key, is_plural in keys:
            if key in catalog:
                continue
            catalog.add((key, key) if is_plural else key, ("", "") if is_plural else "")
            if lang.value == "en":
                added.append(key)
        write(catalog, ROOT / "locale" / lang.value / "LC_MESSAGES" / f"{domain}.po")
    return added


def main() -> None:
    for domain in DOMAINS:
        found = found_in_code(domain)
        english = read_catalog("en", domain, ROOT / "locale")
        added = update(domain, found.items())
        for key in added:
            sys.stdout.write(f"{domain}: new key {key} (translate it in every catalogue)\n")
        unnamed = [str(m.id if isinstance(m.id, str) else m.id[0]) for m in english if m.id]
        unnamed = [k for k in unnamed if k not in found]
        sys.stdout.write(
            f"{domain}: {len(found)} keys in the code, {len(added)} new, "
            f"{len(unnamed)} only built at run time or unused\n"
        )


if __name__ == "__main__":
    main()
