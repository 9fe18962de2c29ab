"""Photo links for readers outside safewalk (Open311 ``media_url``, spreadsheet cells): absolute,
signed, valid for days (``api.core.signing.EXPORT_TTL``), working without any header."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from fastapi import Request

from api.core.signing import EXPORT_TTL, PhotoSigner
from api.http.routing import API_PREFIX
from models import Organization


def export_signer(request: Request) -> PhotoSigner:
    base = str(request.base_url).rstrip("/") + API_PREFIX
    return PhotoSigner(request.app.state.secret, base, EXPORT_TTL)


def media_url_builder(request: Request, org: Organization) -> Callable[[uuid.UUID], str]:
    signer = export_signer(request)
    return lambda photo_id: signer.url(photo_id, org.id, "display")
