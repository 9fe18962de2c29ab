"""The caller, as services see it: plain data, no HTTP (``api/auth/deps_router.py`` builds it from a token).

Services take a ``Principal`` and never a request, so scripts, the CLI and tests call them the
same way the routers do.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from api.auth import policy
from api.core.errors import Unauthorized
from models import Participant, User


@dataclass(frozen=True)
class Principal:
    """The caller. Staff have a user and role; participants are bound to one walk."""

    kind: str  # "staff" | "participant" | "anonymous"
    organization_id: uuid.UUID | None = None
    user: User | None = None
    participant: Participant | None = None

    @property
    def role(self) -> str:
        if self.user is not None:
            return str(self.user.role)
        return policy.PARTICIPANT if self.participant is not None else policy.ANONYMOUS

    @property
    def org_id(self) -> uuid.UUID:
        if self.organization_id is None:
            raise Unauthorized(key="error.auth_required")
        return self.organization_id

    @property
    def walk_id(self) -> uuid.UUID | None:
        return self.participant.walk_id if self.participant is not None else None


ANONYMOUS = Principal(kind="anonymous")

__all__ = ["ANONYMOUS", "Principal"]
