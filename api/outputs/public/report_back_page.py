"""The report back as a plain, server-rendered HTML page, in Bokmål or English, in the same
style as the published follow-up: no script, no external resource, every value escaped."""

from __future__ import annotations

from html import escape

from api.core.i18n import translate
from api.outputs.public.pages import _CSS, _date, _t, home, language_nav
from api.outputs.public.report_back import ReportBack, ShownItem, photo_path

_EXTRA_CSS = ".outcome{max-width:24rem}\n.facts{color:#444}\n"


def outcome(item: ShownItem, lang: str) -> str:
    """What was done, in words: the resolution note, whom it went to, or why not."""
    parts = []
    if item.resolution_note:
        parts.append(item.resolution_note)
    if item.referred_to:
        parts.append(translate("report_back.referred", lang, to=item.referred_to))
    if item.declined_reason:
        parts.append(translate("report_back.declined", lang, reason=item.declined_reason))
    return " · ".join(parts)


def _photos(report: ReportBack | None, item: ShownItem, lang: str) -> str:
    """Links to the fix's photos (same origin: the page loads nothing itself)."""
    if report is None or not item.photo_ids:
        return ""
    links = " ".join(
        f'<a class="fix-photo" href="{escape(photo_path(report.org.slug, report.walk.id, p))}">'
        f"{escape(translate('report_back.fix_photo', lang, n=n))}</a>"
        for n, p in enumerate(item.photo_ids, start=1)
    )
    return f" {links}"


def _table(rows: list[ShownItem], lang: str, caption: str, report: ReportBack | None = None) -> str:
    t = _t(lang)
    head = "".join(
        f'<th scope="col">{t(k)}</th>'
        for k in (
            "export.col.action", "export.col.category", "export.col.status", "export.col.due",
            "export.col.done", "report_back.col.outcome",
        )
    )  # fmt: skip
    body = "\n".join(
        f'<tr id="item-{r.id}">'
        f"<td>{escape(r.title)}</td>"
        f"<td>{escape(r.label(lang))}</td>"
        f"<td{' class=done' if r.done else ''}>{t('status.' + r.status)}</td>"
        f"<td>{_date(r.due_date, lang)}</td>"
        f"<td>{_date(r.done_date, lang)}</td>"
        f'<td class="outcome">{escape(outcome(r, lang))}{_photos(report, r, lang)}</td>'
        "</tr>"
        for r in rows
    )
    return (
        f"<table>\n<caption>{escape(caption)}</caption>\n"
        f"<thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody>\n</table>"
    )


def _titles(report: ReportBack, ids: tuple[object, ...], lang: str) -> str:
    names = [report.item_by_id[i].title for i in ids if i in report.item_by_id]  # type: ignore[index]
    if not names:
        return f"<p>{escape(translate('report_back.nothing', lang))}</p>"
    return "<ul>\n" + "\n".join(f"<li>{escape(n)}</li>" for n in names) + "\n</ul>"


def page(report: ReportBack, lang: str) -> str:
    t = _t(lang)
    walk = report.walk
    title = translate("report_back.title", lang, walk=walk.title)
    facts = report.facts(lang, _date(report.day, lang))
    counts = report.counts(lang)
    parts = [f'<p class="facts">{escape(facts)}</p>', f"<p>{t('report_back.intro')}</p>"]
    if report.items:
        parts.append(
            _table(
                list(report.items),
                lang,
                f"{translate('report_back.items', lang)}: {counts}",
                report,
            )
        )
    else:
        parts.append(f"<p>{t('report_back.no_items')}</p>")
    without = sum(1 for o in report.observations if o.item_id is None)
    if without:
        parts.append(f"<p>{t('report_back.without_item', count=without)}</p>")
    c = report.comparison
    if c is not None:
        parts.append(
            f"<h2>{t('report_back.compare_title', walk=c.title, date=_date(c.day, lang))}</h2>"
        )
        parts.append(f"<h3>{t('report_back.verified')}</h3>\n{_titles(report, c.verified, lang)}")
        parts.append(
            f"<h3>{t('report_back.still')}</h3>\n{_titles(report, c.still_a_problem, lang)}"
        )
        parts.append(f"<h3>{t('report_back.new')}</h3>")
        parts.append(
            _table(list(c.new), lang, translate("report_back.new", lang))
            if c.new
            else f"<p>{t('report_back.nothing')}</p>"
        )
    published = translate(
        "report_back.published", lang, date=_date(report.published_at.date(), lang)
    )
    return (
        f'<!doctype html>\n<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<meta name="robots" content="noindex, nofollow">\n'
        f'<meta name="description" content="{escape(translate("report_back.intro", lang))}">\n'
        f'<link rel="icon" href="/favicon.ico">\n'
        f"<title>{escape(title)}</title>\n<style>{_CSS}{_EXTRA_CSS}</style>\n</head>\n<body>\n"
        f"<header><h1>{escape(title)}</h1>\n"
        f"{language_nav(lang, lambda other: f'{home(report.org, other)}walks/{walk.id}')}"
        "</header>\n"
        f"<main>\n{chr(10).join(parts)}\n</main>\n"
        f"<footer><p>{escape(published)} · "
        f'<a href="{home(report.org, lang)}walks/{walk.id}?format=pdf">{t("report_back.pdf")}</a>'
        f' · <a href="/public/{report.org.slug}/walks/{walk.id}.json?lang={lang}">'
        f"{t('report_back.json')}</a></p></footer>\n"
        f"</body>\n</html>\n"
    )
