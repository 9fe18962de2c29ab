"""Security headers on every response, and CORS only where the operator names origins.

A Content-Security-Policy is added only where the response has none: the web apps' routers
set their own, and those are left alone. API responses (JSON, GeoJSON, problems, CSV, images)
get ``default-src 'none'``: nothing in them should ever run or load. Everything else (the API
docs page, for one) gets ``frame-ancestors 'none'`` only, so no other site can frame it.
"""

from __future__ import annotations

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.http.asgi import HttpMiddleware
from api.http.csp import API_POLICY, DOCUMENT_POLICY

API_CSP = API_POLICY.encode()
PAGE_CSP = DOCUMENT_POLICY.encode()
HSTS = b"max-age=31536000; includeSubDomains"
_NOT_PAGES = (b"application/", b"image/", b"text/csv", b"text/plain")


class SecurityHeaders(HttpMiddleware):
    def __init__(self, app: ASGIApp, *, https: bool) -> None:
        super().__init__(app)
        self.https = https

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                content_type = next((v for k, v in headers if k.lower() == b"content-type"), b"")
                wanted = [
                    (b"x-content-type-options", b"nosniff"),
                    (b"x-frame-options", b"DENY"),
                    (b"referrer-policy", b"no-referrer"),
                    (
                        b"content-security-policy",
                        API_CSP if content_type.startswith(_NOT_PAGES) else PAGE_CSP,
                    ),
                ]
                if self.https:
                    wanted.append((b"strict-transport-security", HSTS))
                headers += [(k, v) for k, v in wanted if k not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def cors_options(origins: str) -> dict[str, object] | None:
    """CORSMiddleware's options for ``SAFEWALK_CORS_ORIGINS``, or None: CORS stays off."""
    allowed = [o.strip() for o in origins.split(",") if o.strip()]
    if not allowed:
        return None
    return {
        "allow_origins": allowed,
        "allow_methods": ["GET", "POST", "PUT", "PATCH", "DELETE"],
        "allow_headers": ["Authorization", "Content-Type", "If-Match", "X-Request-Id"],
        "expose_headers": ["ETag", "Link", "Location", "Retry-After", "X-Request-Id"],
        # Bearer tokens, not cookies: browsers never send credentials on their own.
        "allow_credentials": False,
        "max_age": 600,
    }


__all__ = ["CORSMiddleware", "SecurityHeaders", "cors_options"]
