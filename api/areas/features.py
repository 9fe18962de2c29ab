"""An area as a feature, with the counts a choropleth needs: its shown observations, open
and overdue items (by the status rules beside the observation and item tables)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlmodel import col

from api.core.features import Property
from models import ActionItem, Area, Observation, observations
from models import action_items as items


def _count(*where: Any) -> Any:
    return select(func.count()).where(*where).scalar_subquery()


def properties() -> tuple[Property, ...]:
    here = col(ActionItem.area_id) == col(Area.id)
    return (
        Property("name", "text", "string", col(Area.name), "Name"),
        Property("code", "text", "string", col(Area.code), "Code"),
        Property("kind", "text", "string", col(Area.kind), "Kind"),
        Property("parent_id", "uuid", "uuid", col(Area.parent_id), "Parent area"),
        Property("observation_count", "number", "integer",
                 _count(col(Observation.area_id) == col(Area.id), observations.shown()),
                 "Observations", queryable=False),
        Property("open_items", "number", "integer", _count(here, items.is_open()),
                 "Open action items", queryable=False),
        Property("overdue_items", "number", "integer", _count(here, items.overdue()),
                 "Overdue action items", queryable=False),
    )  # fmt: skip
