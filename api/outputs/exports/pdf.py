"""Printable PDFs with ReportLab (pure Python, no system libraries): the action list of an
area, and the walk report with a cover, a map drawn here from the area, the route and the
numbered observations (no tile server), the observations with thumbnails, and the resulting
action list.

Long lists stay readable: tables split across pages with the header row repeated, cells wrap,
and every page carries its number.
"""

from __future__ import annotations

import io
import logging
import math
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from PIL import Image as PILImage
from reportlab.graphics.shapes import Circle, Drawing, Line, Polygon, PolyLine, Rect, String
from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import (
    Image,
    KeepTogether,
    LongTable,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)
from shapely.geometry.base import BaseGeometry

from api.core import i18n
from api.core.i18n import translate
from api.core.media import MediaStore
from api.outputs.exports.data import DARK_GAP_M, ItemRow, Listing, ObservationRow
from geo.frame import Frame
from geo.labels import place_labels
from models import utcnow

log = logging.getLogger("safewalk.exports")

_DEJAVU = Path("/usr/share/fonts/truetype/dejavu")
_FONTS: list[tuple[str, str]] = []
NAVY = colors.HexColor("#1F4E79")
STATUS_DONE = {"resolved", "verified"}


def fonts() -> tuple[str, str]:
    """DejaVu Sans when the system has it (every character of Bokmål and beyond), else the
    PDF base font Helvetica (Latin-1, which still covers æ, ø and å)."""
    if not _FONTS:
        regular, bold = _DEJAVU / "DejaVuSans.ttf", _DEJAVU / "DejaVuSans-Bold.ttf"
        if regular.exists() and bold.exists():
            pdfmetrics.registerFont(TTFont("SafewalkSans", str(regular)))
            pdfmetrics.registerFont(TTFont("SafewalkSans-Bold", str(bold)))
            _FONTS.append(("SafewalkSans", "SafewalkSans-Bold"))
        else:
            _FONTS.append(("Helvetica", "Helvetica-Bold"))
    return _FONTS[0]


def _styles() -> dict[str, ParagraphStyle]:
    regular, bold = fonts()
    base = ParagraphStyle("base", fontName=regular, fontSize=9, leading=11.5, alignment=TA_LEFT)
    return {
        "base": base,
        "cell": ParagraphStyle("cell", parent=base, fontSize=7.5, leading=9),
        "head": ParagraphStyle(
            "head", parent=base, fontName=bold, fontSize=7.5, leading=9, textColor=colors.white
        ),  # fmt: skip
        "h1": ParagraphStyle(
            "h1", parent=base, fontName=bold, fontSize=18, leading=22, spaceAfter=6, textColor=NAVY
        ),  # fmt: skip
        "h2": ParagraphStyle(
            "h2",
            parent=base,
            fontName=bold,
            fontSize=13,
            leading=16,
            spaceBefore=8,
            spaceAfter=4,
            textColor=NAVY,
        ),  # fmt: skip
        "small": ParagraphStyle(
            "small", parent=base, fontSize=7.5, leading=9, textColor=colors.HexColor("#444444")
        ),  # fmt: skip
    }


def _p(text: str | None, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(text or "").replace("\n", "<br/>"), style)


def _local(value: datetime | None, tz: str, lang: str, *, time_only: bool = False) -> str:
    """The organization's local time; the date as the reader writes it (CLDR)."""
    if value is None:
        return ""
    local = value.astimezone(ZoneInfo(tz))
    return f"{local:%H:%M}" if time_only else f"{i18n.date(local.date(), lang)} {local:%H:%M}"


# --- the map -------------------------------------------------------------------------------


def _polygons(geom: BaseGeometry) -> list[Any]:
    if geom.geom_type == "Polygon":
        return [geom]
    if geom.geom_type == "MultiPolygon":
        return list(geom.geoms)
    return []


def _fill(done: bool) -> Any:
    return colors.HexColor("#4E8F3A") if done else colors.HexColor("#E46C0A")


