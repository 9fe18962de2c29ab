"""FastAPI dependencies of areas: the area a path names, or 404 (also for another
organization's id, so ids cannot be probed across the walls)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends

from api.areas.service import get_area
from api.auth.deps_router import PrincipalDep
from api.http.deps import SessionDep
from models import Area


def valid_area(id: uuid.UUID, principal: PrincipalDep, session: SessionDep) -> Area:
    """The area of the caller's organization, or 404 (also for another organization's id)."""
    return get_area(session, principal.org_id, id)


ValidArea = Annotated[Area, Depends(valid_area)]
