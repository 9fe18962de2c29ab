"""Sign-in and the description of the caller."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from api.auth.principal import Principal
from api.auth.security import DUMMY_HASH, staff_session, verify_password
from api.core import tenancy
from api.core.errors import Unauthorized
from api.core.ratelimit import Limits
from api.settings import Settings
from models import Organization, User
from models.organizations import MeRead, MeUpdate, OrganizationRead, TokenResponse


def login(
    session: Session,
    limits: Limits,
    *,
    secret: str,
    settings: Settings,
    email: str,
    password: str,
    client: str,
) -> TokenResponse:
    email = email.strip().lower()
    pair = f"{email}|{client}"
    limits.login_failures_per_client.check(client, "error.too_many_sign_ins")
    limits.login_failures_per_account_client.check(pair, "error.too_many_account_sign_ins")
    with tenancy.lookup(session, "user_account"):  # before sign-in nobody's organization is known
        user = session.scalar(select(User).where(col(User.email) == email))
    if user is not None:
        tenancy.bind(session, user.organization_id)
    ok = verify_password(user.password_hash if user else DUMMY_HASH, password)
    if user is None or not ok or not user.is_active:
        limits.login_failures_per_client.hit(client)
        limits.login_failures_per_account_client.hit(pair)
        raise Unauthorized(key="error.wrong_login")
    return staff_session(user, secret=secret, settings=settings)


def describe(session: Session, principal: Principal) -> MeRead:
    org = session.get(Organization, principal.org_id)
    assert org is not None  # the principal was built from it
    org_read = OrganizationRead.model_validate(org, from_attributes=True)
    if principal.user is not None:
        u = principal.user
        return MeRead(
            kind="staff",
            id=u.id,
            role=str(u.role),
            organization=org_read,
            email=u.email,
            department=u.department,
            display_name=u.display_name,
            language=u.language or org.language,
            own_language=u.language,
        )
    p = principal.participant
    assert p is not None
    return MeRead(
        kind="participant",
        id=p.id,
        role="participant",
        organization=org_read,
        display_name=p.display_name,
        walk_id=p.walk_id,
        group=str(p.group),
        language=org.language,
    )


def set_language(session: Session, principal: Principal, body: MeUpdate) -> MeRead:
    assert principal.user is not None  # the policy admits staff only
    principal.user.language = body.language
    session.flush()
    return describe(session, principal)
