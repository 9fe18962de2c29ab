"""Plain, server-rendered HTML for the published follow-up, in every language there is a
catalogue for, at ``/public/{slug}/{lang}/``. No script, no external resource; every text
comes from the message catalogue, every value is escaped, dates are formatted by CLDR."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from html import escape
from urllib.parse import quote

from api.core.i18n import ENDONYMS, LANGUAGES, translate
from api.core.i18n import date as format_date
from api.outputs.public.service import PublicItem
from models import Area, Organization

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1b1b1b;
background:#fff;line-height:1.5}
header,main,footer{max-width:60rem;margin:0 auto;padding:0 1rem}
header{border-bottom:4px solid #1f4e79;padding-top:1rem}
h1{color:#1f4e79;font-size:1.6rem;margin:.5rem 0}
a{color:#0b4f8a}
table{border-collapse:collapse;width:100%;margin:1rem 0}
caption{text-align:left;font-weight:600;padding:.25rem 0}
th,td{text-align:left;padding:.4rem .5rem;border-bottom:1px solid #bbb;vertical-align:top}
th{background:#e8eef4}
.done{color:#1d5e1d;font-weight:600}
footer{color:#444;font-size:.9rem;padding-bottom:2rem}
"""


def _t(lang: str) -> Callable[..., str]:
    """The catalogue in one language, escaped for HTML."""

    def t(key: str, **params: object) -> str:
        return escape(translate(key, lang, **params))

    return t


def _date(value: date | None, lang: str) -> str:
    if value is None:
        return "—"
    return format_date(value, lang)


def home(org: Organization, lang: str) -> str:
    return f"/public/{quote(org.slug)}/{lang}/"


def language_nav(lang: str, href: Callable[[str], str]) -> str:
    """Every language in its own name; the page's own is the current one, not a link."""
    links = " · ".join(
        f'<span aria-current="page" lang="{code}">{escape(ENDONYMS[code])}</span>'
        if code.value == lang
        else f'<a href="{escape(href(code.value))}" hreflang="{code}" lang="{code}">'
        f"{escape(ENDONYMS[code])}</a>"
        for code in LANGUAGES
    )
    return f'<nav aria-label="{escape(translate("public.language", lang))}">{links}</nav>'


def _page(lang: str, title: str, body: str, switch: Callable[[str], str], data_href: str) -> str:
    t = _t(lang)
    return (
        f'<!doctype html>\n<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<meta name="description" content="{t("public.intro")}">\n'
        f'<link rel="icon" href="/favicon.ico">\n'
        f"<title>{escape(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        f"<header><h1>{escape(title)}</h1>\n{language_nav(lang, switch)}</header>\n"
        f"<main>\n{body}\n</main>\n"
        f'<footer><p><a href="{escape(data_href)}">{t("public.geojson")}</a></p></footer>\n'
        f"</body>\n</html>\n"
    )


def _counts(rows: Sequence[PublicItem], lang: str) -> str:
    done = sum(1 for r in rows if r.done)
    return translate("public.count", lang, open=len(rows) - done, done=done)


def index_page(
    org: Organization, areas: Sequence[Area], rows: Sequence[PublicItem], lang: str
) -> str:
    by_area: dict[object, list[PublicItem]] = {}
    for r in rows:
        by_area.setdefault(r.area_id, []).append(r)
    listed = [a for a in areas if by_area.get(a.id)]
    if listed:
        entries = "\n".join(
            f'<li><a href="{home(org, lang)}areas/{a.id}">{escape(a.name)}</a> – '
            f"{escape(_counts(by_area[a.id], lang))}</li>"
            for a in listed
        )
        body = (
            f"<p>{escape(translate('public.intro', lang))}</p>\n"
            f"<h2>{escape(translate('public.areas', lang))}</h2>\n<ul>\n{entries}\n</ul>"
        )
    else:
        body = f"<p>{escape(translate('public.none', lang))}</p>"
    title = translate("public.title", lang, org=org.name)
    data = f"/public/{quote(org.slug)}/action-items.geojson?lang={lang}"
    return _page(lang, title, body, lambda other: home(org, other), data)


def area_page(org: Organization, area: Area, rows: Sequence[PublicItem], lang: str) -> str:
    t = _t(lang)
    if rows:
        head = "".join(
            f'<th scope="col">{t(k)}</th>'
            for k in (
                "export.col.action",
                "export.col.category",
                "export.col.status",
                "export.col.due",
                "export.col.done",
            )  # fmt: skip
        )
        body_rows = "\n".join(
            "<tr>"
            f"<td>{escape(r.title)}</td>"
            f"<td>{escape(r.label(lang))}</td>"
            f"<td{' class=done' if r.done else ''}>{t('status.' + r.status)}</td>"
            f"<td>{_date(r.due_date, lang)}</td>"
            f"<td>{_date(r.done_date, lang)}</td>"
            "</tr>"
            for r in rows
        )
        table = (
            f"<table>\n<caption>{t('public.items')}: {escape(_counts(rows, lang))}</caption>\n"
            f"<thead><tr>{head}</tr></thead>\n<tbody>\n{body_rows}\n</tbody>\n</table>"
        )
    else:
        table = f"<p>{t('public.none')}</p>"
    body = (
        f'<p><a href="{home(org, lang)}">{t("public.back")}</a></p>\n'
        f"<p>{t('public.intro')}</p>\n{table}"
    )
    title = translate("public.area_title", lang, area=area.name)
    return _page(
        lang,
        title,
        body,
        lambda other: f"{home(org, other)}areas/{area.id}",
        f"/public/{quote(org.slug)}/action-items.geojson?area_id={area.id}&lang={lang}",
    )
