"""The report back of a walk as a printable PDF: the same content as its page, with the PDF
machinery of the exports (fonts, styles, tables that split across pages). Imported only when a
PDF is asked for: ReportLab is heavy."""

from __future__ import annotations

import io
from typing import Any

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.platypus import Spacer

from api.core import i18n
from api.core.i18n import translate
from api.outputs.exports.pdf import _document, _p, _styles, _table, fonts
from api.outputs.public.report_back import ReportBack, ShownItem
from api.outputs.public.report_back_page import outcome


def _date(value: Any, lang: str) -> str:
    return i18n.date(value, lang) if value is not None else ""


def _items(rows: list[ShownItem], lang: str, width: float) -> Any:
    st = _styles()
    keys = [
        "export.col.action", "export.col.category", "export.col.status", "export.col.due",
        "export.col.done", "report_back.col.outcome",
    ]  # fmt: skip
    fractions = [0.27, 0.14, 0.1, 0.08, 0.08, 0.33]
    table: list[list[Any]] = [[_p(translate(k, lang), st["head"]) for k in keys]]
    for r in rows:
        table.append(
            [
                _p(r.title, st["cell"]),
                _p(r.label(lang), st["cell"]),
                _p(translate("status." + r.status, lang), st["cell"]),
                _date(r.due_date, lang),
                _date(r.done_date, lang),
                _p(outcome(r, lang), st["cell"]),
            ]
        )
    return _table(table, [f * width for f in fractions])


def report_back_pdf(report: ReportBack, lang: str) -> bytes:
    st = _styles()
    walk = report.walk
    title = translate("report_back.title", lang, walk=walk.title)
    buf = io.BytesIO()
    page = landscape(A4)
    doc = _document(buf, title, page)
    width = page[0] - doc.leftMargin - doc.rightMargin
    facts = report.facts(lang, _date(report.day, lang))
    counts = report.counts(lang)
    story: list[Any] = [
        _p(title, st["h1"]),
        _p(facts, st["base"]),
        _p(translate("report_back.intro", lang), st["small"]),
        Spacer(1, 6),
        _p(f"{translate('report_back.items', lang)}: {counts}", st["h2"]),
        _items(list(report.items), lang, width)
        if report.items
        else _p(translate("report_back.no_items", lang), st["base"]),
    ]
    without = sum(1 for o in report.observations if o.item_id is None)
    if without:
        story.append(_p(translate("report_back.without_item", lang, count=without), st["base"]))
    c = report.comparison
    if c is not None:
        story.append(
            _p(
                translate("report_back.compare_title", lang, walk=c.title, date=_date(c.day, lang)),
                st["h2"],
            )
        )
        for key, ids in (
            ("report_back.verified", c.verified),
            ("report_back.still", c.still_a_problem),
        ):
            names = [report.item_by_id[i].title for i in ids if i in report.item_by_id]
            story.append(_p(translate(key, lang), st["base"]))
            story.append(
                _p(
                    "\n".join(f"– {n}" for n in names) or translate("report_back.nothing", lang),
                    st["small"],
                )
            )
        story.append(_p(translate("report_back.new", lang), st["base"]))
        story.append(
            _items(list(c.new), lang, width)
            if c.new
            else _p(translate("report_back.nothing", lang), st["small"])
        )
    regular, _ = fonts()

    def footer(canvas: Any, d: Any) -> None:
        canvas.saveState()
        canvas.setFont(regular, 7)
        canvas.setFillColor(colors.HexColor("#555555"))
        canvas.drawString(d.leftMargin, 22, f"{report.org.name} · {walk.title}")
        canvas.drawRightString(
            d.pagesize[0] - d.rightMargin,
            22,
            translate("report.page", lang, page=canvas.getPageNumber()),
        )
        canvas.restoreState()

    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return buf.getvalue()
