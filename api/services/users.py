"""Staff accounts."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlmodel import col

from api.errors import Conflict, InvalidInput
from api.security import MIN_PASSWORD_LENGTH, hash_password
from models import Organization, Role, User


def normalize_email(email: str) -> str:
    email = email.strip().lower()
    if "@" not in email or email.startswith("@") or email.endswith("@") or " " in email:
        raise InvalidInput.at(["body", "email"], "not an email address")
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
        raise InvalidInput.at(["body", "password"], f"at least {MIN_PASSWORD_LENGTH} characters")
    if role == Role.engineer and not department:
        raise InvalidInput.at(["body", "department"], "an engineer needs a department")
    taken = session.scalar(select(func.count()).select_from(User).where(col(User.email) == email))
    if taken:
        raise Conflict(f"the email {email} is already in use")
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
