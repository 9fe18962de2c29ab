"""The outermost middleware: a request id, the access log line, latency metrics, and the
throttle hits of the request written before its response starts.

The id comes from ``X-Request-Id`` if a load balancer (or client) sent a well-formed one, else
it is made here; it is echoed in the response's ``X-Request-Id``, in every log line of the
request and in problem bodies (``request_id``), so a person's error report finds its log lines.
"""

from __future__ import annotations

import logging
import time
from typing import Any
from urllib.parse import parse_qsl, urlencode

import anyio.to_thread
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.core.logs import new_request_id, request_id_var
from api.core.throttles import flush_pending, holding_hits
from api.http.asgi import HttpMiddleware
from api.http.metrics import Metrics
from api.http.middleware import Network, client_address
from api.http.openapi import match_route

access_log = logging.getLogger("safewalk.access")


def route_template(app: Any, scope: Scope) -> str:
    """``/api/v1/walks/{id}``, not the concrete path: one time series per route, however many
    ids are asked for. Unknown paths share one label."""
    route = match_route(app, scope)
    return str(getattr(route, "path", None) or "/") if route is not None else "unmatched"


class RequestContext(HttpMiddleware):
    def __init__(
        self, app: ASGIApp, *, fastapi_app: Any, metrics: Metrics, trusted: list[Network]
    ) -> None:
        super().__init__(app)
        self.fastapi_app = fastapi_app
        self.metrics = metrics
        self.trusted = trusted

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        offered = forwarded = None
        for name, value in scope.get("headers", []):
            if name == b"x-request-id":
                offered = value.decode("latin-1")
            elif name == b"x-forwarded-for":
                forwarded = value.decode("latin-1")
        rid = new_request_id(offered)
        token = request_id_var.set(rid)
        started = time.perf_counter()
        status = 500

        with holding_hits() as held:

            async def send_with_id(message: Message) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = message["status"]
                    if held:  # before the client can see the answer (see api/core/throttles.py)
                        await anyio.to_thread.run_sync(flush_pending, held)
                    headers = [
                        (k, v)
                        for k, v in message.get("headers", [])
                        if k.lower() != b"x-request-id"
                    ]
                    headers.append((b"x-request-id", rid.encode()))
                    message = {**message, "headers": headers}
                await send(message)

            self.metrics.in_progress.inc()
            try:
                await self.app(scope, receive, send_with_id)
            finally:
                self.metrics.in_progress.dec()
                if held:  # the response never started
                    await anyio.to_thread.run_sync(flush_pending, held)
                elapsed = time.perf_counter() - started
                route = route_template(self.fastapi_app, scope)
                self.metrics.observe(scope["method"], route, status, elapsed)
                client = scope.get("client")
                query = _loggable_query(scope.get("query_string", b""))
                access_log.info(
                    "%s %s %s",
                    scope["method"],
                    scope["path"] + (f"?{query}" if query else ""),
                    status,
                    extra={
                        "method": scope["method"],
                        "path": scope["path"],
                        "query": query,
                        "route": route,
                        "status": status,
                        "duration_ms": round(elapsed * 1000, 1),
                        "client": client_address(
                            client[0] if client else "unknown", forwarded, self.trusted
                        ),
                    },
                )
                request_id_var.reset(token)


# Query parameters whose values are credentials: a signed photo link's signature, Open311's
# api_key. Logged as "***" so that a log file never opens a photo or posts a request.
_SECRET_PARAMS = frozenset({"sig", "api_key", "token", "access_token"})


def _loggable_query(raw: bytes) -> str:
    if not raw:
        return ""
    pairs = parse_qsl(raw.decode("latin-1"), keep_blank_values=True)
    return urlencode([(k, "***" if k.lower() in _SECRET_PARAMS else v) for k, v in pairs])
