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
from api.core.i18n import Language, has, pick_language, translate
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
            translate(exc.key, lang, **exc.params) if exc.key else exc.detail,
            slug=exc.slug,
            instance=request.url.path,
            errors=exc.errors,
            headers=exc.headers,
            **exc.extra,
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
        errors = [
            {
                "loc": _clean_loc(e.get("loc", ())),
                "msg": str(e.get("msg", "")),
                "type": e.get("type"),
            }
            for e in exc.errors()
        ]
        lang = request_language(request)
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
        busy = Busy("the service is busy: nothing was applied; send it again shortly")
        return await on_domain_error(request, busy)

    app.add_exception_handler(DomainError, on_domain_error)
    app.add_exception_handler(PoolTimeout, on_database_busy)
    app.add_exception_handler(DBAPIError, on_database_busy)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    # Bugs (any other exception) are answered by api.http.middleware.CatchUnexpected.
