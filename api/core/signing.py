"""Signed photo links: a photo shown in an ``<img>`` or linked from a spreadsheet, no header.

A link names the photo, the size and an expiry time, and carries an HMAC-SHA256 over those and
the photo's organization, keyed by a key derived from the service secret (never the token key
itself). It is checked like a token: a changed id, size or expiry, another organization's photo
or a link past its time is refused. Links for pages live minutes, links in exports days.
Nothing here knows about HTTP: routers say where the API lives (``base``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlencode

from models import utcnow
from models.observations import PhotoUrls

IMG_TTL = timedelta(minutes=15)
EXPORT_TTL = timedelta(days=7)
EXPIRY_BUCKET_S = 300
SIZES = ("thumb", "display", "original")
_PURPOSE = b"safewalk/photo-link/v1"


class SignatureInvalid(Exception):
    """The link was changed, or was made for another photo or organization."""


class SignatureExpired(Exception):
    """The link was genuine but its time is over."""


def _key(secret: str) -> bytes:
    return hmac.new(secret.encode(), _PURPOSE, hashlib.sha256).digest()


def photo_signature(
    secret: str, photo_id: uuid.UUID, org_id: uuid.UUID, size: str, expires: int
) -> str:
    msg = f"{photo_id}|{org_id}|{size}|{expires}".encode()
    digest = hmac.new(_key(secret), msg, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def verify_photo_signature(
    secret: str,
    photo_id: uuid.UUID,
    org_id: uuid.UUID,
    size: str,
    expires: int | None,
    sig: str | None,
    *,
    now: datetime | None = None,
) -> None:
    if expires is None or not sig:
        raise SignatureInvalid("a signed link needs both expires and sig")
    expected = photo_signature(secret, photo_id, org_id, size, expires)
    # Compare first, then look at the time: an expired forgery is reported as a forgery.
    if not hmac.compare_digest(expected.encode(), sig.encode()):
        raise SignatureInvalid("signature does not match")
    if (now or utcnow()).timestamp() > expires:
        raise SignatureExpired("link expired")


@dataclass(frozen=True)
class PhotoSigner:
    """Makes signed links valid for ``ttl`` from ``now``; built per request by a router."""

    secret: str
    base: str  # where the API lives, e.g. "/api/v1" or "https://host/api/v1" for exports
    ttl: timedelta = IMG_TTL
    now: datetime = field(default_factory=utcnow)

    def url(self, photo_id: uuid.UUID, org_id: uuid.UUID, size: str) -> str:
        # Rounded up to the next bucket: the same link for a few minutes, so browsers cache
        # the image instead of fetching it again for every page.
        at = int((self.now + self.ttl).timestamp())
        expires = -(-at // EXPIRY_BUCKET_S) * EXPIRY_BUCKET_S
        query = urlencode(
            {
                "size": size,
                "expires": expires,
                "sig": photo_signature(self.secret, photo_id, org_id, size, expires),
            }
        )
        return f"{self.base}/photos/{photo_id}?{query}"

    def urls(self, photo_id: uuid.UUID, org_id: uuid.UUID) -> PhotoUrls:
        return PhotoUrls(**{size: self.url(photo_id, org_id, size) for size in SIZES})

    def plain(self, photo_id: uuid.UUID) -> PhotoUrls:
        """The unsigned paths (they need an Authorization header)."""
        return PhotoUrls(**{size: f"{self.base}/photos/{photo_id}?size={size}" for size in SIZES})


def signed_photo_url(
    secret: str,
    photo_id: uuid.UUID,
    org_id: uuid.UUID,
    size: str = "display",
    *,
    base: str,
    ttl: timedelta = IMG_TTL,
) -> str:
    """One signed link; see :class:`PhotoSigner` for several with one clock."""
    return PhotoSigner(secret, base, ttl).url(photo_id, org_id, size)
