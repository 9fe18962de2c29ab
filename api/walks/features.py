"""A walk as a feature: its planned route and when it runs, never its participants."""

from __future__ import annotations

from sqlmodel import col

from api.core.features import Property
from models import Walk


def properties() -> tuple[Property, ...]:
    return (
        Property("title", "text", "string", col(Walk.title), "Title"),
        Property("status", "text", "string", col(Walk.status), "Status"),
        Property("area_id", "uuid", "uuid", col(Walk.area_id), "Area"),
        Property("starts_at", "time", "timestamp", col(Walk.starts_at), "Starts at"),
        Property("ends_at", "time", "timestamp", col(Walk.ends_at), "Ends at"),
        Property("is_dark", "bool", "boolean", col(Walk.is_dark), "After dark"),
    )  # fmt: skip
