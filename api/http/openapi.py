"""The OpenAPI document tells the truth about errors, and 405 names every allowed method.

Every error is an RFC 9457 problem (``api/core/errors.py``), but FastAPI documents only a 422 with
its own ``HTTPValidationError`` body as ``application/json``. Here the document is corrected
once, after FastAPI builds it: every operation declares the problem responses it can give, as
``application/problem+json`` with one ``Problem`` schema. The rule is generic (by where the
route lives and its method), so routes added later are documented without anyone listing them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import BaseRoute, Match
from starlette.types import Scope

from api.core.errors import PROBLEM_JSON
from api.http.problems import problem

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "RFC 9457 problem details. Validation problems add `errors`.",
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "request_id": {"type": "string", "description": "also in the X-Request-Id header"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["loc", "msg"],
                "properties": {
                    "loc": {"type": "array", "items": {"type": ["string", "integer"]}},
                    "msg": {"type": "string"},
                },
            },
        },
    },
    # Some problems carry more (e.g. `current_etag` on a 428); clients ignore what they don't know.
    "additionalProperties": True,
}

# Any operation: text that cannot be stored is refused at the edge (422); a bug is a 500.
EVERYWHERE = frozenset({422, 500})
# The probes and /metrics answer without a caller; every other operation is the API's.
OPERATIONAL = frozenset({"/healthz", "/readyz", "/metrics"})
# Any API operation (the JSON API, the OGC and tile readers): a malformed request (400), a bad token (401), a role
# the policy or the workflow refuses (403), an id that is not there or not the caller's (404),
# a throttle (429), a database that stayed busy through every retry (503).
API = frozenset({400, 401, 403, 404, 429, 503})
# Operations with a body: a conflicting replay or state (409), a stale or missing If-Match
# (412, 428), a body too large or of the wrong type (413, 415).
WITH_BODY = frozenset({409, 412, 413, 415, 428})
BODY_METHODS = frozenset({"post", "put", "patch"})


OPEN311_PREFIX = "/open311/"
OPEN311_ERRORS: dict[str, Any] = {
    "application/json": {
        "schema": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"code": {"type": "integer"}, "description": {"type": "string"}},
            },
        }
    },
    "text/xml": {"schema": {"type": "string"}},
}


def problem_statuses(path: str, method: str) -> frozenset[str]:
    codes = set(EVERYWHERE)
    if path not in OPERATIONAL:
        codes |= API
        if method in BODY_METHODS:
            codes |= WITH_BODY
    return frozenset(str(c) for c in codes)


def _phrase(code: str) -> str:
    try:
        return HTTPStatus(int(code)).phrase
    except ValueError:
        return "Error"


def document_problems(schema: dict[str, Any]) -> dict[str, Any]:
    """Declare the problem responses of every operation in ``schema`` (in place)."""
    ref = {"$ref": "#/components/schemas/Problem"}
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components["Problem"] = PROBLEM_SCHEMA
    for path, item in schema.get("paths", {}).items():
        for method, op in item.items():
            if not isinstance(op, dict) or "responses" not in op:
                continue
            responses: dict[str, Any] = op["responses"]
            declared = {c for c in responses if c[:1] in "45"}
            for code in sorted(problem_statuses(path, method) | declared):
                entry = responses.setdefault(code, {"description": _phrase(code)})
                # Replace FastAPI's application/json HTTPValidationError: we never send it.
                entry["content"] = {PROBLEM_JSON: {"schema": ref}}
                if path.startswith(OPEN311_PREFIX):
                    # GeoReport v2 answers its own error lists, in the format the path asks for.
                    entry["content"].update(OPEN311_ERRORS)
    # Nothing refers to FastAPI's validation schemas any more.
    components.pop("HTTPValidationError", None)
    components.pop("ValidationError", None)
    return schema


def install_problem_documentation(app: FastAPI) -> None:
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document_problems(build())
        return app.openapi_schema or {}

    app.openapi = openapi  # type: ignore[method-assign]


# --- 405 ------------------------------------------------------------------------------------------


def _flatten(routes: Iterable[Any]) -> Iterator[BaseRoute]:
    for route in routes:
        # Included routers (FastAPI keeps them as one entry) and mounts: their routes first.
        inner = getattr(route, "routes", None)
        if inner is None:
            inner = getattr(getattr(route, "original_router", None), "routes", None)
        if inner:
            yield from _flatten(inner)
        if isinstance(route, BaseRoute) and hasattr(route, "path_regex"):
            yield route


def flat_routes(app: FastAPI) -> list[BaseRoute]:
    """Every route of the app with its full path, in matching order (cached per route count)."""
    key = len(app.router.routes)
    cached: tuple[int, list[BaseRoute]] | None = getattr(app.state, "flat_routes", None)
    if cached is None or cached[0] != key:
        cached = (key, list(_flatten(app.router.routes)))
        app.state.flat_routes = cached
    return cached[1]


def match_route(app: FastAPI, scope: Scope) -> BaseRoute | None:
    """The route that serves this request, or one at its path that serves another method."""
    partial = None
    for route in flat_routes(app):
        match, _ = route.matches(scope)
        if match == Match.FULL:
            return route
        if match == Match.PARTIAL and partial is None:
            partial = route
    return partial


def allowed_methods(app: FastAPI, scope: Scope) -> list[str]:
    """Every method some route serves at this path. Starlette's own 405 names only the methods
    of the first route whose path matched (GET /walks/{id}, not also PATCH)."""
    methods: set[str] = set()
    for route in flat_routes(app):
        match, _ = route.matches(scope)
        if match != Match.NONE:
            methods |= set(getattr(route, "methods", None) or ())
    return sorted(methods)


def install_method_not_allowed(app: FastAPI) -> None:
    async def on_405(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        allow = ", ".join(allowed_methods(app, dict(request.scope)))
        return problem(
            405,
            "Method not allowed",
            f"{request.method} is not allowed here; allowed: {allow}",
            instance=request.url.path,
            headers={"Allow": allow},
        )

    # A handler for the status wins over the HTTPException handler in api/core/errors.py.
    app.add_exception_handler(405, on_405)
