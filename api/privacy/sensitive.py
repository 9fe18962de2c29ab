"""Sensitive places: the one rule for who sees an observation of a sensitive category
(an ``incident``, say) as it was made, and how everyone else sees it.

- Coordinators and admins see everything (personal access tokens carry their owner's role).
- Everyone else (engineers, planners, participants) sees such an observation generalised:
  at the centre of its H3 resolution-8 cell (``geo.sensitive.generalise``, about 500 m), with
  no note, no accuracy, no moderation reason and no photos. A participant sees their own
  observations in full.
- Participants never see who made the other observations of their walk (not even the group).
- Public outputs (``/public``, Open311) never show a sensitive category at all; they filter on
  ``Category.sensitive`` / ``published`` themselves.
- Items of the action list in a sensitive category (an admin may make one actionable) are shown
  at the generalised point of their location, without a footprint. Feeds that answer a spatial
  question (a bbox, a CQL2 spatial filter, a vector tile) leave such items out for those
  callers: their generalised point is not stored, and an answer about the true point would
  locate it.

Filters must not locate the true point either: a bbox or spatial filter asked by a caller who
sees the generalised point is answered with the generalised point (``shown_location``), found
through the true location's spatial index with a box grown by ``MAX_SHIFT_M``.

The flag is read at query time, so turning a category sensitive (or not) takes effect at once;
``Observation.location_general`` is kept for every located observation for that reason.

No FastAPI here: plain functions over a ``Principal`` and SQL expressions.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry
from sqlalchemy import (
    ColumnElement,
    and_,
    bindparam,
    case,
    func,
    literal,
    null,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session
from sqlmodel import col

from api.auth.policy import ADMIN, COORDINATOR
from api.auth.principal import Principal
from api.core import dialect
from geo.sensitive import general_point, generalise
from geo.units import METRES_PER_DEGREE
from models import ActionItem, Category, Observation
from models.base import SRID
from models.geojson import PointGeometry

#: Roles that see sensitive observations as they were made.
FULL_DETAIL_ROLES = frozenset({ADMIN, COORDINATOR})
#: More than the farthest a resolution-8 cell centre lies from a point of the cell (about
#: 0.55 km at most): a box grown by this holds every true point whose generalised one is inside.
MAX_SHIFT_M = 1500.0

__all__ = [
    "FULL_DETAIL_ROLES",
    "MAX_SHIFT_M",
    "backfill_general_locations",
    "fill_general_locations",
    "full_detail",
    "general_point",
    "general_point_geojson",
    "masked",
    "shown",
    "shown_location",
    "widen",
]


def full_detail(principal: Principal) -> bool:
    """Whether the caller sees every sensitive observation as it was made."""
    return principal.user is not None and principal.role in FULL_DETAIL_ROLES


def general_point_geojson(geom: BaseGeometry) -> PointGeometry:
    p = general_point(geom)
    return PointGeometry(type="Point", coordinates=[p.x, p.y])


def observation_hidden_from(
    principal: Principal, *, sensitive: bool, participant_id: uuid.UUID | None
) -> bool:
    """Whether this caller sees this observation generalised (Python side of ``masked``)."""
    if not sensitive or full_detail(principal):
        return False
    if principal.participant is not None:
        return participant_id is None or participant_id != principal.participant.id
    return True


def masked(principal: Principal) -> ColumnElement[bool] | None:
    """Per row of observation joined to its category: whether it is shown generalised.
    None when the caller sees every row in full (no CASE in the SQL at all)."""
    if full_detail(principal):
        return None
    sensitive = col(Category.sensitive).is_(True)
    if principal.participant is not None:
        pid = principal.participant.id
        return and_(
            sensitive,
            or_(col(Observation.participant_id).is_(None), col(Observation.participant_id) != pid),
        )
    return sensitive


def shown_location(mask: ColumnElement[bool] | None) -> Any:
    """The observation's location as this caller sees it."""
    if mask is None:
        return Observation.location
    return case((mask, Observation.location_general), else_=Observation.location)


def shown(mask: ColumnElement[bool] | None, column: Any) -> Any:
    """``column``, or NULL where the row is shown generalised (notes, accuracy, reasons)."""
    if mask is None:
        return column
    return case((mask, null()), else_=column)


def widen(bbox: tuple[float, ...]) -> tuple[float, float, float, float]:
    """``bbox`` grown by ``MAX_SHIFT_M`` on every side (longitude at its widest latitude)."""
    minx, miny, maxx, maxy = (float(v) for v in bbox[:4])
    dlat = MAX_SHIFT_M / METRES_PER_DEGREE
    widest = min(89.0, max(abs(miny), abs(maxy)) + dlat)
    dlon = dlat / max(0.01, math.cos(math.radians(widest)))
    return (
        max(-180.0, minx - dlon),
        max(-90.0, miny - dlat),
        min(180.0, maxx + dlon),
        min(90.0, maxy + dlat),
    )


