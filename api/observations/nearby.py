""" "Is this already reported?": open action items of a category near a point, nearest first.

The spatial index narrows the search to a box around the circle (``api.core.dialect.bbox_filter``,
on both databases); the few candidates are then measured along the ellipsoid.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlmodel import col

from api.action_items import features as item_features
from api.auth.principal import Principal
from api.core import dialect
from api.observations.plausibility import unknown_category
from api.observations.service import _categories
from geo.projection import geodesic_distance_m
from geo.units import bbox_around
from models import ActionItem, Category
from models.observations import NearbyItem

MAX_RADIUS_M = 250.0
DEFAULT_RADIUS_M = 50.0
MAX_ITEMS = 20  # a page: the nearest few are the answer to "already reported?"


def nearby_items(
    session: Session,
    principal: Principal,
    *,
    lon: float,
    lat: float,
    radius_m: float,
    category: str | None,
) -> list[NearbyItem]:
    cats = _categories(session, principal.org_id)
    cat: Category | None = None
    if category is not None:
        cat = cats.get(category)
        if cat is None:
            raise unknown_category(category, cats, ["query", "category"])
    box = bbox_around(lon, lat, radius_m * 1.01)
    stmt = select(
        ActionItem,
        func.ST_X(ActionItem.location),
        func.ST_Y(ActionItem.location),
    ).where(
        col(ActionItem.organization_id) == principal.org_id,
        item_features.is_open(),
        dialect.bbox_filter(session, "action_item", ActionItem.location, box),
    )
    if cat is not None:
        stmt = stmt.where(col(ActionItem.category_id) == cat.id)
    # Never items of sensitive categories: "is it already reported here?" would place them.
    hidden = [c.id for c in cats.values() if c.sensitive]
    if hidden:
        stmt = stmt.where(col(ActionItem.category_id).notin_(hidden))
    codes = {c.id: c.code for c in cats.values()}
    found: list[NearbyItem] = []
    for item, x, y in session.execute(stmt).all():
        d = geodesic_distance_m(lon, lat, float(x), float(y))
        if d <= radius_m:
            found.append(
                NearbyItem(
                    id=item.id,
                    title=item.title,
                    status=str(item.status),
                    category=codes.get(item.category_id, "?"),
                    distance_m=round(d, 1),
                    observation_count=item.observation_count,
                )
            )
    found.sort(key=nearness)
    return found


def nearness(item: NearbyItem) -> tuple[float, str]:
    """The order of the answer, nearest first (and its cursor, api/paging.py)."""
    return (item.distance_m, str(item.id))
