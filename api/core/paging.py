"""Keyset paging: ``limit`` clamped, an opaque ``cursor``, and the ``next`` link.

Every list of the API pages the same way: ``limit`` (default 100, clamped to the list's
maximum, never refused for being large), an opaque ``cursor`` (the sort key of the last row
sent, base64 JSON) and the URL of the next page: a ``next`` member where the body is an
object (``Page``, a FeatureCollection's ``links``), a ``Link: <...>; rel="next"`` header
where the body is a bare JSON array that cannot grow a member (both built from the request in
``api.http.paging``). Lists read from the database
seek past the cursor in SQL (``seek``, ``feed_page``); lists that are sorted in Python anyway
(by distance, by priority, a taxonomy) page the sorted list the same way (``page_sorted``).
"""

from __future__ import annotations

import base64
import enum
import json
import uuid
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel
from sqlalchemy import ColumnElement, Select, and_, or_
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
        raise InvalidInput.at(["query", "limit"], "error.at_least_one")
    return min(limit, maximum)


def encode_cursor(values: list[Any]) -> str:
    raw = json.dumps(values, separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None, size: int | None) -> list[Any] | None:
    """The sort key in ``cursor`` (of ``size`` values; None: any number), or None without one."""
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput.at(["query", "cursor"], "error.bad_cursor") from exc
    if not isinstance(values, list) or (size is not None and len(values) != size):
        raise InvalidInput.at(["query", "cursor"], "error.bad_cursor")
    return values


# --- the sort key of a row, in a cursor and back -------------------------------------------------


