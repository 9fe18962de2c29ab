"""Categories: the organization's observation taxonomy, read by every caller, extended by admins."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlmodel import col

from api.core.errors import Conflict, InvalidInput, NotFound
from models import Category
from models.categories import CategoryCreate, CategoryUpdate


def list_categories(session: Session, org_id: uuid.UUID) -> list[Category]:
    """All of them: a taxonomy is a few dozen rows, and the PWA needs every one offline."""
    stmt = (
        select(Category)
        .where(col(Category.organization_id) == org_id)
        .order_by(col(Category.sort_order), col(Category.code))
    )
    return list(session.scalars(stmt))


def codes(session: Session, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, tuple[str, bool]]:
    """Each category's code and whether it is sensitive."""
    stmt = select(col(Category.id), col(Category.code), col(Category.sensitive))
    rows = session.execute(stmt.where(col(Category.id).in_(set(ids))))
    return {cid: (code, bool(is_sensitive)) for cid, code, is_sensitive in rows}


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
        published=body.published if body.published is not None else not body.sensitive,
        sort_order=(last if last is not None else -1) + 1,  # new ones come after the defaults
        asset_kind=body.asset_kind,
        asset_snap_m=body.asset_snap_m,
    )
    # Two admins adding the same code at once: the unique constraint decides, in a savepoint
    # so the request's transaction stays usable for the error response.
    try:
        with session.begin_nested():
            session.add(category)
    except IntegrityError as exc:
        raise _conflict(body.code) from exc
    return category


def get_by_code(session: Session, org_id: uuid.UUID, code: str) -> Category:
    category = session.scalar(
        select(Category).where(col(Category.organization_id) == org_id, col(Category.code) == code)
    )
    if category is None:
        raise NotFound(f"no category {code!r} in this organization")
    return category


def update_category(session: Session, category: Category, body: CategoryUpdate) -> Category:
    """Labels, grouping distance, default department and flags; the code never changes."""
    changes = body.model_dump(exclude_unset=True)
    sensitive = changes.get("sensitive", category.sensitive)
    published = changes.get("published", category.published)
    if sensitive and published:
        # Sensitive categories (an experienced incident) are never shown to the public.
        loc = "published" if "published" in changes else "sensitive"
        raise InvalidInput.at(["body", loc], "a sensitive category cannot be published")
    for key, value in changes.items():
        setattr(category, key, value.strip() if isinstance(value, str) else value)
    session.flush()
    return category
