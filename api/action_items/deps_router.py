"""FastAPI dependencies of the action list: the item a path names, the grouping's settings and
the period the follow-up figures cover.

Every room whose routes store observations (capture, photos, Open311) takes the grouping's
rules from here, so the HTTP edge itself knows nothing of grouping.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Query
from pydantic import AwareDatetime

from api.action_items import grouping
from api.action_items.grouping import GroupingRules
from api.auth.deps_router import PrincipalDep
from api.core.errors import InvalidInput
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


@dataclass(frozen=True)
class Period:
    """``[since, until)`` from the query; either end may be open."""

    since: datetime | None
    until: datetime | None


def period(
    since: Annotated[
        AwareDatetime | None, Query(description="start of the period (inclusive), with offset")
    ] = None,
    until: Annotated[
        AwareDatetime | None, Query(description="end of the period (exclusive), with offset")
    ] = None,
) -> Period:
    """A period that ends before it starts is refused, naming ``until``."""
    if since is not None and until is not None and since >= until:
        raise InvalidInput.at(["query", "until"], "error.until_before_since")
    return Period(since, until)


PeriodDep = Annotated[Period, Depends(period)]
