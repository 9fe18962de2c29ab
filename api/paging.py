"""Keyset paging: ``limit`` clamped, an opaque ``cursor``, and the ``next`` link."""

from __future__ import annotations

import base64
import json
from typing import Any, Generic, TypeVar

from fastapi import Request
from pydantic import BaseModel

from api.errors import InvalidInput

T = TypeVar("T")
DEFAULT_LIMIT = 100


class Page(BaseModel, Generic[T]):
    items: list[T]
    next: str | None = None


def clamp_limit(limit: int | None, maximum: int) -> int:
    if limit is None:
        return min(DEFAULT_LIMIT, maximum)
    if limit < 1:
        raise InvalidInput.at(["query", "limit"], "must be at least 1")
    return min(limit, maximum)


def encode_cursor(values: list[Any]) -> str:
    raw = json.dumps(values, separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None, size: int) -> list[Any] | None:
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput.at(["query", "cursor"], "not a cursor from this API") from exc
    if not isinstance(values, list) or len(values) != size:
        raise InvalidInput.at(["query", "cursor"], "not a cursor from this API")
    return values


def next_url(request: Request, cursor: str | None) -> str | None:
    if cursor is None:
        return None
    return str(request.url.include_query_params(cursor=cursor))
