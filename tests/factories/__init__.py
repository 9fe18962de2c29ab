"""Small typed factories for tests: ``make_walk(session, org=...)`` and friends."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from shapely.geometry import Polygon
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.auth import organizations
from api.auth.users import create_user
from api.core import spatial
from api.core.db import create_db_engine, make_sessionmaker
from models import Area, Category, Organization, Role, User, Walk, WalkStatus

PASSWORD = "correct horse battery staple"
SANDNES_SQUARE = Polygon([(5.728, 58.848), (5.742, 58.848), (5.742, 58.856), (5.728, 58.856)])


def make_org(session: Session, name: str | None = None) -> Organization:
    name = name or f"Kommune {uuid.uuid4().hex[:6]}"
    return organizations.create_organization(session, name)


def make_user(session: Session, org: Organization, role: Role = Role.admin, **kw: Any) -> User:
    if role == Role.engineer:
        kw.setdefault("department", "lighting")
    email = kw.pop("email", f"{role.value}-{uuid.uuid4().hex[:8]}@example.org")
    return create_user(session, org, email=email, password=PASSWORD, role=role, **kw)


def make_category(session: Session, org: Organization, code: str = "lighting") -> Category:
    cat = session.scalar(
        select(Category).where(Category.organization_id == org.id, Category.code == code)
    )
    assert cat is not None, code
    return cat


def make_area(
    session: Session, org: Organization, name: str = "Sentrum", geometry: Polygon = SANDNES_SQUARE
) -> Area:
    area = Area(organization_id=org.id, name=name, geometry=spatial.to_db(geometry))
    session.add(area)
    session.flush()
    return area


def make_walk(
    session: Session,
    org: Organization,
    *,
    area: Area | None = None,
    status: WalkStatus = WalkStatus.active,
    **kw: Any,
) -> Walk:
    walk = Walk(
        organization_id=org.id,
        title=kw.pop("title", "Evening walk"),
        area_id=area.id if area else None,
        status=status,
        join_code=kw.pop("join_code", uuid.uuid4().hex[:8].upper()),
        **kw,
    )
    session.add(walk)
    session.flush()
    return walk


@contextmanager
def sandnes_walk(
    url: str, org_name: str = "Sandnes"
) -> Iterator[tuple[Session, Organization, Area, Walk]]:
    """A session on the database at `url` (one a live server will use) holding an organization,
    its area and an active walk there; the caller adds the rest and commits."""
    engine = create_db_engine(url)
    try:
        with make_sessionmaker(engine)() as s:
            org = make_org(s, org_name)
            area = make_area(s, org)
            yield s, org, area, make_walk(s, org, area=area)
    finally:
        engine.dispose()
