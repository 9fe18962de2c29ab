"""Typed domain errors: each carries the status, problem type and title it is answered with,
and nothing here imports a web framework.
``api.http.problems`` renders them (and every other error) as RFC 9457 problem details."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, Protocol, runtime_checkable

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://safewalk.no/problems/"
ENGLISH = "en"  # the language of ``detail`` in logs and on the command line


@runtime_checkable
class Keyed(Protocol):
    """A catalogue message by its key and params: a ``Message``, a geometry's fault, an error.
    Given as a param of another message, it is rendered in the same language."""

    @property
    def key(self) -> str | None: ...

    @property
    def params(self) -> Mapping[str, Any]: ...


@dataclass(frozen=True)
class Message:
    key: str
    params: Mapping[str, Any] = field(default_factory=dict)


def render(key: str, params: Mapping[str, Any], lang: str) -> str:
    """``key`` in ``lang`` with its params: a measure (a float) as the reader writes numbers
    (2 000 m, 58,855), a message given as a param in the same language."""
    # The catalogues load on first use, not at import.
    from api.core.i18n import decimal, translate

    out: dict[str, Any] = {}
    for name, value in params.items():
        if isinstance(value, float):
            out[name] = decimal(value, lang, digits=6)
        elif isinstance(value, Keyed) and not isinstance(value, str) and value.key:
            out[name] = render(value.key, value.params, lang)
        else:
            out[name] = value
    return translate(key, lang, **out)


class DomainError(Exception):
    """Base of every error a service may raise on purpose; rendered as problem details.

    Its text is a catalogue message (``key``, ``api/core/i18n``) with named ``params``, so that
    the problem detail follows the reader's language; ``detail`` is the English text, for logs
    and the command line. ``loc`` names the one field at fault (``InvalidInput.at``). An entry
    of ``errors`` may carry a ``key`` and ``params`` instead of its ``msg``."""

    status: int = 400
    slug: str = "bad-request"
    title: str = "Bad request"

    def __init_subclass__(
        cls,
        *,
        status: int | None = None,
        slug: str | None = None,
        title: str | None = None,
        **kw: Any,
    ) -> None:
        """``class NotFound(DomainError, status=404)``: the problem type (``not-found``) and
        title (``Not found``) are the status's reason phrase, unless named."""
        super().__init_subclass__(**kw)
        if status is not None:
            phrase = HTTPStatus(status).phrase
            cls.status = status
            cls.slug = slug or phrase.lower().replace(" ", "-")
            cls.title = title or phrase.capitalize()

    def __init__(
        self,
        detail: str | None = None,
        *,
        errors: Sequence[Mapping[str, Any]] | None = None,
        headers: Mapping[str, str] | None = None,
        key: str | None = None,
        params: Mapping[str, Any] | None = None,
        loc: Sequence[str | int] | None = None,
        **extra: Any,
    ) -> None:
        if detail is None and key is None:
            raise TypeError("a domain error needs a catalogue key (or a detail)")
        self.key = key
        self.params = dict(params or {})
        self.loc = list(loc) if loc is not None else None
        self._errors = [dict(e) for e in errors] if errors is not None else None
        self.detail = detail if detail is not None else self.detail_in(ENGLISH)
        super().__init__(self.detail)
        self.errors = self.errors_in(ENGLISH)
        self.headers = dict(headers or {})
        self.extra = extra

    def message_in(self, lang: str) -> str:
        """The message alone (without the field), in ``lang``."""
        if self.key is None:
            return self.detail
        return render(self.key, self.params, lang)

    def detail_in(self, lang: str) -> str:
        message = self.message_in(lang)
        if self.loc is None or self.key is None:
            return message
        return f"{'.'.join(str(p) for p in self.loc)}: {message}"

    def extra_in(self, lang: str) -> dict[str, Any]:
        """The problem's extension members; one given as a function of the language (a
        report of what was refused, in words) is called with the reader's."""
        return {
            name: value(lang) if callable(value) else value for name, value in self.extra.items()
        }

    def errors_in(self, lang: str) -> list[dict[str, Any]] | None:
        if self._errors is None:
            if self.loc is None:
                return None
            return [{"loc": list(self.loc), "msg": self.message_in(lang)}]
        out = []
        for entry in self._errors:
            entry = dict(entry)
            if "key" in entry:
                entry["msg"] = render(entry.pop("key"), entry.pop("params", {}), lang)
            out.append(entry)
        return out


class Unauthorized(DomainError, status=401):
    """No credentials, or ones that are not (or no longer) valid; asks for a bearer token."""

    def __init__(self, detail: str | None = None, **kw: Any) -> None:
        kw.setdefault("headers", {"WWW-Authenticate": "Bearer"})
        super().__init__(detail, **kw)


class Forbidden(DomainError, status=403):
    """The caller is known, and may not do this."""


class NotFound(DomainError, status=404):
    """Nothing there, or nothing this caller may know is there."""


class Conflict(DomainError, status=409):
    """The request contradicts what is stored (a taken name, a photo id with other bytes)."""


class PreconditionFailed(DomainError, status=412):
    """``If-Match`` named a version that is no longer the current one."""


class PayloadTooLarge(DomainError, status=413, slug="payload-too-large", title="Payload too large"):
    """More bytes or pixels than the limit."""


class UnsupportedMediaType(DomainError, status=415):
    """A body of a type the route does not read."""


class InvalidInput(DomainError, status=422, slug="validation-error", title="Invalid input"):
    """A field is wrong; ``at`` names it."""

    @classmethod
    def at(cls, loc: Sequence[str | int], key: str, /, **params: Any) -> InvalidInput:
        """One invalid field: the detail and the errors list both name it; ``key`` is the
        catalogue message of what is wrong with it."""
        return cls(key=key, params=params, loc=loc)


class TooManyRequests(DomainError, status=429):
    """Over a throttle: come back later (``Retry-After`` says when, where it is known)."""


class PreconditionRequired(DomainError, status=428):
    """A write that must name the version it changes (``If-Match``) did not."""


class Busy(DomainError, status=503, slug="busy", title="Busy"):
    """Others kept writing the same rows through every retry; nothing was stored."""

    def __init__(self, detail: str | None = None, **kw: Any) -> None:
        kw.setdefault("headers", {"Retry-After": "1"})
        if detail is None:
            kw.setdefault("key", "error.busy")
        super().__init__(detail, **kw)
