"""What every output shows of observations: which are shown at all, the property list of an
observation as a feature, and what a caller shown a generalised place does not see.

No participant, no group, no display name ever travels in a feature: planners and integrators
see what, where and when, never who.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, select
from sqlmodel import col

from api.core.features import Property, masked
from api.privacy import sensitive
from models import Category, Observation
from models.observations import HIDDEN as HIDDEN
from models.observations import SHOWN_MODERATION as SHOWN_MODERATION
from models.observations import shown as shown

# What a caller shown a sensitive observation's generalised point does not see.
MASKED = frozenset({"note"})


def located(*where: ColumnElement[bool]) -> Select[Any]:
    """The shown observations that have a place, joined with the Category the property list
    reads."""
    return (
        select(Observation)
        .join(Category, col(Category.id) == col(Observation.category_id))
        .where(col(Observation.location).is_not(None), shown(), *where)
    )


def properties(mask: Any = None) -> tuple[Property, ...]:
    """An observation as a feature (joined with its Category). ``mask``: the rows shown
    generalised to this caller (``api.privacy.sensitive.masked``), whose note is left out.

    The moderation state is both ``moderation`` (its name in the API) and ``status`` (the name
    every collection is filtered by, so GDAL can push ``status = 'accepted'`` down)."""
    props = (
        Property("category", "text", "string", col(Category.code), "Category code"),
        Property("status", "text", "string", col(Observation.moderation), "Moderation state", SHOWN_MODERATION),
        Property("severity", "number", "integer", col(Observation.severity), "Severity 1-3"),
        Property("perceived_safety", "number", "integer", col(Observation.perceived_safety), "Perceived safety 0-3"),
        Property("is_dark", "bool", "boolean", col(Observation.is_dark), "Recorded after dark"),
        Property("recorded_at", "time", "timestamp", col(Observation.recorded_at), "Recorded at"),
        Property("area_id", "uuid", "uuid", col(Observation.area_id), "Area"),
        Property("walk_id", "uuid", "uuid", col(Observation.walk_id), "Walk"),
        Property("action_item_id", "uuid", "uuid", col(Observation.action_item_id), "Action item"),
        Property("moderation", "text", "string", col(Observation.moderation), "Moderation state", SHOWN_MODERATION, queryable=False),
        Property("note", "text", "string", col(Observation.note), "Note"),
    )  # fmt: skip
    if mask is None:
        return props
    return masked(props, MASKED, lambda column: sensitive.shown(mask, column))


NAMES = tuple(p.name for p in properties())
