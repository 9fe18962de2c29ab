"""Staff accounts after creation: admins edit and deactivate them, people change their password.

An inactive account's tokens stop working at once (the account is read at every request), and
a deactivation or password change also bumps ``token_version``, which every staff token carries:
tokens issued before stay dead even if the account is reactivated. The organization always
keeps one active admin.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from api.auth.security import (
    MIN_PASSWORD_LENGTH,
    hash_password,
    staff_session,
    verify_password,
)
from api.core import tenancy
from api.core.errors import Conflict, Forbidden, InvalidInput
from api.core.ratelimit import Limits
from api.settings import Settings
from models import Role, User
from models.organizations import TokenResponse, UserUpdate


def get_user(session: Session, org_id: uuid.UUID, user_id: uuid.UUID) -> User:
    return tenancy.owned(session, User, org_id, user_id, "error.no_such_user")


def _other_active_admins(session: Session, user: User) -> int:
    # FOR UPDATE on PostgreSQL: two admins demoting each other at once are serialized, and the
    # second sees the first's change (SQLite's BEGIN IMMEDIATE serializes writers anyway).
    rows = session.scalars(
        select(col(User.id))
        .where(
            col(User.organization_id) == user.organization_id,
            col(User.role) == Role.admin,
            col(User.is_active).is_(True),
        )
        .with_for_update()
    ).all()
    return sum(1 for uid in rows if uid != user.id)


def update_user(session: Session, user: User, body: UserUpdate) -> User:
    data = body.model_dump(exclude_unset=True)
    for field in ("role", "active"):
        if field in data and data[field] is None:
            raise InvalidInput.at(["body", field], "error.not_null")
    role: Role = data.get("role", user.role)
    active: bool = data.get("active", user.is_active)
    department = user.department
    if "department" in data:
        department = (data["department"] or "").strip() or None
    if role == Role.engineer and not department:
        raise InvalidInput.at(["body", "department"], "error.engineer_needs_department")
    loses_admin = user.role == Role.admin and user.is_active and (role != Role.admin or not active)
    if loses_admin and _other_active_admins(session, user) == 0:
        raise Conflict(
            key="error.last_admin",
        )
    if user.is_active and not active:
        user.token_version += 1  # its tokens stay dead, even after a reactivation
    user.role = role
    user.is_active = active
    user.department = department
    if "display_name" in data:
        user.display_name = (data["display_name"] or "").strip() or None
    session.flush()
    return user


def change_password(
    session: Session,
    limits: Limits,
    user: User,
    *,
    current_password: str,
    new_password: str,
    secret: str,
    settings: Settings,
) -> TokenResponse:
    """Check the current password, set the new one, revoke older tokens, return a fresh one."""
    # Only the signed-in account itself can fail here, so keying on the account cannot lock
    # anyone else out (merging the per-(account, address) limits).
    key = f"{user.email}|password-change"
    limits.login_failures_per_account_client.check(key, "error.too_many_password_checks")
    if not verify_password(user.password_hash, current_password):
        limits.login_failures_per_account_client.hit(key)
        raise Forbidden(
            errors=[{"loc": ["body", "current_password"], "key": "error.password_wrong_field"}],
            key="error.wrong_password",
        )
    if len(new_password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput.at(
            ["body", "new_password"], "error.password_too_short", min_length=MIN_PASSWORD_LENGTH
        )
    if new_password == current_password:
        raise InvalidInput.at(["body", "new_password"], "error.password_unchanged")
    user.password_hash = hash_password(new_password)
    user.token_version += 1  # every token issued before, on every device, stops working
    session.flush()
    return staff_session(user, secret=secret, settings=settings)
