"""Staff accounts."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlmodel import col

from api.auth.security import MIN_PASSWORD_LENGTH, hash_password
from api.core import tenancy
from api.core.errors import Conflict, InvalidInput
from api.core.paging import decode_cursor, encode_cursor
from models import Organization, Role, User
from models.organizations import UserCreate


def normalize_email(email: str) -> str:
    email = email.strip().lower()
    if "@" not in email or email.startswith("@") or email.endswith("@") or " " in email:
        raise InvalidInput.at(["body", "email"], "error.not_email")
    return email


def create_user(
    session: Session,
    org: Organization,
    *,
    email: str,
    password: str,
    role: Role,
    department: str | None = None,
    display_name: str | None = None,
) -> User:
    email = normalize_email(email)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput.at(
            ["body", "password"], "error.password_too_short", min_length=MIN_PASSWORD_LENGTH
        )
    if role == Role.engineer and not department:
        raise InvalidInput.at(["body", "department"], "error.engineer_needs_department")
    with tenancy.lookup(session, "user_account"):  # an email signs in to one organization
        taken = session.scalar(
            select(func.count()).select_from(User).where(col(User.email) == email)
        )
    if taken:
        raise Conflict(key="error.email_taken", params={"email": email})
    user = User(
        organization_id=org.id,
        email=email,
        password_hash=hash_password(password),
        role=role,
        department=department,
        display_name=display_name,
    )
    session.add(user)
    session.flush()
    return user


def create_user_in(session: Session, org_id: uuid.UUID, body: UserCreate) -> User:
    org = session.get(Organization, org_id)
    assert org is not None
    return create_user(
        session,
        org,
        email=body.email,
        password=body.password,
        role=body.role,
        department=body.department,
        display_name=body.display_name,
    )


def list_users(
    session: Session, org_id: uuid.UUID, *, n: int, cursor: str | None
) -> tuple[list[User], str | None]:
    stmt = select(User).where(col(User.organization_id) == org_id)
    after = decode_cursor(cursor, 1)
    if after is not None:
        stmt = stmt.where(col(User.email) > str(after[0]))
    rows = list(session.scalars(stmt.order_by(col(User.email)).limit(n + 1)))
    more = len(rows) > n
    rows = rows[:n]
    return rows, encode_cursor([rows[-1].email]) if more and rows else None
