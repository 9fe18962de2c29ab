"""Every error as RFC 9457 problem details: the typed domain errors of ``api.core.errors``,
HTTP errors, request validation and an overloaded database, each through one renderer."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.core.db import is_transient
from api.core.errors import PROBLEM_BASE, PROBLEM_JSON, Busy, DomainError
from api.core.i18n import Language, decimal, has, pick_language, translate
from api.core.logs import current_request_id

log = logging.getLogger("safewalk")


def problem(
    status: int,
    title: str,
    detail: str,
    *,
    slug: str | None = None,
    instance: str | None = None,
    errors: Sequence[Mapping[str, Any]] | None = None,
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + slug if slug else "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    if errors is not None:
        body["errors"] = list(errors)
    body.update(extra)
    rid = current_request_id()
    if rid:  # the same id as the X-Request-Id header and the request's log lines
        body["request_id"] = rid
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _clean_loc(loc: Sequence[Any]) -> list[str | int]:
    return [p if isinstance(p, int) else str(p) for p in loc]


def request_language(request: Request) -> Language:
    """Accept-Language first, then the caller's organization (set once the token is read)."""
    return pick_language(
        request.headers.get("accept-language"), getattr(request.state, "org_language", None)
    )


_HTTP_SLUGS = {404: "not-found", 405: "method-not-allowed", 401: "unauthorized", 403: "forbidden"}


# Pydantic's error types, by the catalogue message (validation.<key>) that says the same.
_VALIDATION_KEYS: dict[str, str] = {
    **{t: t for t in ("missing", "extra_forbidden", "string_type", "string_pattern_mismatch")},
    **{t: t for t in ("string_too_short", "string_too_long", "too_short", "too_long")},
    **{t: t for t in ("greater_than", "greater_than_equal", "less_than", "less_than_equal")},
    **{t: t for t in ("finite_number", "timezone_aware", "list_type", "dict_type", "enum")},
    **dict.fromkeys(("int_parsing", "int_type", "int_from_float"), "int"),
    **dict.fromkeys(("float_parsing", "float_type"), "float"),
    **dict.fromkeys(("bool_parsing", "bool_type"), "bool"),
    **dict.fromkeys(("uuid_parsing", "uuid_type", "uuid_version"), "uuid"),
    **dict.fromkeys(
        ("datetime_parsing", "datetime_type", "datetime_from_date_parsing"), "datetime"
    ),
    **dict.fromkeys(("date_parsing", "date_type", "date_from_datetime_parsing"), "date"),
    **dict.fromkeys(("url_parsing", "url_type", "url_scheme"), "url"),
    "literal_error": "enum",
    "model_type": "dict_type",
    "model_attributes_type": "dict_type",
    "value_error": "value_error",
    "assertion_error": "value_error",
}


def _number(value: Any, lang: Language) -> str:
    if isinstance(value, float) and not value.is_integer():
        return decimal(value, lang, digits=6)
    return str(int(value)) if isinstance(value, float) else str(value)


def validation_message(error: Mapping[str, Any], lang: Language) -> str:
    """A validation error in the reader's language, by its type; the limits come from its
    context (``ctx``), and a validator's own reason is kept as it was written."""
    key = "validation." + _VALIDATION_KEYS.get(str(error.get("type")), "invalid")
    ctx = dict(error.get("ctx") or {})
    params: dict[str, str] = {}
    for name in ("min_length", "max_length", "gt", "ge", "lt", "le"):
        if name in ctx:
            params[name] = _number(ctx[name], lang)
    if "expected" in ctx:
        params["expected"] = str(ctx["expected"])
    if key == "validation.value_error":
        reason = str(ctx.get("error") or error.get("msg", ""))
        params["reason"] = reason.removeprefix("Value error, ").removeprefix("Assertion failed, ")
    return translate(key, lang, **params)


def _title(slug: str | None, fallback: str, lang: Language) -> str:
    key = f"problem.{slug}"
    return translate(key, lang) if slug and has(key) else fallback


def install_error_handlers(app: FastAPI) -> None:
    async def on_domain_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, DomainError)
        lang = request_language(request)
        return problem(
            exc.status,
            _title(exc.slug, exc.title, lang),
            exc.detail_in(lang),
            slug=exc.slug,
            instance=request.url.path,
            errors=exc.errors_in(lang),
            headers=exc.headers,
            **exc.extra_in(lang),
        )

    async def on_http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        detail = exc.detail if isinstance(exc.detail, str) else _phrase(exc.status_code)
        slug = _HTTP_SLUGS.get(exc.status_code)
        return problem(
            exc.status_code,
            _title(slug, _phrase(exc.status_code), request_language(request)),
            detail,
            instance=request.url.path,
            headers=exc.headers,
        )

    async def on_validation_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        lang = request_language(request)
        errors = [
            {
                "loc": _clean_loc(e.get("loc", ())),
                "msg": validation_message(e, lang),
                "type": e.get("type"),
            }
            for e in exc.errors()
        ]
        if any(e["type"] == "json_invalid" for e in errors):
            return problem(
                400,
                _title("malformed-json", "Malformed JSON", lang),
                translate("error.malformed_json", lang),
                slug="malformed-json",
                instance=request.url.path,
                errors=errors,
            )
        first = errors[0] if errors else {"loc": [], "msg": "invalid"}
        where = ".".join(str(p) for p in first["loc"])
        return problem(
            422,
            _title("validation-error", "Invalid input", lang),
            f"{where}: {first['msg']}" if where else str(first["msg"]),
            slug="validation-error",
            instance=request.url.path,
            errors=errors,
        )

    async def on_database_busy(request: Request, exc: Exception) -> JSONResponse:
        # An exhausted connection pool, or a lock that outlasted SQLite's busy timeout or a
        # retry loop, is overload, not a bug: the transaction was rolled back, so the client
        # may send the same request again.
        if isinstance(exc, DBAPIError) and not is_transient(exc):
            raise exc  # a real database error: CatchUnexpected answers it as a 500
        log.warning("database busy on %s %s: %s", request.method, request.url.path, exc)
        busy = Busy(key="error.busy_overload")
        return await on_domain_error(request, busy)

    app.add_exception_handler(DomainError, on_domain_error)
    app.add_exception_handler(PoolTimeout, on_database_busy)
    app.add_exception_handler(DBAPIError, on_database_busy)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    # Bugs (any other exception) are answered by api.http.middleware.CatchUnexpected.
