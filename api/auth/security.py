"""Passwords (argon2id), the signing secret, and signed JWTs for staff and walk participants."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from api.core.errors import Unauthorized
from api.settings import Settings
from models.base import utcnow
from models.organizations import TokenResponse, User

# argon2-cffi's defaults are the RFC 9106 "low memory" argon2id profile.
_hasher = PasswordHasher()

MIN_PASSWORD_LENGTH = 10
ALGORITHM = "HS256"  # pinned: the decoder accepts nothing else, "none" included
MIN_SECRET_LENGTH = 32
KNOWN_WEAK_SECRETS = frozenset(
    {"secret", "changeme", "change-me", "please-change-me", "safewalk", "development", "test"}
)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


# Verifying against this keeps the timing of "no such user" close to "wrong password".
DUMMY_HASH = _hasher.hash("safewalk-timing-equaliser")


class WeakSecret(RuntimeError):
    """The configured signing secret is too weak for a non-development environment."""


def is_weak_secret(secret: str) -> bool:
    return len(secret) < MIN_SECRET_LENGTH or secret.lower() in KNOWN_WEAK_SECRETS


def resolve_secret(settings: Settings) -> str:
    """The configured secret, or one generated once and kept in the data directory."""
    if settings.secret_key:
        if settings.environment != "development" and is_weak_secret(settings.secret_key):
            raise WeakSecret(
                f"SAFEWALK_SECRET_KEY is too weak for {settings.environment}: use at least "
                f"{MIN_SECRET_LENGTH} random characters (or unset it to generate one)"
            )
        return settings.secret_key
    path = Path(settings.data_dir) / "secret_key"
    if path.exists():
        secret = path.read_text(encoding="utf-8").strip()
        if not is_weak_secret(secret):
            return secret
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    path.write_text(secret + "\n", encoding="utf-8")
    path.chmod(0o600)
    return secret


TokenKind = Literal["staff", "participant"]


@dataclass(frozen=True)
class TokenClaims:
    kind: TokenKind
    subject: uuid.UUID
    organization_id: uuid.UUID
    walk_id: uuid.UUID | None
    expires_at: datetime
    # A staff account's token_version when the token was issued (absent: 0).
    version: int = 0


def issue_token(
    *,
    secret: str,
    settings: Settings,
    kind: TokenKind,
    subject: uuid.UUID,
    organization_id: uuid.UUID,
    expires_at: datetime,
    walk_id: uuid.UUID | None = None,
    version: int = 0,
) -> str:
    claims = TokenClaims(kind, subject, organization_id, walk_id, expires_at, version)
    return sign(claims, secret=secret, settings=settings)


def sign(claims: TokenClaims, *, secret: str, settings: Settings) -> str:
    """The JWT that ``decode_token`` reads back as ``claims``: one type both ways, so a claim
    added to one side cannot be missing from the other."""
    now = utcnow()
    payload: dict[str, Any] = {
        "iss": settings.token_issuer,
        "aud": settings.token_audience,
        "sub": str(claims.subject),
        "typ": claims.kind,
        "org": str(claims.organization_id),
        "iat": int(now.timestamp()),
        "nbf": int(now.timestamp()) - 5,
        "exp": int(claims.expires_at.timestamp()),
        "jti": uuid.uuid4().hex,
    }
    if claims.walk_id is not None:
        payload["walk"] = str(claims.walk_id)
    if claims.version:
        payload["ver"] = claims.version
    return jwt.encode(payload, secret, algorithm=ALGORITHM)


def staff_token_expiry(settings: Settings) -> datetime:
    return utcnow() + timedelta(minutes=settings.access_token_minutes)


def staff_session(user: User, *, secret: str, settings: Settings) -> TokenResponse:
    """A signed-in staff member's token; a new password bumps ``token_version``, so tokens
    issued before stop working."""
    claims = TokenClaims(
        "staff",
        user.id,
        user.organization_id,
        None,
        staff_token_expiry(settings),
        user.token_version,
    )
    token = sign(claims, secret=secret, settings=settings)
    return TokenResponse(access_token=token, expires_at=claims.expires_at)


def decode_token(token: str, *, secret: str, settings: Settings) -> TokenClaims:
    """Verify signature, algorithm, expiry, issuer and audience; say exactly what was wrong."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.DecodeError as exc:
        raise Unauthorized(key="error.token_not_jwt") from exc
    if header.get("alg") != ALGORITHM:
        raise Unauthorized(key="error.token_algorithm", params={"alg": header.get("alg")})
    try:
        payload = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            audience=settings.token_audience,
            issuer=settings.token_issuer,
            options={"require": ["exp", "iat", "sub", "aud", "iss"]},
            leeway=5,
        )
    except jwt.ExpiredSignatureError as exc:
        raise Unauthorized(key="error.token_expired") from exc
    except jwt.InvalidAudienceError as exc:
        raise Unauthorized(key="error.token_audience") from exc
    except jwt.InvalidIssuerError as exc:
        raise Unauthorized(key="error.token_issuer") from exc
    except jwt.InvalidSignatureError as exc:
        raise Unauthorized(key="error.token_signature") from exc
    except jwt.MissingRequiredClaimError as exc:
        raise Unauthorized(key="error.token_missing_claim", params={"claim": exc.claim}) from exc
    except jwt.InvalidTokenError as exc:
        raise Unauthorized(key="error.token_malformed") from exc
    try:
        kind = payload["typ"]
        if kind not in ("staff", "participant"):
            raise ValueError(kind)
        walk = payload.get("walk")
        return TokenClaims(
            kind=kind,
            subject=uuid.UUID(payload["sub"]),
            organization_id=uuid.UUID(payload["org"]),
            walk_id=uuid.UUID(walk) if walk else None,
            expires_at=datetime.fromtimestamp(payload["exp"]).astimezone(),
            version=int(payload.get("ver", 0)),
        )
    except (KeyError, ValueError, TypeError) as exc:
        raise Unauthorized(key="error.token_claims") from exc
