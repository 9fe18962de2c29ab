"""Categories: the organization's observation taxonomy, read by every caller, extended by admins."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlmodel import col

from api.core.errors import Conflict, InvalidInput, NotFound
from api.hotspots import rollup as hotspot_rollup
from models import Category
from models.categories import DEFAULT_CATEGORIES, CategoryCreate, CategoryUpdate
from models.organizations import Language

_COLUMNS = (Language.en, Language.nb)  # the labels with columns of their own


def _others(labels: dict[Language, str]) -> dict[str, str] | None:
    others = {lang.value: text for lang, text in labels.items() if lang not in _COLUMNS}
    return others or None


def list_categories(session: Session, org_id: uuid.UUID) -> list[Category]:
    """All of them: a taxonomy is a few dozen rows, and the PWA needs every one offline."""
    stmt = (
        select(Category)
        .where(col(Category.organization_id) == org_id)
        .order_by(col(Category.sort_order), col(Category.code))
    )
    return list(session.scalars(stmt))


def _english_required(labels: object) -> InvalidInput:
    # The field app falls back to English, so every category has an English label.
    loc = ["body", "labels", "en"] if labels is not None else ["body", "label_en"]
    return InvalidInput.at(loc, "error.english_label_required")


def codes(session: Session, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, tuple[str, bool]]:
    """Each category's code and whether it is sensitive."""
    stmt = select(col(Category.id), col(Category.code), col(Category.sensitive))
    rows = session.execute(stmt.where(col(Category.id).in_(set(ids))))
    return {cid: (code, bool(is_sensitive)) for cid, code, is_sensitive in rows}


def _conflict(code: str) -> Conflict:
    return Conflict(key="error.category_code_taken", params={"code": code})


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
    labels = dict(body.labels or {})
    if not (labels.get(Language.en) or body.label_en):
        raise _english_required(body.labels)
    category = Category(
        organization_id=org_id,
        code=body.code,
        label_en=(labels.get(Language.en) or body.label_en or "").strip(),
        label_nb=(labels.get(Language.nb) or body.label_nb or "").strip(),
        other_labels=_others(labels),
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
        raise NotFound(key="error.no_such_category", params={"code": code})
    return category


def update_category(session: Session, category: Category, body: CategoryUpdate) -> Category:
    """Labels, grouping distance, default department and flags; the code never changes."""
    changes = body.model_dump(exclude_unset=True)
    sensitive = changes.get("sensitive", category.sensitive)
    published = changes.get("published", category.published)
    if sensitive and published:
        # Sensitive categories (an experienced incident) are never shown to the public.
        loc = "published" if "published" in changes else "sensitive"
        raise InvalidInput.at(["body", loc], "error.sensitive_not_published")
    if body.labels is not None:
        changes.pop("labels")
        if not body.labels.get(Language.en):
            raise _english_required(body.labels)
        category.label_en = body.labels[Language.en]
        category.label_nb = body.labels.get(Language.nb, "")
        category.other_labels = _others(body.labels)
    was_sensitive = category.sensitive
    for key, value in changes.items():
        setattr(category, key, value.strip() if isinstance(value, str) else value)
    session.flush()
    if category.sensitive != was_sensitive:
        # The default hotspot map counts the category per cell only while it is not sensitive.
        hotspot_rollup.categories_changed(session, category.organization_id)
    return category


def fill_default_labels(session: Session) -> int:
    """Default categories made before their labels came in every language get them, unless an
    admin has already written labels of their own."""
    defaults = {d.code: d for d in DEFAULT_CATEGORIES}
    filled = 0
    stmt = select(Category).where(
        col(Category.code).in_(defaults), col(Category.other_labels).is_(None)
    )
    for category in session.scalars(stmt):
        default = defaults[category.code]
        if category.label_en == default.label_en:
            category.other_labels = default.other_labels
            filled += 1
    session.flush()
    return filled
