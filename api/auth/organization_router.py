"""The caller's organization: its settings (language, workflow), read and changed by admins."""

from __future__ import annotations

from api.auth import organizations as org_service
from api.auth.deps_router import PrincipalDep
from api.http.deps import SessionDep
from api.http.routing import api_router
from models.organizations import OrganizationSettingsRead, OrganizationUpdate

router = api_router("organization")


@router.get("/organization", response_model=OrganizationSettingsRead)
def get_organization(principal: PrincipalDep, session: SessionDep) -> OrganizationSettingsRead:
    org = org_service.get(session, principal.org_id)
    return OrganizationSettingsRead.model_validate(org, from_attributes=True)


@router.patch("/organization", response_model=OrganizationSettingsRead)
def update_organization(
    body: OrganizationUpdate, principal: PrincipalDep, session: SessionDep
) -> OrganizationSettingsRead:
    """``language`` (nb|en): item titles, exports and default message language;
    ``require_resolution_note``: resolving an item needs a note; ``moderation_mode``: ``post``
    (accepted on arrival, grouped at once) or ``pre`` (every new observation waits in the
    review queue, ``GET /observations?moderation=submitted``)."""
    org = org_service.update_settings(session, org_service.get(session, principal.org_id), body)
    return OrganizationSettingsRead.model_validate(org, from_attributes=True)
