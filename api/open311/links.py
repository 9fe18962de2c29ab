"""Photo links for readers outside safewalk (Open311 ``media_url``, spreadsheet cells)."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from fastapi import Request

from models import Organization


def media_url_builder(request: Request, org: Organization) -> Callable[[uuid.UUID], str] | None:
    """Signed, expiring links to photos; None while signing is not available."""
    return None
