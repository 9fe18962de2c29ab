"""Input that makes sense: where an observation may be, and when it waits for a coordinator.

- A point far from its walk (its area or planned route) is refused, and when exchanging the two
  numbers would put it on the walk, the message says the coordinates look swapped.
- A point outside every area of the organization is kept but held for review (``submitted``,
  not grouped), as is every observation of an organization that chose pre-moderation.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from shapely.geometry.base import BaseGeometry
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from api.core import spatial
from api.core.errors import InvalidInput
from geo.nearness import Fence, swapped
from models import Area, Category, Moderation, ModerationReason, Observation, Organization, Walk
from models.organizations import ModerationMode

DEFAULT_WALK_MAX_DISTANCE_M = 2000.0


class WalkFences:
    """Each walk's fence built once (a batch of 500 observations reads its walk's area once)."""

    def __init__(self) -> None:
        self._fences: dict[uuid.UUID, Fence | None] = {}

    def of(self, session: Session, walk: Walk) -> Fence | None:
        if walk.id not in self._fences:
            self._fences[walk.id] = Fence.around(walk_shapes(session, walk))
        return self._fences[walk.id]


def walk_shapes(session: Session, walk: Walk) -> list[BaseGeometry]:
    """The walk's area and planned route, whichever it has."""
    shapes: list[BaseGeometry] = []
    if walk.area_id is not None:
        area = session.get(Area, walk.area_id)
        geom = spatial.from_db(area.geometry) if area is not None else None
        if geom is not None:
            shapes.append(geom)
    route = spatial.from_db(walk.route)
    if route is not None:
        shapes.append(route)
    return shapes


def _fmt(lon: float, lat: float) -> str:
    return f"[{lon:.6g}, {lat:.6g}]"


def _invalid(loc: Sequence[str | int], key: str, **params: Any) -> InvalidInput:
    """A 422 naming ``loc``, in the caller's language."""
    return InvalidInput(key=key, params=params, loc=loc)


def check_near_walk(
    session: Session,
    walk: Walk,
    point: BaseGeometry,
    *,
    max_distance_m: float,
    loc: Sequence[str | int],
    fences: WalkFences | None = None,
) -> None:
    """Refuse a point farther than ``max_distance_m`` from the walk's area or route.

    A walk with neither has nothing to compare with and is not checked.
    """
    fence = (fences or WalkFences()).of(session, walk)
    if fence is None:
        return
    d = fence.distance_m(point.x, point.y)
    if d <= max_distance_m:
        return
    where = [*loc, "location"]
    alt = swapped(point.x, point.y)
    if alt is not None:
        if fence.distance_m(alt[0], alt[1]) <= max_distance_m:
            raise _invalid(
                where,
                "error.location_swapped",
                given=_fmt(point.x, point.y),
                km=float(round(d / 1000)),
                swapped=_fmt(*alt),
            )
    raise _invalid(
        where, "error.location_far", km=round(d / 1000, 1), max_m=float(round(max_distance_m))
    )


def _has_areas(session: Session, org_id: uuid.UUID) -> bool:
    return (
        session.scalar(select(col(Area.id)).where(col(Area.organization_id) == org_id).limit(1))
        is not None
    )


def hold_reason(session: Session, obs: Observation) -> ModerationReason | None:
    """Why a new (or newly placed) observation must wait for review, or None.

    An organization that has drawn no areas yet has nothing to be outside of: holding all its
    observations would only empty its action list.
    """
    org = session.get(Organization, obs.organization_id)
    if org is not None and org.moderation_mode == ModerationMode.pre:
        return ModerationReason.pre_moderation
    if (
        obs.location is not None
        and obs.area_id is None
        and _has_areas(session, obs.organization_id)
    ):
        return ModerationReason.outside_areas
    return None


def hold_if_needed(session: Session, obs: Observation) -> None:
    """Set an accepted observation to ``submitted`` when it must wait for review."""
    if obs.moderation != Moderation.accepted:
        return
    reason = hold_reason(session, obs)
    if reason is not None:
        obs.set_moderation(Moderation.submitted, reason)


def unknown_category(
    code: str, categories: Mapping[str, Category], loc: Sequence[str | int]
) -> InvalidInput:
    """The 422 for an unknown category code, listing the valid ones."""
    return _invalid(loc, "error.unknown_category", code=code, valid=", ".join(sorted(categories)))
