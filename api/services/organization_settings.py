"""The organization's own settings, read and changed by its admins."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from models import Organization
from models.organizations import OrganizationSettings, OrganizationSettingsUpdate


def get_settings(session: Session, org_id: uuid.UUID) -> Organization:
    org = session.get(Organization, org_id)
    assert org is not None  # the principal was built from it
    return org


def update_settings(
    session: Session, org_id: uuid.UUID, body: OrganizationSettingsUpdate
) -> Organization:
    org = get_settings(session, org_id)
    for name, value in body.model_dump(exclude_unset=True).items():
        if value is None:
            continue  # every setting has a value; null leaves it as it is
        setattr(org, name, value.strip() if isinstance(value, str) else value)
    session.flush()
    return org


def to_read(org: Organization) -> OrganizationSettings:
    return OrganizationSettings.model_validate(org, from_attributes=True)
