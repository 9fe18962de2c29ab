"""Keyset paging: ``limit`` clamped, an opaque ``cursor``, and the ``next`` link."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import datetime
from typing import Any, Generic, TypeVar

from fastapi import Request
from pydantic import BaseModel
from sqlalchemy import ColumnElement, Select
from sqlalchemy.orm import Session

from api.core.errors import InvalidInput

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


def after_keyset(
    cursor: str | None, ts_col: Any, id_col: Any, *, descending: bool = False
) -> ColumnElement[bool] | None:
    """The condition that starts a page right after the cursor's (timestamp, id)."""
    values = decode_cursor(cursor, 2)
    if values is None:
        return None
    try:
        at, last = datetime.fromisoformat(str(values[0])), uuid.UUID(str(values[1]))
    except ValueError as exc:
        raise InvalidInput.at(["query", "cursor"], "not a cursor from this API") from exc
    if descending:
        cond: ColumnElement[bool] = (ts_col < at) | ((ts_col == at) & (id_col < last))
    else:
        cond = (ts_col > at) | ((ts_col == at) & (id_col > last))
    return cond


def keyset_page(
    session: Session,
    stmt: Select[Any],
    ts_col: Any,
    id_col: Any,
    n: int,
    *,
    descending: bool = False,
) -> tuple[list[Any], str | None]:
    """One page of ``stmt`` ordered by (timestamp, id), and the cursor of the next page."""
    order = (ts_col.desc(), id_col.desc()) if descending else (ts_col, id_col)
    rows = list(session.scalars(stmt.order_by(*order).limit(n + 1)))
    more = len(rows) > n
    rows = rows[:n]
    if not (more and rows):
        return rows, None
    last = rows[-1]
    return rows, encode_cursor(
        [getattr(last, ts_col.key).isoformat(), str(getattr(last, id_col.key))]
    )
