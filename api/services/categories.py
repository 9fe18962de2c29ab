"""Categories: the organization's observation taxonomy, read by every caller, extended by admins."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlmodel import col

from api.errors import Conflict
from models import Category
from models.categories import CategoryCreate


def list_categories(session: Session, org_id: uuid.UUID) -> list[Category]:
    """All of them: a taxonomy is a few dozen rows, and the PWA needs every one offline."""
    stmt = (
        select(Category)
        .where(col(Category.organization_id) == org_id)
        .order_by(col(Category.sort_order), col(Category.code))
    )
    return list(session.scalars(stmt))


def _conflict(code: str) -> Conflict:
    return Conflict(f"the category code {code!r} is already in use in this organization")


def create_category(session: Session, org_id: uuid.UUID, body: CategoryCreate) -> Category:
    taken = session.scalar(
        select(func.count())
        .select_from(Category)
        .where(col(Category.organization_id) == org_id, col(Category.code) == body.code)
    )
    if taken:
        raise _conflict(body.code)
    last = session.scalar(
        select(func.max(col(Category.sort_order))).where(col(Category.organization_id) == org_id)
    )
    category = Category(
        organization_id=org_id,
        code=body.code,
        label_en=body.label_en.strip(),
        label_nb=body.label_nb.strip(),
        default_department=body.default_department,
        group_distance_m=body.group_distance_m,
        actionable=body.actionable,
        sensitive=body.sensitive,
        sort_order=(last if last is not None else -1) + 1,  # new ones come after the defaults
    )
    # Two admins adding the same code at once: the unique constraint decides, in a savepoint
    # so the request's transaction stays usable for the error response.
    try:
        with session.begin_nested():
            session.add(category)
    except IntegrityError as exc:
        raise _conflict(body.code) from exc
    return category