def _plain(value: Any) -> Any:
    """A sort key value as JSON keeps it (and compares it, for ``page_sorted``)."""
    if isinstance(value, enum.Enum):
        return _plain(value.value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def _python_type(column: Any) -> type | None:
    sql_type = getattr(column, "type", None)
    # A TypeDecorator (UTCDateTime) says what it stores through the type it decorates.
    sql_type = getattr(sql_type, "impl_instance", sql_type)
    try:
        kind: type = sql_type.python_type  # type: ignore[union-attr]
    except (AttributeError, NotImplementedError):
        return None
    return kind


def _parsed(value: Any, column: Any) -> Any:
    kind = _python_type(column)
    if value is None or kind is None or isinstance(value, bool):
        return value
    if issubclass(kind, datetime):
        return datetime.fromisoformat(str(value))
    if issubclass(kind, date):
        return date.fromisoformat(str(value))
    if issubclass(kind, uuid.UUID):
        return uuid.UUID(str(value))
    if issubclass(kind, enum.Enum):
        return kind(value)
    if issubclass(kind, int | float) and not isinstance(value, int | float):
        raise ValueError("not a number")
    if issubclass(kind, str) and not isinstance(value, str):
        raise ValueError("not text")
    return value


def encode_key(values: Sequence[Any]) -> str:
    """The cursor of a row whose sort key is ``values``."""
    return encode_cursor([_plain(v) for v in values])


def keyset_after(
    cursor: str | None, columns: Sequence[Any], *, descending: bool = False
) -> ColumnElement[bool] | None:
    """The condition that starts a page right after the cursor's row, for rows ordered by
    ``columns`` (the last of which is unique): ``(a, b, c) > (x, y, z)``, spelled out."""
    values = decode_cursor(cursor, len(columns))
    if values is None:
        return None
    return after_values(values, columns, descending=descending)


def after_values(
    values: Sequence[Any], columns: Sequence[Any], *, descending: bool = False
) -> ColumnElement[bool]:
    """``keyset_after`` for a sort key already taken out of a cursor."""
    try:
        parsed = [_parsed(v, c) for v, c in zip(values, columns, strict=True)]
    except (TypeError, ValueError) as exc:
        raise InvalidInput.at(["query", "cursor"], "error.bad_cursor") from exc
    terms: list[ColumnElement[bool]] = []
    for i, (column, value) in enumerate(zip(columns, parsed, strict=True)):
        beyond = column < value if descending else column > value
        equal = [c == v for c, v in zip(columns[:i], parsed[:i], strict=True)]
        terms.append(and_(*equal, beyond) if equal else beyond)
    return or_(*terms)


def _order(columns: Sequence[Any], descending: bool) -> list[Any]:
    return [c.desc() for c in columns] if descending else list(columns)


def seek(
    session: Session,
    stmt: Select[*tuple[Any, ...]],
    columns: Sequence[Any],
    n: int | None,
    cursor: str | None,
    *,
    descending: bool = False,
    key: Callable[[Any], Sequence[Any]] | None = None,
) -> tuple[list[Any], str | None]:
    """One page of ``stmt`` ordered by ``columns``, and the cursor of the next (None: the last
    page). Rows are entities (``session.scalars``), or with ``key`` result rows and how to
    read their sort key. ``n`` None: every row."""
    after = keyset_after(cursor, columns, descending=descending)
    if after is not None:
        stmt = stmt.where(after)
    stmt = stmt.order_by(*_order(columns, descending))
    if n is not None:
        stmt = stmt.limit(n + 1)
    rows: list[Any] = (
        list(session.scalars(stmt)) if key is None else list(session.execute(stmt).all())
    )
    if n is None or len(rows) <= n:
        return rows, None
    rows = rows[:n]
    last = rows[-1]
    values = key(last) if key is not None else [getattr(last, c.key) for c in columns]
    return rows, encode_key(values)


def feed_page(
    session: Session,
    base: Select[Any],
    columns: Sequence[Any],
    n: int,
    cursor: str | None,
) -> tuple[Select[Any], str | None]:
    """For a body the database writes and the response streams: ``base`` narrowed to the page
    (to be given its output columns by the caller), and the next page's cursor, found first by
    a small query for where the page ends, since the ``next`` link goes out in the headers
    before the body streams."""
    after = keyset_after(cursor, columns)
    if after is not None:
        base = base.where(after)
    tail = session.execute(
        base.with_only_columns(*columns).order_by(*columns).offset(n - 1).limit(2)
    ).all()
    nxt = encode_key(list(tail[0])) if len(tail) == 2 else None
    return base.order_by(*columns).limit(n), nxt


def page_sorted(
    rows: Sequence[T], key: Callable[[T], Sequence[Any]], n: int, cursor: str | None
) -> tuple[list[T], str | None]:
    """One page of ``rows``, already sorted by ``key`` (JSON scalars, the last unique), for
    lists that are read and sorted whole anyway; the cursor is the last row's key."""
    start = 0
    values = decode_cursor(cursor, len(key(rows[0])) if rows else None)
    if values is not None:
        last = tuple(values)
        try:
            start = next(
                (i for i, r in enumerate(rows) if tuple(_plain(v) for v in key(r)) > last),
                len(rows),
            )
        except TypeError as exc:  # a key of other types than this list's
            raise InvalidInput.at(["query", "cursor"], "error.bad_cursor") from exc
    page = list(rows[start : start + n])
    more = start + n < len(rows)
    return page, (encode_key(key(page[-1])) if more and page else None)


def after_keyset(
    cursor: str | None, ts_col: Any, id_col: Any, *, descending: bool = False
) -> ColumnElement[bool] | None:
    """The condition that starts a page right after the cursor's (timestamp, id)."""
    return keyset_after(cursor, [ts_col, id_col], descending=descending)


def keyset_page(
    session: Session,
    stmt: Select[Any],
    ts_col: Any,
    id_col: Any,
    n: int,
    *,
    descending: bool = False,
) -> tuple[list[Any], str | None]:
    """One page of ``stmt`` (already past the cursor) ordered by (timestamp, id), and the
    cursor of the next page."""
    return seek(session, stmt, [ts_col, id_col], n, None, descending=descending)
