"""GeoJSON feeds for planners' maps (RFC 7946), emitted by the database and streamed.

Each page is: a small pre-query that finds where the page ends (for the ``next`` link, which
must be in the headers before the body streams), then the Features as JSON text straight from
the database through a server-side cursor. Memory stays flat however large the page.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Generator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shapely.geometry.base import BaseGeometry
from sqlalchemy import Connection, Select, literal_column, select
from sqlalchemy.orm import Session
from sqlmodel import col

from api.action_items import features as item_features
from api.areas import features as area_features
from api.assets import features as asset_features
from api.assets import service as assets
from api.auth.principal import Principal
from api.core import dialect, spatial
from api.core.errors import InvalidInput
from api.core.features import columns
from api.core.paging import (
    after_values,
    decode_cursor,
    encode_key,
    feed_page,
)
from api.observations import features as observation_features
from api.privacy import sensitive
from api.walks import features as walk_features
from geo.projection import buffer_m
from models import (
    JOINABLE,
    ActionItem,
    Area,
    Asset,
    Category,
    Observation,
    Walk,
    utcnow,
)

CHUNK_ROWS = 2000


@dataclass
class Page:
    statement: Select[Any]
    next_cursor: str | None


@dataclass
class FeedFilter:
    bbox: tuple[float, float, float, float] | None = None
    category: str | None = None
    area_id: uuid.UUID | None = None
    walk_id: uuid.UUID | None = None
    status: list[str] | None = None
    since: datetime | None = None
    until: datetime | None = None


def observations_page(
    session: Session, principal: Principal, f: FeedFilter, *, limit: int, cursor: str | None
) -> Page:
    base = observation_features.located(col(Observation.organization_id) == principal.org_id)
    if f.category:
        base = base.where(col(Category.code) == f.category)
    if f.area_id:
        base = base.where(col(Observation.area_id) == f.area_id)
    if f.walk_id:
        base = base.where(col(Observation.walk_id) == f.walk_id)
    if f.status:
        base = base.where(col(Observation.moderation).in_(f.status))
    if f.since:
        base = base.where(col(Observation.recorded_at) >= f.since)
    if f.until:
        base = base.where(col(Observation.recorded_at) < f.until)
    mask = sensitive.masked(principal)
    if f.bbox:
        # Found by the point the caller is shown, so a box cannot corner a sensitive one.
        base = base.where(sensitive.bbox_condition(session, mask, f.bbox))
    page, nxt = feed_page(
        session, base, [col(Observation.received_at), col(Observation.id)], limit, cursor
    )
    feature = dialect.feature_json(
        session,
        col(Observation.id),
        sensitive.shown_location(mask),
        columns(observation_features.properties(mask)),
    )
    return Page(page.with_only_columns(feature.label("f")), nxt)


def action_items_page(
    session: Session,
    principal: Principal,
    f: FeedFilter,
    *,
    limit: int,
    cursor: str | None,
    view: sensitive.ItemView | None = None,
) -> Page:
    """The items as ``view`` shows their locations (``sensitive.item_view``; None: as stored),
    oldest first."""
    view = view if view is not None else sensitive.ItemView(ActionItem.location)
    base = item_features.listed(col(ActionItem.organization_id) == principal.org_id)
    if f.status:
        base = base.where(col(ActionItem.status).in_(f.status))
    if f.category:
        base = base.where(col(Category.code) == f.category)
    if f.area_id:
        base = base.where(col(ActionItem.area_id) == f.area_id)
    if view.exclude is not None:
        base = base.where(~view.exclude)
    if f.bbox:
        base = base.where(sensitive.item_bbox_condition(session, view, f.bbox))
    page, nxt = feed_page(
        session, base, [col(ActionItem.created_at), col(ActionItem.id)], limit, cursor
    )
    props = columns(item_features.properties())
    feature = dialect.feature_json(session, col(ActionItem.id), view.location, props)
    return Page(page.with_only_columns(feature.label("f")), nxt)


def areas_page(session: Session, principal: Principal, *, limit: int, cursor: str | None) -> Page:
    """Areas with the counts a choropleth needs (observations, open and overdue items), by
    name."""
    base = select(Area).where(col(Area.organization_id) == principal.org_id)
    page, nxt = feed_page(session, base, [col(Area.name), col(Area.id)], limit, cursor)
    props = columns(area_features.properties())
    feature = dialect.feature_json(session, col(Area.id), Area.geometry, props)
    return Page(page.with_only_columns(feature.label("f")), nxt)


def assets_page(
    session: Session,
    principal: Principal,
    *,
    kind: str | None,
    bbox: tuple[float, float, float, float] | None,
    limit: int,
    cursor: str | None,
) -> Page:
    """Assets that are still there (not removed), by (kind, external_id). A participant gets
    those within ``WALK_ASSET_MARGIN_M`` of their walk's area, while the walk may be joined."""
    base = assets.filtered(
        session, principal.org_id, kind=kind, bbox=bbox, status=asset_features.SHOWN_STATUSES
    )
    if principal.participant is not None:
        walk = session.get(Walk, principal.participant.walk_id)
        reach = _walk_reach(session, walk) if walk is not None and walk.status in JOINABLE else None
        if reach is None:
            base = base.where(literal_column("1") == 0)
        else:
            base = base.where(dialect.intersects(session, "asset", Asset.location, reach))
    order = [col(Asset.kind), col(Asset.external_id), col(Asset.id)]
    page, nxt = feed_page(session, base, order, limit, cursor)
    feature = dialect.feature_json(
        session, col(Asset.id), Asset.location, asset_features.properties()
    )
    return Page(page.with_only_columns(feature.label("f")), nxt)