def draw_map(
    width: float,
    height: float,
    area: BaseGeometry | None,
    route: BaseGeometry | None,
    points: Sequence[tuple[int, float, float, bool]],
    gaps: Sequence[BaseGeometry] = (),
) -> Drawing:
    """Area outline, dashed route, the route's dark stretches (thick black) and numbered
    points ``(nr, lon, lat, done)``."""
    d = Drawing(width, height)
    d.add(Rect(0, 0, width, height, fillColor=colors.HexColor("#F4F6F8"), strokeColor=colors.grey))
    shapes: list[BaseGeometry] = [g for g in (area, route) if g is not None]
    xs = [p[1] for p in points] + [c for g in shapes for c in (g.bounds[0], g.bounds[2])]
    ys = [p[2] for p in points] + [c for g in shapes for c in (g.bounds[1], g.bounds[3])]
    if not xs:
        return d
    frame = Frame((min(xs), min(ys), max(xs), max(ys)), width, height)
    regular, bold = fonts()
    if area is not None:
        for poly in _polygons(area):
            d.add(
                Polygon(
                    frame.flat(poly.exterior.coords),
                    fillColor=colors.HexColor("#DCE8F2"),
                    strokeColor=NAVY,
                    strokeWidth=1.2,
                )
            )
            for hole in poly.interiors:
                d.add(Polygon(frame.flat(hole.coords), fillColor=colors.HexColor("#F4F6F8"),
                              strokeColor=NAVY, strokeWidth=0.6))  # fmt: skip
    if route is not None and route.geom_type == "LineString":
        d.add(
            PolyLine(
                frame.flat(route.coords),
                strokeColor=colors.HexColor("#C0504D"),
                strokeWidth=1.6,
                strokeDashArray=[4, 2],
            )
        )
    for gap in gaps:
        d.add(PolyLine(frame.flat(gap.coords), strokeColor=colors.black, strokeWidth=3.2))
    radius = 5.5 if len(points) <= 60 else 3.8 if len(points) <= 200 else 2.8
    size = 6.0 if len(points) <= 60 else 4.2 if len(points) <= 200 else 3.2
    anchors = [frame.xy(lon, lat) for _, lon, lat, _ in points]
    # In a dense cluster the numbers move apart, each tied to its spot by a leader line.
    spots = place_labels(anchors, radius, (radius, radius, width - radius, height - radius))
    moved = [
        (p, a, s)
        for p, a, s in zip(points, anchors, spots, strict=True)
        if math.hypot(s[0] - a[0], s[1] - a[1]) > 0.5
    ]
    for (*_, done), (ax, ay), (x, y) in moved:  # lines under every label
        d.add(Line(ax, ay, x, y, strokeColor=colors.HexColor("#555555"), strokeWidth=0.4))
        d.add(Circle(ax, ay, 1.2, fillColor=_fill(done), strokeColor=None))
    for (nr, _, _, done), (x, y) in zip(points, spots, strict=True):
        fill = _fill(done)
        d.add(Circle(x, y, radius, fillColor=fill, strokeColor=colors.white, strokeWidth=0.5))
        d.add(String(x, y - size / 3, str(nr), fontName=bold, fontSize=size,
                     fillColor=colors.white, textAnchor="middle"))  # fmt: skip
    # A scale bar, so distances can be read without tiles.
    target = frame.metres_per_point() * width / 5
    nice = next((n for n in (10, 20, 50, 100, 200, 500, 1000, 2000, 5000) if n >= target), 10000)
    bar = nice / frame.metres_per_point()
    d.add(Line(10, 10, 10 + bar, 10, strokeColor=colors.black, strokeWidth=1.5))
    label = f"{nice} m" if nice < 1000 else f"{nice // 1000} km"
    d.add(String(10, 14, label, fontName=regular, fontSize=7))
    d.add(String(width - 12, height - 16, "N", fontName=bold, fontSize=10, textAnchor="middle"))
    d.add(Line(width - 12, height - 30, width - 12, height - 18, strokeColor=colors.black))
    return d


# --- tables --------------------------------------------------------------------------------


def _table(rows: list[list[Any]], widths: list[float]) -> LongTable:
    table = LongTable(rows, colWidths=widths, repeatRows=1, splitByRow=True)
    table.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, 0), NAVY),
                ("FONT", (0, 1), (-1, -1), fonts()[0], 7.5, 9),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#F2F2F2")]),
                ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.HexColor("#BBBBBB")),
                ("LEFTPADDING", (0, 0), (-1, -1), 3),
                ("RIGHTPADDING", (0, 0), (-1, -1), 3),
                ("TOPPADDING", (0, 0), (-1, -1), 2),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
            ]
        )
    )
    return table


