"""The action list as an Excel workbook engineers open: headers in the organization's
language, a frozen header row, an autofilter, real numbers and date cells, photo links.

Text from people (notes, titles, comments) is always written as text: a note starting with
``=`` stays a note and never becomes a formula.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from typing import Any
from uuid import UUID

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from api.core import i18n
from api.outputs.exports.data import Listing

# (catalogue key, width)
COLUMNS = [
    ("export.col.nr", 6),
    ("export.col.place", 22),
    ("export.col.lat", 11),
    ("export.col.lon", 11),
    ("export.col.observations", 13),
    ("export.col.notes", 50),
    ("export.col.photo", 14),
    ("export.col.action", 40),
    ("export.col.responsible", 18),
    ("export.col.priority", 10),
    ("export.col.due", 12),
    ("export.col.status", 16),
    ("export.col.comment", 40),
]
_TEXT_MAX = 32_000  # Excel's cell limit is 32,767 characters


def _text(cell: Any, value: str | None) -> None:
    cell.value = (value or "")[:_TEXT_MAX]
    cell.data_type = "s"


def excel_date_format(lang: str) -> str:
    """The reader's short date (CLDR) as an Excel number format: 03.11.2026, 2026-11-03, …"""
    pattern = i18n.short_date_pattern(lang)
    return re.sub(r"y+", "yyyy", pattern).replace("M", "m")


def action_list_xlsx(listing: Listing, photo_url: Callable[[UUID], str] | None) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = listing.t("export.sheet")[:31]
    header_font = Font(bold=True, color="FFFFFF")
    header_fill = PatternFill("solid", fgColor="1F4E79")
    for c, (key, width) in enumerate(COLUMNS, start=1):
        cell = ws.cell(row=1, column=c, value=listing.t(key))
        cell.font, cell.fill = header_font, header_fill
        cell.alignment = Alignment(vertical="center", wrap_text=True)
        ws.column_dimensions[get_column_letter(c)].width = width
    date_format = excel_date_format(listing.lang)
    wrap = Alignment(vertical="top", wrap_text=True)
    top = Alignment(vertical="top")
    for r, item in enumerate(listing.items, start=2):
        ws.cell(row=r, column=1, value=item.nr)
        _text(ws.cell(row=r, column=2), item.area_name or "")
        ws.cell(row=r, column=3, value=item.lat).number_format = "0.000000"
        ws.cell(row=r, column=4, value=item.lon).number_format = "0.000000"
        ws.cell(row=r, column=5, value=item.observation_count)
        _text(ws.cell(row=r, column=6), "\n".join(f"• {n}" for n in item.notes))
        photo = ws.cell(row=r, column=7)
        if item.photo_id is not None and photo_url is not None:
            photo.value = listing.t("export.photo_link")
            photo.hyperlink = photo_url(item.photo_id)
            photo.style = "Hyperlink"
        _text(ws.cell(row=r, column=8), item.title)
        _text(ws.cell(row=r, column=9), item.department_label)
        ws.cell(row=r, column=10, value=item.priority).number_format = "0.0"
        due = ws.cell(row=r, column=11, value=item.due_date)
        due.number_format = date_format
        _text(ws.cell(row=r, column=12), item.status_label)
        _text(ws.cell(row=r, column=13), item.comment)
        for c in range(1, len(COLUMNS) + 1):
            cell = ws.cell(row=r, column=c)
            if c != 7:
                cell.alignment = wrap if c in (6, 8, 13) else top
    ws.freeze_panes = "A2"
    last = get_column_letter(len(COLUMNS))
    ws.auto_filter.ref = f"A1:{last}{max(1, len(listing.items)) + 1}"
    ws.print_title_rows = "1:1"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
