"""The organization's departments: the codes items are routed to, with labels admins may set.

A department exists because the organization uses it (a category's default department, a
staff member's department) or because an admin named it; this table holds only what an admin
wrote (its labels), so that a department is never created by typing it into an item."""

from __future__ import annotations

import uuid
from typing import Annotated

from pydantic import ConfigDict, StringConstraints
from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.base import new_id
from models.organizations import Language

DepartmentLabel = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)
]


class Department(SQLModel, table=True):
    __tablename__ = "department"
    __table_args__ = (UniqueConstraint("organization_id", "code"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    organization_id: uuid.UUID = Field(
        foreign_key="organization.id", index=True, ondelete="CASCADE"
    )
    code: str = Field(max_length=64)
    # By language code; a language without one falls back to the catalogue, then English.
    labels: dict[str, str] | None = Field(
        default=None, sa_column=Column(JSON(none_as_null=True), nullable=True)
    )


class DepartmentUpdate(SQLModel):
    """Every label the department has: a language left out goes back to the catalogue's."""

    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    labels: dict[Language, DepartmentLabel]


class DepartmentRead(SQLModel):
    code: str
    # In the caller's language.
    label: str
    # By language; the languages without a label are in missing_labels.
    labels: dict[str, str]
    missing_labels: list[str]
