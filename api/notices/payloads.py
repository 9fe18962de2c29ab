"""What a webhook says about an item, an observation or a walk.

Integrators are treated like staff who are not coordinators: never who reported anything (no
participant, no group), and an observation or item of a sensitive category only at its
generalised place, without its note (api/privacy/sensitive.py).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from api.core import spatial
from geo.sensitive import general_point
from models import ActionItem, Category, Observation, Walk


def _when(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _point(value: Any, sensitive: bool) -> dict[str, Any] | None:
    geom = spatial.from_db(value)
    if geom is None:
        return None
    if sensitive:
        geom = general_point(geom)
    return {"type": "Point", "coordinates": [round(geom.x, 6), round(geom.y, 6)]}


def _category(session: Session, category_id: Any) -> Category | None:
    return session.get(Category, category_id)


def item_data(session: Session, item: ActionItem) -> dict[str, Any]:
    cat = _category(session, item.category_id)
    sensitive = bool(cat is not None and cat.sensitive)
    priority = item.priority_override if item.priority_override is not None else item.priority_score
    return {
        "id": str(item.id),
        "title": item.title,
        "status": str(item.status),
        "category": cat.code if cat is not None else None,
        "department": item.department,
        "area_id": str(item.area_id) if item.area_id else None,
        "assignee_id": str(item.assignee_id) if item.assignee_id else None,
        "priority": priority,
        "due_date": _when(item.due_date),
        "observation_count": item.observation_count,
        "location": _point(item.location, sensitive),
        "created_at": _when(item.created_at),
        "updated_at": _when(item.updated_at),
        "resolved_at": _when(item.resolved_at),
    }


def observation_data(session: Session, obs: Observation) -> dict[str, Any]:
    cat = _category(session, obs.category_id)
    sensitive = bool(cat is not None and cat.sensitive)
    return {
        "id": str(obs.id),
        "walk_id": str(obs.walk_id) if obs.walk_id else None,
        "category": cat.code if cat is not None else None,
        "severity": obs.severity,
        "perceived_safety": obs.perceived_safety,
        "note": None if sensitive else obs.note,
        "location": _point(obs.location, sensitive),
        "area_id": str(obs.area_id) if obs.area_id else None,
        "action_item_id": str(obs.action_item_id) if obs.action_item_id else None,
        "moderation": str(obs.moderation),
        "recorded_at": _when(obs.recorded_at),
        "received_at": _when(obs.received_at),
    }


def walk_data(walk: Walk) -> dict[str, Any]:
    return {
        "id": str(walk.id),
        "title": walk.title,
        "area_id": str(walk.area_id) if walk.area_id else None,
        "status": str(walk.status),
        "starts_at": _when(walk.starts_at),
        "ends_at": _when(walk.ends_at),
        "is_dark": walk.is_dark,
        "updated_at": _when(walk.updated_at),
    }
