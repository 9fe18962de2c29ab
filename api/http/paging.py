"""The ``next`` page's URL of a keyset-paged list (``api.core.paging``), built from the
request: a ``next`` member, or a ``Link`` header where the body is a bare JSON array."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

from fastapi import Request, Response

from api.core.paging import Page

T = TypeVar("T")


def next_url(request: Request, cursor: str | None) -> str | None:
    if cursor is None:
        return None
    return str(request.url.include_query_params(cursor=cursor))


def page_of(request: Request, items: Iterable[T], cursor: str | None) -> Page[T]:
    """A list's answer: its page of reads and the URL of the next page."""
    return Page[Any](items=list(items), next=next_url(request, cursor))


def link_next(request: Request, response: Response, cursor: str | None) -> str | None:
    """The next page's URL, also as a ``Link`` header (RFC 8288): the one place a bare JSON
    array can say where its next page is."""
    url = next_url(request, cursor)
    if url is not None:
        response.headers["Link"] = f'<{url}>; rel="next"'
    return url