def bbox_condition(
    session: Session, mask: ColumnElement[bool] | None, bbox: tuple[float, ...]
) -> ColumnElement[bool]:
    """Observations in ``bbox`` as the caller sees them (the index on the true location first)."""
    box = (bbox[0], bbox[1], bbox[2], bbox[3])
    if mask is None:
        return dialect.bbox_filter(session, "observation", Observation.location, box)
    return dialect.bbox_filter_shown(
        session, "observation", Observation.location, box, shown_location(mask), widen(box),
        general=Observation.location_general,
    )  # fmt: skip


# --- keeping location_general --------------------------------------------------------------


def backfill_general_locations(session: Session, *, batch: int = 2000) -> int:
    """Fill ``location_general`` where it is missing (rows from before the column). Idempotent;
    returns how many rows it filled. ``safewalk migrate`` commits batch by batch instead
    (``fill_general_locations``), so a large table is never one long transaction."""
    done = 0
    while n := fill_general_locations(session, batch=batch):
        done += n
    return done


def fill_general_locations(session: Session, *, batch: int = 2000) -> int:
    """Fill one batch of missing ``location_general``; 0 when none is left."""
    rows = session.execute(
        select(
            col(Observation.id),
            func.ST_X(Observation.location),
            func.ST_Y(Observation.location),
        )
        .where(
            col(Observation.location).is_not(None),
            col(Observation.location_general).is_(None),
        )
        .limit(batch)
    ).all()
    if not rows:
        return 0
    stmt = (
        update(Observation)
        .where(col(Observation.id) == bindparam("oid", type_=Observation.__table__.c.id.type))  # type: ignore[attr-defined]
        .values(location_general=func.ST_GeomFromText(bindparam("wkt"), SRID))
        .execution_options(synchronize_session=False)
    )
    params = [
        {"oid": oid, "wkt": general_point(Point(float(x), float(y))).wkt} for oid, x, y in rows
    ]
    session.connection().execute(stmt, params)
    session.flush()
    return len(rows)


def sensitive_category_ids(session: Session, ids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
    wanted = set(ids)
    if not wanted:
        return set()
    return set(
        session.scalars(
            select(col(Category.id)).where(
                col(Category.id).in_(wanted), col(Category.sensitive).is_(True)
            )
        )
    )


# --- items of the action list in sensitive categories ---------------------------------------

#: Items of sensitive categories whose generalised points are put into one query; past this
#: they are left out of that caller's item feeds instead (an organisation making an
#: ``incident`` category actionable has a few, not thousands).
MAX_GENERALISED_ITEMS = 1000


def _general_items(
    session: Session, principal: Principal
) -> list[tuple[uuid.UUID, float, float]] | None:
    """(id, lon, lat) of the generalised points of the organisation's items of sensitive
    categories, or None when there are too many to name in one query."""
    rows = session.execute(
        select(col(ActionItem.id), func.ST_X(ActionItem.location), func.ST_Y(ActionItem.location))
        .join(Category, col(Category.id) == col(ActionItem.category_id))
        .where(
            col(ActionItem.organization_id) == principal.org_id,
            col(Category.sensitive).is_(True),
            col(ActionItem.location).is_not(None),
        )
        .limit(MAX_GENERALISED_ITEMS + 1)
    ).all()
    if len(rows) > MAX_GENERALISED_ITEMS:
        return None
    out = []
    for item_id, x, y in rows:
        lon, lat = generalise(float(x), float(y))
        out.append((item_id, lon, lat))
    return out


@dataclass(frozen=True)
class ItemView:
    """How one caller sees item locations: ``location`` is the SQL expression to show and to
    filter on; ``exclude`` (when set) is a condition that leaves items out instead."""

    location: Any
    exclude: ColumnElement[bool] | None = None


def item_view(session: Session, principal: Principal) -> ItemView:
    """Item locations as this caller sees them. The generalised points of sensitive items are
    computed here (H3 is not in either database) and named in the query by item id: the
    flag is read now, so a toggled category takes effect at once."""
    if full_detail(principal):
        return ItemView(ActionItem.location)
    found = _general_items(session, principal)
    if found is None:
        return ItemView(ActionItem.location, exclude=col(Category.sensitive).is_(True))
    if not found:
        return ItemView(ActionItem.location)
    whens = [
        (col(ActionItem.id) == item_id, func.ST_GeomFromText(literal(f"POINT({lon} {lat})"), SRID))
        for item_id, lon, lat in found
    ]
    return ItemView(case(*whens, else_=ActionItem.location))


def item_bbox_condition(
    session: Session, view: ItemView, bbox: tuple[float, ...]
) -> ColumnElement[bool]:
    box = (bbox[0], bbox[1], bbox[2], bbox[3])
    if view.location is ActionItem.location:
        return dialect.bbox_filter(session, "action_item", ActionItem.location, box)
    return dialect.bbox_filter_shown(
        session, "action_item", ActionItem.location, box, view.location, widen(box)
    )
