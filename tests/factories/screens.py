"""What a person sees on a screen, for the browser tests: the visible text, whether it is in
the page's language, whether an element is inside the viewport, and whether the page scrolls
sideways."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache
from typing import Any

from api.core.i18n.catalogues import SOURCE_LOCALE_DIR, web_messages

# Every text node a reader sees, and the names and alternatives a screen reader reads out.
VISIBLE_TEXT = """() => {
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    if (!el || el.closest('code, script, style, select, [hidden], [aria-hidden=true]')) continue;
    if (!el.checkVisibility?.()) continue;
    const text = n.textContent.trim();
    if (text) out.push(text);
  }
  for (const el of document.querySelectorAll('[aria-label], [placeholder], img[alt]')) {
    if (el.closest('select, [hidden]') || !el.checkVisibility?.()) continue;
    for (const a of ['aria-label', 'placeholder', 'alt']) {
      const v = el.getAttribute(a);
      if (v) out.push(v.trim());
    }
  }
  return out;
}"""

# Words of English that are no words of Bokmål: what a forgotten string or a raw server
# message gives itself away by.
ENGLISH = re.compile(
    r"\b(the|and|is|are|of|from|with|this|that|your|not|outside|every|walk|items?|due|none|"
    r"null|undefined|NaN|department|photo|field|participant|user|lighting)\b",
    re.IGNORECASE,
)


def visible_text(page: Any) -> list[str]:
    texts: list[str] = page.evaluate(VISIBLE_TEXT)
    return texts


@cache
def _whole_strings(lang: str) -> frozenset[str]:
    out: set[str] = set()
    for value in web_messages(lang, "staff", SOURCE_LOCALE_DIR).values():
        for text in value.values() if isinstance(value, dict) else [value]:
            if "{" not in text and len(text) > 2:
                out.add(text.strip())
    return frozenset(out)


def not_in_language(texts: Iterable[str], lang: str, data: Iterable[str] = ()) -> list[str]:
    """Visible strings that are not the page's language: a string of the English catalogue
    that this language's catalogue lacks, or text with English words in it. ``data`` is what
    people typed (notes, titles, names), which is shown as written."""
    own, english = _whole_strings(lang), _whole_strings("en")
    typed = [d for d in data if d]
    found = []
    for text in texts:
        if any(d in text for d in typed):
            continue
        if (text in english and text not in own) or ENGLISH.search(text):
            found.append(text)
    return sorted(set(found))


def in_viewport(page: Any, locator: Any) -> bool:
    """The element is drawn, whole, inside the window (not below the fold)."""
    box = locator.bounding_box()
    size = page.viewport_size
    return bool(
        box
        and box["width"] > 0
        and box["y"] >= 0
        and box["x"] >= 0
        and box["y"] + box["height"] <= size["height"]
        and box["x"] + box["width"] <= size["width"] + 1
    )


def scrolls_sideways(page: Any) -> bool:
    return bool(
        page.evaluate("document.documentElement.scrollWidth > document.documentElement.clientWidth")
    )
