"""Reading the action list: item reads, filtered lists, the per-area list (JSON and CSV), and
resolved items near a follow-up walker (the follow-up figures live in ``follow_up``)."""

from __future__ import annotations

import csv
import io
import uuid
from collections import Counter
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from api.action_items import features
from api.action_items.grouping import effective_priority
from api.action_items.workflow import allowed_moves
from api.assets import service as assets
from api.auth.principal import Principal
from api.categories import service as category_service
from api.core import i18n, spatial
from api.core.i18n import Language, has, translate
from api.core.paging import after_keyset, keyset_page, page_sorted
from api.core.photo_links import photo_links
from api.core.signing import PhotoSigner
from api.privacy import sensitive
from geo.projection import geodesic_distance_m
from models.action_items import ActionItem, ActionItemRead, ActionStatus
from models.areas import Area
from models.base import columns_for, utcnow
from models.categories import Category
from models.observations import Moderation, Observation, Photo


def to_reads(
    session: Session,
    items: Sequence[ActionItem],
    *,
    principal: Principal | None = None,
    signer: PhotoSigner | None = None,
) -> list[ActionItemRead]:
    """Reads of items; with the caller, each says its ``allowed_moves`` for them; with a
    signer, the fix photos carry signed links."""
    if not items:
        return []
    photos = photo_links(session, [i.id for i in items], signer, of_items=True)
    lamps = assets.item_facts(session, items)
    cats = category_service.codes(session, [i.category_id for i in items])
    # Items of a sensitive category: at their generalised point for all but coordinators+.
    general = principal is not None and not sensitive.full_detail(principal)
    today = utcnow().date()
    reads = []
    for i in items:
        code, is_sensitive = cats.get(i.category_id, ("?", True))
        values = {
            **columns_for(i, ActionItemRead),
            "category": code,
            "priority": effective_priority(i),
            "overdue": features.is_overdue(i, today),
            "allowed_moves": allowed_moves(principal, i) if principal is not None else [],
            "photos": photos.get(i.id, []),
            **lamps.get(i.id, {}),
        }
        if general and is_sensitive:
            point = spatial.from_db(i.location)
            assert point is not None
            values.update(location=sensitive.general_point_geojson(point), footprint=None)
        reads.append(ActionItemRead.model_validate(values))
    return reads


def list_items(
    session: Session,
    org_id: uuid.UUID,
    *,
    area_id: uuid.UUID | None,
    status: Sequence[ActionStatus],
    category: str | None,
    department: str | None,
    overdue: bool | None,
    assignee_id: uuid.UUID | None,
    n: int,
    cursor: str | None,
) -> tuple[list[ActionItem], str | None]:
    stmt = select(ActionItem).where(col(ActionItem.organization_id) == org_id)
    if area_id is not None:
        stmt = stmt.where(col(ActionItem.area_id) == area_id)
    if status:
        stmt = stmt.where(col(ActionItem.status).in_([str(s) for s in status]))
    if category is not None:
        stmt = stmt.join(Category, col(Category.id) == col(ActionItem.category_id)).where(
            col(Category.code) == category
        )
    if department is not None:
        stmt = stmt.where(col(ActionItem.department) == department)
    if assignee_id is not None:
        stmt = stmt.where(col(ActionItem.assignee_id) == assignee_id)
    today = utcnow().date()
    late = features.overdue(today)
    if overdue is True:
        stmt = stmt.where(late)
    elif overdue is False:
        stmt = stmt.where(~late | col(ActionItem.due_date).is_(None))
    after = after_keyset(cursor, col(ActionItem.created_at), col(ActionItem.id))
    if after is not None:
        stmt = stmt.where(after)
    return keyset_page(session, stmt, col(ActionItem.created_at), col(ActionItem.id), n)


def _list_key(item: ActionItem) -> tuple[float, str, str]:
    """An area list's order: highest priority first, then the earliest due date."""
    due = (item.due_date or date.max).isoformat()
    return (-effective_priority(item), due, str(item.id))


