"""What a person reads on a page, and whether it is all in the page's language: the visible
text collected in the browser, checked against a web app's catalogue (whole messages, and
messages with their {placeholders} filled by anything), with the data a test seeded allowed
beside it (names, titles, e-mail addresses) and text without letters (numbers, dates)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from api.core.i18n.catalogues import SOURCE_LOCALE_DIR, web_messages
from tests.factories import PASSWORD

# Text nodes a reader sees, the accessible names given as attributes, and what a form shows
# before anyone types: a select's chosen option and a text input's value (a raw code such as
# `lighting` in a department field is read there). Skipped: code and scripts, inputs marked
# with their own language (a category's label in each language), the language choosers (each
# language in its own name), hidden and aria-hidden parts, a closed <details> but its summary;
# where checkVisibility is missing, an element with no offset parent counts as hidden.
COLLECT = """() => {
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    if (!el || el.closest('code, script, style, select, [hidden], [aria-hidden=true]')) continue;
    if (!el.checkVisibility?.() && !el.offsetParent && el.tagName !== 'BODY') continue;
    // A closed <details> keeps its content laid out (content-visibility), unseen but for the summary.
    if (el.closest('details:not([open])') && !el.closest('summary')) continue;
    const text = n.textContent.trim();
    if (text) out.push(text);
  }
  for (const el of document.querySelectorAll('[aria-label], [placeholder], img[alt]')) {
    if (el.closest('select, [hidden]')) continue;
    for (const a of ['aria-label', 'placeholder', 'alt']) {
      const v = el.getAttribute(a);
      if (v) out.push(v.trim());
    }
  }
  const shown = (el) => !el.closest('[hidden], [aria-hidden=true]') && el.checkVisibility();
  for (const el of document.querySelectorAll('select')) {
    const chosen = el.selectedOptions[0];
    if (shown(el) && chosen && !chosen.lang && chosen.textContent.trim()) out.push(chosen.textContent.trim());
  }
  for (const el of document.querySelectorAll('input[type=text]:not([lang]), input:not([type]):not([lang])')) {
    if (shown(el) && el.value.trim()) out.push(el.value.trim());
  }
  return out;
}"""

# Month and weekday names, and the words of a date written out in full ("kl."), as Intl writes
# them in the page's language: dates are data.
INTL_WORDS = """(lang) => {
  const out = new Set();
  const full = { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric', hour: '2-digit', minute: '2-digit', timeZone: 'UTC' };
  for (let m = 0; m < 12; m += 1) {
    const d = new Date(Date.UTC(2026, m, 15 + (m % 7)));
    for (const month of ['long', 'short']) {
      for (const part of new Intl.DateTimeFormat(lang, { month, timeZone: 'UTC' }).formatToParts(d)) out.add(part.value);
    }
    for (const part of new Intl.DateTimeFormat(lang, full).formatToParts(d)) out.add(part.value.trim());
  }
  return [...out];
}"""


def messages(lang: str, domain: str = "staff") -> dict[str, Any]:
    return web_messages(lang, domain, SOURCE_LOCALE_DIR)


def _patterns(lang: str, domain: str) -> tuple[set[str], list[re.Pattern[str]]]:
    whole: set[str] = set()
    filled: list[re.Pattern[str]] = []
    for value in messages(lang, domain).values():
        for text in value.values() if isinstance(value, dict) else [value]:
            text = text.strip()
            if "{" in text:
                parts = re.split(r"\{\w+\}", text)
                filled.append(re.compile("^" + "(.+?)".join(map(re.escape, parts)) + "$", re.S))
            else:
                whole.add(text)
    return whole, filled


def foreign_text(
    seen: Iterable[str], lang: str, allowed: Iterable[str] = (), domain: str = "staff"
) -> list[str]:
    """The texts that are neither the catalogue's (whole or filled in) nor allowed data."""
    whole, filled = _patterns(lang, domain)
    data = {a.strip() for a in allowed if a and a.strip()}
    words = {w.lower() for w in data for w in re.findall(r"\w+", w)}

    def known(text: str) -> bool:
        if text in whole or text in data or not re.search(r"[^\W\d_]", text):
            return True
        # Only data and Intl words (dates such as "7. des. 2026", "mars 2026").
        if all(w.lower() in words for w in re.findall(r"[^\W\d_]+", text)):
            return True
        for p in filled:
            m = p.match(text)
            if m and all(known(g.strip()) or g.strip() in data for g in m.groups()):
                return True
        return False

    out = set()
    for text in seen:
        for part in re.split(r"\s+·\s+", text):
            if part and not known(part):
                out.add(part)
    return sorted(out)


def sign_in_in(page: Any, base: str, email: str, lang: str) -> None:
    """Through the form, in ``lang``, with the accessible names of that language."""
    t = messages(lang)
    page.goto(f"{base}/")
    page.get_by_role("textbox", name=t["signin.email"]).fill(email)
    page.get_by_role("textbox", name=t["signin.password"]).fill(PASSWORD)
    page.get_by_role("button", name=t["signin.button"]).click()
    page.get_by_role("button", name=t["signout"]).wait_for()


def nb_context(browser: Any, **kw: Any) -> Any:
    """A browser context of a person who reads Bokmål (and chose it on this device)."""
    context = browser.new_context(locale="nb-NO", timezone_id="Europe/Oslo", **kw)
    context.add_init_script("localStorage.setItem('safewalk.lang', 'nb')")
    return context
