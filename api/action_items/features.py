"""What every output shows of action items: which statuses count as open, done or hidden (the
sets are written beside the table, in ``models/action_items.py``, where the lower domains read
them too), the property list of an item as a feature, and what the public may see.

Maps, OGC API collections, vector tiles, exports, Open311 and the public pages read these; a
format never writes its own list.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, select
from sqlmodel import col

from api.core import dialect
from api.core.features import Property
from models import OPEN_STATUSES as OPEN_STATUSES
from models import ActionItem, Category
from models.action_items import DONE as DONE
from models.action_items import HIDDEN as HIDDEN
from models.action_items import HIDDEN_STATUSES as HIDDEN_STATUSES
from models.action_items import OPEN as OPEN
from models.action_items import SHOWN_STATUSES as SHOWN_STATUSES
from models.action_items import is_open as is_open
from models.action_items import is_overdue as is_overdue
from models.action_items import overdue as overdue
from models.action_items import shown as shown


def public() -> ColumnElement[bool]:
    """What the public may see (joined with its Category): items of published categories,
    never of a sensitive one, never a hidden item."""
    return and_(col(Category.published).is_(True), col(Category.sensitive).is_(False), shown())


def priority() -> Any:
    return func.coalesce(col(ActionItem.priority_override), col(ActionItem.priority_score))


def listed(*where: ColumnElement[bool]) -> Select[Any]:
    """The items every output lists (not hidden), joined with the Category the property list
    reads."""
    return (
        select(ActionItem)
        .join(Category, col(Category.id) == col(ActionItem.category_id))
        .where(shown(), *where)
    )


def properties() -> tuple[Property, ...]:
    """An item as a feature (joined with its Category). No notes, no photos, no participant:
    those are read per item by those who may see them."""
    due = dialect.date_text(col(ActionItem.due_date))
    return (
        Property("title", "text", "string", col(ActionItem.title), "Title"),
        Property("category", "text", "string", col(Category.code), "Category code"),
        Property("status", "text", "string", col(ActionItem.status), "Status", SHOWN_STATUSES),
        Property("priority", "number", "number", priority(), "Priority 0-100"),
        Property("observation_count", "number", "integer", col(ActionItem.observation_count), "Observations"),
        Property("department", "text", "string", col(ActionItem.department), "Department"),
        Property("due_date", "text", "date", due, "Due date", queryable=False),
        Property("overdue", "bool", "boolean", overdue(), "Overdue", queryable=False),
        Property("area_id", "uuid", "uuid", col(ActionItem.area_id), "Area"),
        Property("created_at", "time", "timestamp", col(ActionItem.created_at), "Created at"),
        Property("last_seen_at", "time", "timestamp", col(ActionItem.last_seen_at), "Last observed at"),
    )  # fmt: skip


NAMES = tuple(p.name for p in properties())
