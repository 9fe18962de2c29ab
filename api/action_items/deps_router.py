"""FastAPI dependencies of the action list: the item a path names, and the grouping's settings.

Every room whose routes store observations (capture, photos, Open311) takes the grouping's
rules from here, so the HTTP edge itself knows nothing of grouping.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends

from api.action_items import grouping
from api.action_items.grouping import GroupingRules
from api.auth.deps_router import PrincipalDep
from api.http.deps import SessionDep, SettingsDep
from models import ActionItem


def valid_item(id: uuid.UUID, principal: PrincipalDep, session: SessionDep) -> ActionItem:
    # Participants reach items only through follow-up, which checks their walk's area.
    return grouping.get_item(session, principal.org_id, id)


ValidItem = Annotated[ActionItem, Depends(valid_item)]


def grouping_rules(settings: SettingsDep) -> GroupingRules:
    """The settings the action-item grouping needs, handed to services explicitly."""
    return GroupingRules(reopen_grace_days=settings.reopen_grace_days)


RulesDep = Annotated[GroupingRules, Depends(grouping_rules)]