def area_list(
    session: Session,
    area: Area,
    *,
    include_closed: bool,
    principal: Principal | None = None,
    signer: PhotoSigner | None = None,
    n: int | None = None,
    cursor: str | None = None,
) -> dict[str, Any]:
    """The area's items by priority (highest first), with counts by category and status of
    the whole list; ``n`` items after ``cursor`` (None: all) and the next page's cursor."""
    stmt = select(ActionItem).where(col(ActionItem.area_id) == area.id)
    if not include_closed:
        stmt = stmt.where(features.shown())
    items = sorted(session.scalars(stmt), key=_list_key)
    codes = dict(
        session.execute(
            select(col(Category.id), col(Category.code)).where(
                col(Category.id).in_({i.category_id for i in items})
            )
        ).all()
    )
    today = utcnow().date()
    page, nxt = (items, None) if n is None else page_sorted(items, _list_key, n, cursor)
    return {
        "area": {"id": str(area.id), "name": area.name, "code": area.code},
        "items": to_reads(session, page, principal=principal, signer=signer),
        "counts": {
            "by_category": dict(
                sorted(Counter(codes.get(i.category_id, "?") for i in items).items())
            ),
            "by_status": dict(sorted(Counter(str(i.status) for i in items).items())),
            "total": len(items),
            "overdue": sum(1 for i in items if features.is_overdue(i, today)),
        },
        "next_cursor": nxt,
    }


# (field, catalogue key of its header); the headers speak the caller's language.
CSV_COLUMNS = [
    ("id", "csv.id"), ("priority", "csv.priority"), ("title", "csv.title"),
    ("category_label", "csv.category"), ("category", "csv.category_code"),
    ("status", "csv.status"), ("department", "csv.department"), ("owner_type", "csv.owner_type"),
    ("due_date", "csv.due_date"), ("overdue", "csv.overdue"),
    ("observation_count", "csv.observation_count"),
    ("participant_groups", "csv.participant_groups"), ("first_seen_at", "csv.first_seen_at"),
    ("last_seen_at", "csv.last_seen_at"), ("lat", "csv.lat"), ("lon", "csv.lon"),
    ("resolution_note", "csv.resolution_note"), ("photos", "csv.photos"),
]  # fmt: skip


def _named(prefix: str, value: str | None, lang: Language) -> str:
    """A status, department, owner or group in words where the catalogue knows it."""
    if value is None:
        return ""
    key = f"{prefix}.{value}"
    return translate(key, lang) if has(key) else value


def export_photo_links(
    session: Session, items: Sequence[ActionItemRead], signer: PhotoSigner, *, full: bool = True
) -> dict[uuid.UUID, list[str]]:
    """Per item: signed links (valid for days) to its reports' photos and its fix photos;
    without ``full`` detail, none of an observation of a sensitive category."""
    ids = [r.id for r in items]
    if not ids:
        return {}
    out: dict[uuid.UUID, list[str]] = {}
    stmt = (
        select(col(Photo.id), col(Photo.organization_id), col(Observation.action_item_id))
        .join(Observation, col(Observation.id) == col(Photo.observation_id))
        .where(
            col(Observation.action_item_id).in_(ids),
            col(Observation.moderation) == Moderation.accepted,
        )
        .order_by(col(Photo.created_at), col(Photo.id))
    )
    if not full:
        stmt = stmt.join(Category, col(Category.id) == col(Observation.category_id)).where(
            col(Category.sensitive).is_(False)
        )
    rows = session.execute(stmt).all()
    for pid, org, item_id in rows:
        if item_id is not None:
            out.setdefault(item_id, []).append(signer.url(pid, org, "display"))
    # Fix photos too, signed by the export's signer (the reads' own links live minutes).
    for item_id, links in photo_links(session, ids, signer, of_items=True).items():
        out.setdefault(item_id, []).extend(link.urls.display for link in links if link.urls)
    return out


