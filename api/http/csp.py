"""The Content-Security-Policy, written once. The web apps' pages (field app, staff web, the
shared kit) get the page policy: only this origin, plus the remote basemap's origin when one
is configured (``Settings.basemap_origin``; a URL no browser could load refuses to start).
API responses may load nothing; other documents (the API docs, the public pages' plain
HTML) may only not be framed.
"""

from __future__ import annotations

API_POLICY = "default-src 'none'; frame-ancestors 'none'"
DOCUMENT_POLICY = "frame-ancestors 'none'"


def page_policy(basemap_origin: str | None = None) -> str:
    """The apps' policy. ``blob:`` images are the QR codes fetched with a token, ``data:``
    MapLibre's own; the map library's worker is a file of this origin (its CSP build)."""
    fetchable = "'self'" + (f" {basemap_origin}" if basemap_origin else "")
    return "; ".join(
        (
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            f"img-src {fetchable} data: blob:",
            f"connect-src {fetchable}",
            "worker-src 'self'",
            "font-src 'self'",
            "manifest-src 'self'",
            "object-src 'none'",
            # No page sets a <base>: none may be injected either.
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        )
    )
