"""The caller's organization and its settings (admins)."""

from __future__ import annotations

from api.auth import PrincipalDep
from api.deps import SessionDep
from api.routers import api_router
from api.services import organization_settings as org_service
from models.organizations import OrganizationSettings, OrganizationSettingsUpdate

router = api_router("organization")


@router.get("/organization", response_model=OrganizationSettings)
def get_organization(principal: PrincipalDep, session: SessionDep) -> OrganizationSettings:
    return org_service.to_read(org_service.get_settings(session, principal.org_id))


@router.patch("/organization", response_model=OrganizationSettings)
def patch_organization(
    body: OrganizationSettingsUpdate, principal: PrincipalDep, session: SessionDep
) -> OrganizationSettings:
    """``moderation_mode``: ``post`` (accepted on arrival, grouped at once) or ``pre`` (every
    new observation waits in the review queue, ``GET /observations?moderation=submitted``)."""
    return org_service.to_read(org_service.update_settings(session, principal.org_id, body))