def csv_delimiter(lang: Language) -> str:
    """The list separator of ``lang``'s spreadsheets: a semicolon where CLDR makes the comma
    the decimal mark (every Nordic language), else a comma."""
    return i18n.csv_delimiter(lang)


def _decimal(value: float, places: int, delimiter: str) -> str:
    # One convention per file: with semicolons every number has a decimal comma (as Excel in
    # Norwegian reads it), with commas a decimal point; never a mix of the two.
    text = f"{value:.{places}f}"
    return text.replace(".", ",") if delimiter == ";" else text


def area_list_csv(
    session: Session,
    listing: dict[str, Any],
    delimiter: str,
    lang: Language,
    signer: PhotoSigner | None = None,
    *,
    full: bool = True,
) -> str:
    """A spreadsheet Excel opens cleanly: UTF-8 with BOM (keeps æøå), CRLF rows, and either
    semicolons with decimal commas (what Nordic Excel expects) or commas with decimal points
    (English). Headers, statuses, departments and category labels in ``lang``; photo links
    signed for days."""
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delimiter, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    writer.writerow([translate(key, lang) for _, key in CSV_COLUMNS])
    items: list[ActionItemRead] = listing["items"]
    labels = {
        c.code: c.label(lang)
        for c in session.scalars(
            select(Category)
            .join(ActionItem, col(ActionItem.category_id) == col(Category.id))
            .where(col(ActionItem.id).in_([r.id for r in items]))
        )
    }
    photos = export_photo_links(session, items, signer, full=full) if signer is not None else {}
    for r in items:
        lon, lat = r.location.coordinates[:2]
        values = {
            **r.model_dump(),
            "priority": _decimal(r.priority, 1, delimiter),
            "category_label": labels.get(r.category, r.category),
            "status": _named("status", str(r.status), lang),
            "department": _named("department", r.department, lang),
            "owner_type": _named("owner", str(r.owner_type), lang),
            "participant_groups": ", ".join(_named("group", g, lang) for g in r.participant_groups),
            "overdue": translate("csv.yes", lang) if r.overdue else translate("csv.no", lang),
            "lat": _decimal(lat, 6, delimiter),
            "lon": _decimal(lon, 6, delimiter),
            "photos": " ".join(photos.get(r.id, [])),
        }
        row = []
        for key, _ in CSV_COLUMNS:
            v = values.get(key)
            if isinstance(v, datetime | date):
                v = v.isoformat()
            row.append(_safe_cell("" if v is None else str(v)))
        writer.writerow(row)
    return "\ufeff" + buf.getvalue()


def _safe_cell(value: str) -> str:
    # A note starting with = + - @ would run as a formula in Excel (CSV injection).
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def nearby_resolved(
    session: Session,
    area_id: uuid.UUID | None,
    lon: float | None,
    lat: float | None,
    radius_m: float,
    *,
    principal: Principal | None = None,
) -> list[tuple[float, ActionItem]]:
    """Resolved items in the walk's area with their distance in metres (0 without a place),
    nearest first when the walker says where they are, else by id.
    Items of sensitive categories only for coordinators and admins: distances from a point
    the caller chooses would locate them."""
    if area_id is None:
        return []
    stmt = select(ActionItem).where(
        col(ActionItem.area_id) == area_id,
        col(ActionItem.status) == str(ActionStatus.resolved),
    )
    if principal is not None and not sensitive.full_detail(principal):
        stmt = stmt.join(Category, col(Category.id) == col(ActionItem.category_id)).where(
            col(Category.sensitive).is_(False)
        )
    items = list(session.scalars(stmt))
    if lon is None or lat is None:
        return sorted(((0.0, i) for i in items), key=lambda t: str(t[1].id))
    located = []
    for i in items:
        p = spatial.from_db(i.location)
        assert p is not None
        d = geodesic_distance_m(lon, lat, p.x, p.y)
        if d <= radius_m:
            located.append((round(d, 3), i))
    return sorted(located, key=lambda t: (t[0], str(t[1].id)))