# How far beyond its walk's area (or route, without an area) a participant sees lamps.
WALK_ASSET_MARGIN_M = 100.0


def _walk_reach(session: Session, walk: Walk) -> BaseGeometry | None:
    """The walk's area (or route) grown by the margin: the shape, not its bounding box, so a
    long thin area does not show the lamps of a whole district."""
    shape = None
    if walk.area_id is not None:
        area = session.get(Area, walk.area_id)
        shape = spatial.from_db(area.geometry) if area is not None else None
    if shape is None and walk.route is not None:
        shape = spatial.from_db(walk.route)
    if shape is None:
        return None
    return buffer_m(shape, WALK_ASSET_MARGIN_M)


# A walk's map is one sequence: its area, its route, then its observations by time. The sort
# key of every feature is (stage, time, id), so a page may end anywhere in it.
_AREA, _ROUTE, _OBSERVATIONS = 0, 1, 2


@dataclass
class WalkPage:
    statements: list[Select[Any]]
    next_cursor: str | None


def walk_page(
    session: Session, walk: Walk, principal: Principal, *, limit: int, cursor: str | None
) -> WalkPage:
    """The walk's area and route (if any) and its observations, as Feature streams, ``limit``
    features after ``cursor``.

    The area comes first so that a map drawing features in order puts it underneath. No
    feature names who made it; sensitive ones are shown to ``principal`` as the rule says
    (a participant sees their own in full, the others' generalised)."""
    key = decode_cursor(cursor, 3)
    stage = -1 if key is None else key[0]
    if not isinstance(stage, int):
        raise InvalidInput.at(["query", "cursor"], "error.bad_cursor")
    mask = sensitive.masked(principal)
    fixed: list[tuple[int, uuid.UUID, Select[Any]]] = []
    if walk.area_id is not None:
        area = select(
            dialect.feature_json(
                session,
                col(Area.id),
                Area.geometry,
                [("kind", "text", literal_column("'area'")), ("name", "text", col(Area.name))],
            ).label("f")
        ).where(col(Area.id) == walk.area_id)
        fixed.append((_AREA, walk.area_id, area))
    if walk.route is not None:
        route_props = [
            ("kind", "text", literal_column("'route'")),
            *columns(walk_features.properties()),
        ]
        route = select(
            dialect.feature_json(session, col(Walk.id), Walk.route, route_props).label("f")
        ).where(col(Walk.id) == walk.id)
        fixed.append((_ROUTE, walk.id, route))
    due = [f for f in fixed if f[0] > stage][:limit]
    statements = [stmt for _, _, stmt in due]
    last: list[Any] | None = [due[-1][0], "", str(due[-1][1])] if due else None
    base = observation_features.located(col(Observation.walk_id) == walk.id)
    order = [col(Observation.recorded_at), col(Observation.id)]
    if key is not None and stage == _OBSERVATIONS:
        base = base.where(after_values(key[1:], order))
    room = limit - len(due)
    if room == 0:
        # The page is full of area and route: is there anything after them?
        more = session.scalar(base.with_only_columns(col(Observation.id)).limit(1)) is not None
        nxt = encode_key(last) if more and last is not None else None
        return WalkPage(statements, nxt)
    obs_props = [
        ("kind", "text", literal_column("'observation'")),
        *columns(observation_features.properties(mask)),
    ]
    feature = dialect.feature_json(
        session, col(Observation.id), sensitive.shown_location(mask), obs_props
    )
    page, obs_next = feed_page(session, base, order, room, None)
    statements.append(page.with_only_columns(feature.label("f")))
    tail = decode_cursor(obs_next, 2)
    return WalkPage(statements, encode_key([_OBSERVATIONS, *tail]) if tail else None)


ConnectionProvider = Callable[[], AbstractContextManager[Connection]]


def stream_collection(
    connect: ConnectionProvider, statements: list[Select[Any]], extra: dict[str, Any]
) -> Generator[bytes]:
    """Stream ``{"type":"FeatureCollection","features":[...], **extra}`` from the database,
    through a server-side cursor on a connection of its own (the request's session is closed
    by the time the body streams).

    The first query has run, and its first rows are fetched, before this returns: an error in
    it is still an error response, never a 200 cut off in the middle of its body."""
    body = _stream(connect, statements, extra)
    first = next(body)
    return _after(first, body)


def _after(first: bytes, rest: Generator[bytes]) -> Generator[bytes]:
    # A generator, not a chain: closing it closes ``rest`` (its cursor and connection) too.
    yield first
    yield from rest


def _stream(
    connect: ConnectionProvider, statements: list[Select[Any]], extra: dict[str, Any]
) -> Generator[bytes]:
    head = b'{"type":"FeatureCollection","features":['
    returned = 0
    with connect() as conn:
        for stmt in statements:
            result = conn.execute(stmt.execution_options(stream_results=True, yield_per=CHUNK_ROWS))
            try:
                while True:
                    rows = result.fetchmany(CHUNK_ROWS)
                    if not rows:
                        break
                    parts = [r[0] for r in rows]
                    chunk = ",".join(parts)
                    yield head + ((b"," if returned else b"") + chunk.encode())
                    head = b""
                    returned += len(parts)
            finally:
                result.close()  # also when the body is closed half-read
    tail = {
        **extra,
        "numberReturned": returned,
        "timeStamp": utcnow().strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    yield head + b"]," + json.dumps(tail, separators=(",", ":"))[1:].encode()
