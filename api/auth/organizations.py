"""Organizations: creation with the default taxonomy, lookup by slug."""

from __future__ import annotations

import re
import unicodedata
import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from api.core import tenancy
from api.core.errors import Conflict, NotFound
from models import DEFAULT_CATEGORIES, Category, Organization
from models.assets import DEFAULT_ASSET_KINDS
from models.organizations import OrganizationUpdate

_NORDIC = str.maketrans({"æ": "ae", "ø": "o", "å": "a", "Æ": "ae", "Ø": "o", "Å": "a"})


def slugify(name: str) -> str:
    """'Bærum kommune' -> 'baerum-kommune'."""
    ascii_name = unicodedata.normalize("NFKD", name.translate(_NORDIC))
    ascii_name = ascii_name.encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")
    return slug[:64] or "org"


def seed_default_categories(session: Session, org: Organization) -> list[Category]:
    existing = set(
        session.scalars(select(col(Category.code)).where(col(Category.organization_id) == org.id))
    )
    created = []
    for order, d in enumerate(DEFAULT_CATEGORIES):
        if d.code in existing:
            continue
        cat = Category(
            organization_id=org.id,
            code=d.code,
            label_en=d.label_en,
            label_nb=d.label_nb,
            other_labels=d.other_labels,
            default_department=d.department,
            group_distance_m=d.distance_m,
            actionable=d.actionable,
            sensitive=d.sensitive,
            published=d.published,
            sort_order=order,
            asset_kind=DEFAULT_ASSET_KINDS.get(d.code),
        )
        session.add(cat)
        created.append(cat)
    session.flush()
    return created


def create_organization(session: Session, name: str, slug: str | None = None) -> Organization:
    slug = slug or slugify(name)
    with tenancy.lookup(session, "organization"):  # slugs are unique across organizations
        taken = session.scalar(select(Organization).where(col(Organization.slug) == slug))
    if taken is not None:
        raise Conflict(key="error.organization_exists", params={"slug": slug})
    org = Organization(name=name.strip(), slug=slug)
    session.add(org)
    session.flush()
    seed_default_categories(session, org)
    return org


def get_by_slug(session: Session, slug: str) -> Organization:
    org = session.scalar(select(Organization).where(col(Organization.slug) == slug))
    if org is None:
        raise NotFound(key="error.no_organization_slug", params={"slug": slug})
    return org


def only_or_named(session: Session, slug: str | None) -> Organization:
    """The named organization, or the only one there is (handy for single-tenant installs)."""
    if slug:
        return get_by_slug(session, slug)
    orgs = list(session.scalars(select(Organization).limit(2)))
    if len(orgs) == 1:
        return orgs[0]
    if not orgs:
        raise NotFound(key="error.no_organization_yet")
    raise Conflict(key="error.several_organizations")


def get(session: Session, org_id: uuid.UUID) -> Organization:
    org = session.get(Organization, org_id)
    if org is None:
        raise NotFound(key="error.no_such_organization")
    return org


def update_settings(session: Session, org: Organization, body: OrganizationUpdate) -> Organization:
    """The organization's name, language and workflow settings; only the fields sent change."""
    for key, value in body.model_dump(exclude_unset=True).items():
        setattr(org, key, value.strip() if isinstance(value, str) and key == "name" else value)
    session.flush()
    return org