def action_table(listing: Listing, items: list[ItemRow], width: float) -> LongTable:
    st = _styles()
    t = listing.t
    keys = [
        "export.col.nr", "export.col.action", "export.col.place", "export.col.observations",
        "export.col.responsible", "export.col.priority", "export.col.due", "export.col.status",
        "export.col.comment",
    ]  # fmt: skip
    fractions = [0.04, 0.24, 0.13, 0.09, 0.1, 0.07, 0.08, 0.09, 0.16]
    rows: list[list[Any]] = [[_p(t(k), st["head"]) for k in keys]]
    for i in items:
        place = f"{i.area_name or ''}\n{i.lat:.5f}, {i.lon:.5f}".strip()
        due = i18n.date(i.due_date, listing.lang, style="short") if i.due_date else ""
        # Short values are plain strings: a Paragraph per cell is wrapped three times by the
        # table (measure, split, draw), and at 500 rows that is most of the time.
        rows.append(
            [
                str(i.nr),
                _p(i.title, st["cell"]),
                _p(place, st["cell"]),
                str(i.observation_count),
                _p(i.department_label, st["cell"]),
                f"{i.priority:.0f}",
                due,
                _p(i.status_label, st["cell"]),
                _p(i.comment, st["cell"]) if i.comment else "",
            ]
        )
    return _table(rows, [f * width for f in fractions])


def _thumb(store: MediaStore | None, key: str | None, size: float) -> Any:
    if store is None or key is None:
        return ""
    try:
        with PILImage.open(io.BytesIO(store.read(key))) as source:
            source.draft("RGB", (240, 240))  # JPEG: decode at a reduced scale, much faster
            small = source.convert("RGB")
            small.thumbnail((240, 240))
            buf = io.BytesIO()
            small.save(buf, "JPEG", quality=70)
            w, h = small.size
    except (OSError, ValueError) as exc:  # a missing or unreadable file: the row stays
        log.warning("report: thumbnail %s unreadable: %s", key, exc)
        return ""
    buf.seek(0)
    scale = size / max(w, h)
    return Image(buf, width=w * scale, height=h * scale)


def observation_table(
    listing: Listing, observations: list[ObservationRow], width: float, store: MediaStore | None
) -> LongTable:
    st = _styles()
    t = listing.t
    tz = listing.org.timezone
    head = ["export.col.nr", "export.col.photo", "export.col.category", "export.col.notes",
            "report.severity", "report.safety", "report.date", "report.item_nr"]  # fmt: skip
    fractions = [0.05, 0.14, 0.16, 0.29, 0.11, 0.1, 0.08, 0.07]
    rows: list[list[Any]] = [[_p(t(k), st["head"]) for k in head]]
    for o in observations:
        rows.append(
            [
                str(o.nr),
                _thumb(store, o.thumb_key, fractions[1] * width - 8),
                _p(o.category_label, st["cell"]),
                _p(o.note or t("report.no_note"), st["cell"]),
                str(o.severity) if o.severity is not None else "",
                "" if o.perceived_safety is None else str(o.perceived_safety),
                _local(o.recorded_at, tz, listing.lang, time_only=True),
                str(o.item_nr) if o.item_nr else "",
            ]
        )
    return _table(rows, [f * width for f in fractions])


# --- documents -----------------------------------------------------------------------------


def _document(buf: io.BytesIO, title: str, pagesize: tuple[float, float]) -> SimpleDocTemplate:
    return SimpleDocTemplate(
        buf, pagesize=pagesize, title=title, author="safewalk",
        leftMargin=14 * mm, rightMargin=14 * mm, topMargin=14 * mm, bottomMargin=16 * mm,
    )  # fmt: skip


