"""What the public may see: items of published, non-sensitive categories, with title, status,
due date and the date they were done, located to about 50 m. Nothing else is ever read here:
no notes, no photos, no participants, no departments or people."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from api.action_items import features as item_features
from api.core import spatial, tenancy
from api.core.errors import NotFound
from api.core.paging import seek
from geo.generalize import snap
from models import ActionItem, Area, Category, Organization
from models.categories import pick_label

GRID_M = 50.0


@dataclass(frozen=True)
class ItemStatus:
    """What the public is told of any item: what, and where it stands."""

    id: uuid.UUID
    title: str
    category: str
    label_nb: str
    label_en: str
    status: str
    done: bool
    due_date: date | None
    done_date: date | None


def status_fields(item: ActionItem, cat: Category) -> dict[str, Any]:
    """An ``ItemStatus``'s fields for ``item`` of category ``cat``."""
    done = item.status in item_features.DONE
    return {
        "id": item.id,
        "title": item.title,
        "category": cat.code,
        "label_nb": cat.label_nb,
        "label_en": cat.label_en,
        "status": str(item.status),
        "done": done,
        "due_date": item.due_date,
        "done_date": item.resolved_at.date() if done and item.resolved_at else None,
    }


@dataclass(frozen=True)
class PublicItem(ItemStatus):
    area_id: uuid.UUID | None
    area_name: str | None
    lon: float
    lat: float
    updated_at: datetime
    other_labels: Mapping[str, str] | None = None

    def label(self, lang: str) -> str:
        return pick_label(lang, self.label_en, self.label_nb, self.other_labels)


def published_organization(session: Session, slug: str) -> Organization:
    """The organization, if it publishes its follow-up; otherwise 404 (as for no such slug)."""
    with tenancy.lookup(session, "organization"):  # the slug names the organization
        org = session.scalar(select(Organization).where(col(Organization.slug) == slug))
    if org is None or not org.public_followup:
        raise NotFound(key="error.nothing_published")
    tenancy.bind(session, org.id)
    return org


def items(
    session: Session, org: Organization, area_id: uuid.UUID | None = None
) -> list[PublicItem]:
    return items_page(session, org, area_id, None, None)[0]


def items_page(
    session: Session,
    org: Organization,
    area_id: uuid.UUID | None,
    n: int | None,
    cursor: str | None,
) -> tuple[list[PublicItem], str | None]:
    """Oldest first: ``n`` after ``cursor`` (None: all), and the next page's cursor."""
    stmt = (
        select(ActionItem, Category, Area)
        .join(Category, col(Category.id) == col(ActionItem.category_id))
        .outerjoin(Area, col(Area.id) == col(ActionItem.area_id))
        .where(
            col(ActionItem.organization_id) == org.id,
            item_features.public(),
        )
    )
    if area_id is not None:
        stmt = stmt.where(col(ActionItem.area_id) == area_id)
    rows, nxt = seek(
        session,
        stmt,
        [col(ActionItem.created_at), col(ActionItem.id)],
        n,
        cursor,
        key=lambda row: (row[0].created_at, row[0].id),
    )
    out = []
    for item, cat, area in rows:
        p = spatial.from_db(item.location)
        assert p is not None
        lon, lat = snap(p.x, p.y, GRID_M)
        out.append(
            PublicItem(
                **status_fields(item, cat),
                area_id=item.area_id,
                area_name=area.name if area is not None else None,
                lon=lon,
                lat=lat,
                updated_at=item.updated_at,
                other_labels=cat.other_labels,
            )  # fmt: skip
        )
    return out, nxt


def area(session: Session, org: Organization, area_id: uuid.UUID) -> Area:
    a = session.get(Area, area_id)
    if a is None or a.organization_id != org.id:
        raise NotFound(key="error.no_such_area")
    return a


def areas(session: Session, org: Organization) -> list[Area]:
    return list(
        session.scalars(
            select(Area).where(col(Area.organization_id) == org.id).order_by(col(Area.name))
        )
    )


def feature_collection(
    rows: list[PublicItem], lang: str, links: list[dict[str, str]] | None = None
) -> dict[str, Any]:
    return {
        "type": "FeatureCollection",
        **({"links": links} if links else {}),
        "features": [
            {
                "type": "Feature",
                "id": str(r.id),
                "geometry": {"type": "Point", "coordinates": [r.lon, r.lat]},
                "properties": {
                    "title": r.title,
                    "category": r.category,
                    "category_label": r.label(lang),
                    "status": r.status,
                    "done": r.done,
                    "due_date": r.due_date.isoformat() if r.due_date else None,
                    "done_date": r.done_date.isoformat() if r.done_date else None,
                    "area": r.area_name,
                },
            }
            for r in rows
        ],
    }
