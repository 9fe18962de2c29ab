"""Typed domain errors: each carries the status, problem type and title it is answered with,
and nothing here imports a web framework.
``api.http.problems`` renders them (and every other error) as RFC 9457 problem details."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://safewalk.no/problems/"


class DomainError(Exception):
    """Base of every error a service may raise on purpose; rendered as problem details."""

    status: int = 400
    slug: str = "bad-request"
    title: str = "Bad request"

    def __init__(
        self,
        detail: str,
        *,
        errors: Sequence[Mapping[str, Any]] | None = None,
        headers: Mapping[str, str] | None = None,
        key: str | None = None,
        params: Mapping[str, Any] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        # A catalogue key (api/core/i18n): the detail is then shown in the caller's language.
        self.key = key
        self.params = dict(params or {})
        self.errors = list(errors) if errors is not None else None
        self.headers = dict(headers or {})
        self.extra = extra


class Unauthorized(DomainError):
    status, slug, title = 401, "unauthorized", "Unauthorized"

    def __init__(self, detail: str, **kw: Any) -> None:
        kw.setdefault("headers", {"WWW-Authenticate": "Bearer"})
        super().__init__(detail, **kw)


class Forbidden(DomainError):
    status, slug, title = 403, "forbidden", "Forbidden"


class NotFound(DomainError):
    status, slug, title = 404, "not-found", "Not found"


class Conflict(DomainError):
    status, slug, title = 409, "conflict", "Conflict"


class PreconditionFailed(DomainError):
    status, slug, title = 412, "precondition-failed", "Precondition failed"


class PayloadTooLarge(DomainError):
    status, slug, title = 413, "payload-too-large", "Payload too large"


class UnsupportedMediaType(DomainError):
    status, slug, title = 415, "unsupported-media-type", "Unsupported media type"


class InvalidInput(DomainError):
    status, slug, title = 422, "validation-error", "Invalid input"

    @classmethod
    def at(cls, loc: Sequence[str | int], msg: str) -> InvalidInput:
        """One invalid field: the detail and the errors list both name it."""
        where = ".".join(str(p) for p in loc)
        return cls(f"{where}: {msg}", errors=[{"loc": list(loc), "msg": msg}])


class TooManyRequests(DomainError):
    status, slug, title = 429, "too-many-requests", "Too many requests"


class PreconditionRequired(DomainError):
    status, slug, title = 428, "precondition-required", "Precondition required"


class Busy(DomainError):
    """Others kept writing the same rows through every retry; nothing was stored."""

    status, slug, title = 503, "busy", "Busy"

    def __init__(self, detail: str = "busy: nothing was stored; send it again", **kw: Any) -> None:
        kw.setdefault("headers", {"Retry-After": "1"})
        super().__init__(detail, **kw)