def _footer(listing: Listing, title: str) -> Any:
    regular, _ = fonts()
    generated = translate(
        "report.generated", listing.lang, when=_local(utcnow(), listing.org.timezone, listing.lang)
    )

    def draw(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(regular, 7)
        canvas.setFillColor(colors.HexColor("#555555"))
        w = doc.pagesize[0]
        canvas.drawString(doc.leftMargin, 8 * mm, f"{listing.org.name} · {title} · {generated}")
        canvas.drawRightString(
            w - doc.rightMargin, 8 * mm, listing.t("report.page", page=canvas.getPageNumber())
        )
        canvas.restoreState()

    return draw


def _points_of_items(items: list[ItemRow]) -> list[tuple[int, float, float, bool]]:
    return [(i.nr, i.lon, i.lat, i.status in STATUS_DONE) for i in items]


def action_list_pdf(listing: Listing) -> bytes:
    st = _styles()
    area_name = listing.area.name if listing.area else ""
    title = listing.t("report.action_list_title", area=area_name)
    buf = io.BytesIO()
    page = landscape(A4)
    doc = _document(buf, title, page)
    width = page[0] - doc.leftMargin - doc.rightMargin
    story: list[Any] = [
        _p(title, st["h1"]),
        _p(
            listing.t(
                "report.observations_count",
                count=len(listing.observations),
                items=len(listing.items),
            ),
            st["base"],
        ),  # fmt: skip
        Spacer(1, 4),
        draw_map(width, 105 * mm, listing.area_geometry, None, _points_of_items(listing.items)),
        _p(listing.t("report.map_legend_items"), st["small"]),
        Spacer(1, 6),
        action_table(listing, listing.items, width),
    ]
    footer = _footer(listing, title)
    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return buf.getvalue()


def walk_report_pdf(listing: Listing, store: MediaStore | None) -> bytes:
    assert listing.walk is not None
    walk = listing.walk
    st = _styles()
    t = listing.t
    tz = listing.org.timezone
    title = t("report.walk_title")
    buf = io.BytesIO()
    page = A4
    doc = _document(buf, f"{title}: {walk.title}", page)
    width = page[0] - doc.leftMargin - doc.rightMargin

    when = walk.starts_at or walk.created_at
    dark = walk.is_dark
    if dark is None and listing.observations:
        flags = [o.is_dark for o in listing.observations if o.is_dark is not None]
        dark = (sum(flags) > len(flags) / 2) if flags else None
    conditions = (
        t("report.unknown") if dark is None else t("report.dark" if dark else "report.daylight")
    )
    facts = [
        (t("report.area"), listing.area.name if listing.area else "—"),
        (t("report.date"), _local(when, tz, listing.lang) + (f" – {_local(walk.ends_at, tz, listing.lang, time_only=True)}" if walk.ends_at else "")),
        (t("report.conditions"), conditions),
        (t("report.weather"), walk.weather or "—"),
        (t("report.observations"), t("report.observations_count", count=len(listing.observations), items=len(listing.items))),
    ]  # fmt: skip
    gaps = listing.dark_gaps
    if gaps is not None and listing.route is not None:
        facts.append((t("report.dark_gaps"), t("report.dark_gaps_value", count=len(gaps),
                      metres=round(sum(g.length_m for g in gaps)), gap=round(DARK_GAP_M))))  # fmt: skip
    cover = Table(
        [[_p(k, st["base"]), _p(v, st["base"])] for k, v in facts],
        colWidths=[0.3 * width, 0.7 * width],
    )
    cover.setStyle(TableStyle([("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.grey),
                               ("VALIGN", (0, 0), (-1, -1), "TOP")]))  # fmt: skip
    groups = [[_p(translate(f"group.{g}", listing.lang), st["base"]), _p(str(n), st["base"])]
              for g, n in listing.groups.items()]  # fmt: skip
    group_table: Any = (
        Table(groups, colWidths=[0.3 * width, 0.2 * width], hAlign="LEFT")
        if groups
        else _p(t("report.participants_none"), st["base"])
    )
    points = [
        (o.nr, o.lon, o.lat, False)
        for o in listing.observations
        if o.lon is not None and o.lat is not None
    ]
    story: list[Any] = [
        _p(title, st["h1"]),
        _p(walk.title, st["h2"]),
        cover,
        _p(t("report.participants"), st["h2"]),
        group_table,
        _p(t("report.map"), st["h2"]),
        KeepTogether(
            [
                draw_map(width, 120 * mm, listing.area_geometry, listing.route, points,
                         [g.line for g in gaps or []]),
                _p(t("report.map_legend") + (f". {t('report.map_legend_gaps')}" if gaps else ""),
                   st["small"]),
            ]
        ),
        PageBreak(),
        _p(t("report.observations"), st["h2"]),
        observation_table(listing, listing.observations, width, store)
        if listing.observations
        else _p(t("report.none"), st["base"]),
        PageBreak(),
        _p(t("export.sheet"), st["h2"]),
        action_table(listing, listing.items, width) if listing.items else _p(t("report.none"), st["base"]),
    ]  # fmt: skip
    footer = _footer(listing, walk.title)
    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return buf.getvalue()
