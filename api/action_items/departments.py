"""The organization's departments: the codes its categories route items to and its staff work
in, plus any an admin has named, each with a label per language. Items may only be given one
of these, so a typed name never becomes a department nobody owns."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from api.core.errors import InvalidInput
from api.core.i18n import has, translate
from models import Category, User
from models.departments import Department, DepartmentRead
from models.organizations import LANGUAGES, Language


def codes(session: Session, org_id: uuid.UUID) -> set[str]:
    """Every department code the organization has."""
    found: set[str] = set()
    for stmt in (
        select(col(Category.default_department)).where(col(Category.organization_id) == org_id),
        select(col(User.department)).where(col(User.organization_id) == org_id),
        select(col(Department.code)).where(col(Department.organization_id) == org_id),
    ):
        found.update(c for c in session.scalars(stmt.distinct()) if c)
    return found


def _labels(code: str, own: dict[str, str] | None) -> dict[str, str]:
    """The admin's labels, else the catalogue's for the codes every organization starts with."""
    key = f"department.{code}"
    known = {lang.value: translate(key, lang) for lang in LANGUAGES} if has(key) else {}
    return {
        lang.value: text
        for lang in LANGUAGES
        if (text := (own or {}).get(lang.value) or known.get(lang.value))
    }


def read(code: str, own: dict[str, str] | None, lang: Language) -> DepartmentRead:
    labels = _labels(code, own)
    return DepartmentRead(
        code=code,
        label=labels.get(lang.value) or labels.get(Language.en.value) or code,
        labels=labels,
        missing_labels=[lang.value for lang in LANGUAGES if lang.value not in labels],
    )


def list_departments(session: Session, org_id: uuid.UUID, lang: Language) -> list[DepartmentRead]:
    """By label in ``lang``: a short list a person picks from."""
    own = dict(
        session.execute(
            select(col(Department.code), col(Department.labels)).where(
                col(Department.organization_id) == org_id
            )
        ).all()
    )
    rows = [read(code, own.get(code), lang) for code in codes(session, org_id)]
    return sorted(rows, key=lambda d: (d.label.casefold(), d.code))


def set_labels(
    session: Session, org_id: uuid.UUID, code: str, labels: dict[Language, str], lang: Language
) -> DepartmentRead:
    """An admin's labels for ``code``; naming a code the organization does not have yet adds it."""
    row = session.scalar(
        select(Department).where(
            col(Department.organization_id) == org_id, col(Department.code) == code
        )
    )
    if row is None:
        row = Department(organization_id=org_id, code=code)
        session.add(row)
    row.labels = {k.value: v for k, v in labels.items()} or None
    session.flush()
    return read(code, row.labels, lang)


def check(session: Session, org_id: uuid.UUID, value: str | None, loc: Sequence[str | int]) -> None:
    """``value`` is a department of the organization (or none at all)."""
    if value is None or value in codes(session, org_id):
        return
    raise InvalidInput(key="error.unknown_department", params={"code": value}, loc=loc)
