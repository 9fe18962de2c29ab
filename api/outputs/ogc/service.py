"""The collections of /ogc and their queries. Features are JSON text built by the database and
streamed (``api.outputs.maps.service.stream_collection``); paging is the feeds' keyset cursor, so a
client paging while observations arrive sees every feature exactly once.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session
from sqlmodel import col

from api.action_items import features as item_features
from api.areas import features as area_features
from api.assets import features as asset_features
from api.auth.principal import Principal
from api.core import dialect
from api.core.errors import InvalidInput, NotFound
from api.core.features import masked
from api.core.paging import after_keyset, decode_cursor, encode_cursor
from api.observations import features as observation_features
from api.outputs.ogc import cql2
from api.outputs.ogc.cql2 import Property as Property
from api.outputs.ogc.crs import BadParameter, OutputCrs
from api.privacy import sensitive
from api.walks import features as walk_features
from models import (
    ActionItem,
    Area,
    Asset,
    AssetOwner,
    Observation,
    Walk,
)

WORLD = [-180.0, -90.0, 180.0, 90.0]


@dataclass(frozen=True)
class Collection:
    id: str
    title: str
    description: str
    geometry_type: str  # Point | LineString | MultiPolygon (the one type every feature has)
    table: str
    geom: InstrumentedAttribute[Any]
    id_col: Any
    ts_col: Any  # keyset: (ts_col, id_col)
    temporal: Any | None  # what ``datetime`` filters on
    properties: tuple[Property, ...]
    base: Callable[[Principal], Select[Any]] = field(repr=False)
    # For one caller (``for_caller``): the geometry they are shown and filter on, when it is
    # not ``geom`` (sensitive places, generalised), and rows left out for them.
    shown: Any = field(default=None, repr=False)
    exclude: Any = field(default=None, repr=False)
    # The indexed column ``shown`` takes where it is not ``geom`` (observations' generalised
    # point), so a bbox asks both spatial indexes for the box itself.
    general: Any = field(default=None, repr=False)

    @property
    def queryables(self) -> dict[str, Property]:
        return {p.name: p for p in self.properties if p.queryable}

    @property
    def shown_geom(self) -> Any:
        return self.geom if self.shown is None else self.shown

    def geometry_expr(self, session: Session) -> Any:
        return (
            dialect.multi(session, self.shown_geom)
            if self.geometry_type.startswith("Multi")
            else self.shown_geom
        )

    def select(self, principal: Principal) -> Select[Any]:
        stmt = self.base(principal)
        return stmt if self.exclude is None else stmt.where(~self.exclude)

    def bbox_condition(self, session: Session, bbox: tuple[float, ...]) -> ColumnElement[bool]:
        box = (bbox[0], bbox[1], bbox[2], bbox[3])
        if self.shown is None:
            return dialect.bbox_filter(session, self.table, self.geom, box)
        return dialect.bbox_filter_shown(
            session, self.table, self.geom, box, self.shown, sensitive.widen(box),
            general=self.general,
        )  # fmt: skip


# Plain query parameters on items (besides CQL2), declared in the OpenAPI so GDAL pushes
# ``WHERE status = 'new'`` down even without CQL2.
PROPERTY_PARAMS = ("status", "category", "department", "area_id", "walk_id", "owner")


def _of_org(
    table: type[Observation] | type[ActionItem] | type[Area] | type[Walk],
    shown: Callable[[ColumnElement[bool]], Select[Any]] | None = None,
) -> Callable[[Principal], Select[Any]]:
    """The ids of the caller's organization's rows of ``table`` that ``shown`` keeps."""

    def base(principal: Principal) -> Select[Any]:
        of_org = col(table.organization_id) == principal.org_id
        if shown is None:
            return select(col(table.id)).where(of_org)
        return shown(of_org).with_only_columns(col(table.id))

    return base


def _assets(cid: str, kind: str) -> Collection:
    def base(principal: Principal) -> Select[Any]:
        return (
            select(col(Asset.id))
            .select_from(Asset)
            .where(
                col(Asset.organization_id) == principal.org_id,
                col(Asset.kind) == kind,
                col(Asset.status).in_([str(s) for s in asset_features.SHOWN_STATUSES]),
            )
        )

    titles = {"kind": "Asset kind", "external_id": "Lamp number or NVDB id", "owner": "Owner",
              "owner_name": "Owner's name", "status": "Status"}  # fmt: skip
    enums = {
        "owner": tuple(str(o) for o in AssetOwner),
        "status": tuple(str(s) for s in asset_features.SHOWN_STATUSES),
    }
    props = tuple(
        Property(name, kind, "string", column, titles[name], enums.get(name))
        for name, kind, column in asset_features.properties()
    )
    return Collection(
        cid, "Street lights", "The lamp register: lamp number, owner and status.",
        "Point", "asset", Asset.location, col(Asset.id),
        col(Asset.created_at), None, props, base,
    )  # fmt: skip


@lru_cache(maxsize=1)
def collections() -> dict[str, Collection]:
    found = (
        Collection(
            "observations", "Observations", "What walk participants noted, where and when.",
            "Point", "observation", Observation.location, col(Observation.id),
            col(Observation.received_at), col(Observation.recorded_at),
            observation_features.properties(), _of_org(Observation, observation_features.located),
        ),
        Collection(
            "action-items", "Action items", "The action list: one fixable thing in one area.",
            "Point", "action_item", ActionItem.location, col(ActionItem.id),
            col(ActionItem.created_at), col(ActionItem.created_at),
            item_features.properties(), _of_org(ActionItem, item_features.listed),
        ),
        Collection(
            "areas", "Areas",
            "Districts and neighbourhoods, with observation and action item counts.",
            "MultiPolygon", "area", Area.geometry, col(Area.id),
            col(Area.created_at), None, area_features.properties(), _of_org(Area),
        ),
        Collection(
            "walks", "Walks", "Safety walks and their planned routes (no participants).",
            "LineString", "walk", Walk.route, col(Walk.id),
            col(Walk.created_at), col(Walk.starts_at), walk_features.properties(), _of_org(Walk),
        ),
        *(_assets(cid, kind) for cid, kind in asset_features.COLLECTIONS.items()),
    )  # fmt: skip
    return {c.id: c for c in found}


def get_collection(cid: str) -> Collection:
    found = collections().get(cid)
    if found is None:
        raise NotFound(key="error.ogc_no_collection", params={"cid": cid})
    return found


def for_caller(session: Session, principal: Principal, c: Collection) -> Collection:
    """The collection as this caller sees it (sensitive places, ``api.privacy.sensitive``):
    observations of sensitive categories at their generalised point and without a note, items
    of sensitive categories at theirs, for everyone but coordinators and admins. Geometry
    filters and the extent use the same point, so they cannot locate the true one."""
    if c.id == "observations":
        mask = sensitive.masked(principal)
        if mask is None:
            return c
        props = masked(
            c.properties, observation_features.MASKED, lambda v: sensitive.shown(mask, v)
        )
        return replace(
            c,
            shown=sensitive.shown_location(mask),
            general=Observation.location_general,
            properties=props,
        )
    if c.id == "action-items":
        view = sensitive.item_view(session, principal)
        shown = None if view.location is ActionItem.location else view.location
        if shown is None and view.exclude is None:
            return c
        return replace(c, shown=shown, exclude=view.exclude)
    return c


# --- metadata -----------------------------------------------------------------------------


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return str(value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
    return str(value)  # SQLite may hand back the stored text


def extent(session: Session, principal: Principal, c: Collection) -> dict[str, Any]:
    """The collection's spatial and temporal extent, from the data the caller may see."""
    c = for_caller(session, principal, c)
    cols = dialect.extent(session, c.shown_geom)
    if c.temporal is not None:
        cols += [func.min(c.temporal), func.max(c.temporal)]
    row = session.execute(c.select(principal).with_only_columns(*cols)).one()
    bbox = [float(v) for v in row[:4]] if row[0] is not None else WORLD
    interval = [_iso(row[4]), _iso(row[5])] if c.temporal is not None else [None, None]
    return {
        "spatial": {"bbox": [bbox], "crs": "http://www.opengis.net/def/crs/OGC/1.3/CRS84"},
        "temporal": {
            "interval": [interval],
            "trs": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian",
        },
    }


# --- items --------------------------------------------------------------------------------


@dataclass
class ItemsQuery:
    limit: int
    cursor: str | None = None
    bbox: tuple[float, ...] | None = None  # lon/lat degrees, already converted from bbox-crs
    datetime: str | None = None
    properties: Mapping[str, str] = field(default_factory=dict)
    filter: cql2.Filter | None = None
    filter_crs: OutputCrs | None = None
    crs: OutputCrs | None = None


@dataclass
class ItemsPage:
    statement: Select[Any]
    number_matched: int
    next_cursor: str | None


def _parse_time(value: str) -> tuple[datetime, bool]:
    """A datetime, and whether it was a whole day (so an instant means that day)."""
    text = value.strip()
    if text.endswith("T"):  # GDAL sends "YYYY-MM-DDT/.." for a date
        text = text[:-1]
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return datetime.combine(day, time(0), tzinfo=UTC), True
        at = datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError as exc:
        raise BadParameter.at("datetime", "error.ogc_datetime", value=value) from exc
    return (at if at.tzinfo else at.replace(tzinfo=UTC)), False


def datetime_condition(value: str, column: Any) -> ColumnElement[bool]:
    """``datetime``: an instant, or a closed or open interval (``a/b``, ``../b``, ``a/..``)."""
    if "/" not in value:
        at, whole_day = _parse_time(value)
        if whole_day:
            return and_(column >= at, column < at + timedelta(days=1))
        instant: ColumnElement[bool] = column == at
        return instant
    start_text, _, end_text = (part.strip() for part in value.partition("/"))
    if start_text == "" and end_text == "":
        raise BadParameter.at("datetime", "error.ogc_interval")
    conds: list[ColumnElement[bool]] = [column.is_not(None)]
    if start_text not in ("", ".."):
        conds.append(column >= _parse_time(start_text)[0])
    if end_text not in ("", ".."):
        end, whole_day = _parse_time(end_text)
        conds.append(column < end + timedelta(days=1) if whole_day else column <= end)
    return and_(*conds)


def _filtered(session: Session, principal: Principal, c: Collection, q: ItemsQuery) -> Select[Any]:
    stmt = c.select(principal)
    if q.bbox is not None:
        stmt = stmt.where(c.bbox_condition(session, q.bbox))
    if q.datetime and c.temporal is not None:
        stmt = stmt.where(datetime_condition(q.datetime, c.temporal))
    queryables = c.queryables
    for name, raw in q.properties.items():
        prop = queryables.get(name)
        if prop is None:
            raise BadParameter.at(name, "error.ogc_not_queryable", collection=c.id)
        values = [cql2.coerce(prop, v.strip(), name) for v in raw.split(",")]
        stmt = stmt.where(prop.column.in_(values) if len(values) > 1 else prop.column == values[0])
    if q.filter is not None:
        ctx = cql2.Context(session, c.table, c.geom, queryables, q.filter_crs, c.shown)
        stmt = stmt.where(cql2.to_sql(q.filter, ctx))
    return stmt


def feature_expr(session: Session, c: Collection, crs: OutputCrs | None) -> ColumnElement[str]:
    geom = c.geometry_expr(session)
    decimals = 6
    if crs is not None:
        geom = dialect.transform(geom, crs.srid)
        if crs.swap_axes:
            geom = dialect.swap_axes(session, geom)
        decimals = crs.decimals
    props = [(p.name, p.kind, p.column) for p in c.properties]
    return dialect.feature_json(session, c.id_col, c.geom, props,
        geometry_text=dialect.geometry_geojson(session, geom, decimals),
    )  # fmt: skip


def _cursor(cursor: str | None) -> tuple[str | None, int | None]:
    """An items cursor is the feeds' keyset (timestamp, id) plus the first page's
    numberMatched, so later pages need not count again."""
    try:
        values = decode_cursor(cursor, 3)
    except InvalidInput as exc:
        raise BadParameter.at("cursor", "error.bad_cursor") from exc
    if values is None:
        return None, None
    if not isinstance(values[2], int) or values[2] < 0:
        raise BadParameter.at("cursor", "error.bad_cursor")
    return encode_cursor(values[:2]), values[2]


def items_page(session: Session, principal: Principal, c: Collection, q: ItemsQuery) -> ItemsPage:
    c = for_caller(session, principal, c)
    stmt = _filtered(session, principal, c, q)
    keyset, matched = _cursor(q.cursor)
    if matched is None:
        matched = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    try:
        after = after_keyset(keyset, c.ts_col, c.id_col)
    except InvalidInput as exc:
        raise BadParameter.at("cursor", "error.bad_cursor") from exc
    if after is not None:
        stmt = stmt.where(after)
    order = (c.ts_col, c.id_col)
    # Where this page ends: the limit-th row, and whether one more exists.
    tail = session.execute(
        stmt.with_only_columns(*order).order_by(*order).offset(q.limit - 1).limit(2)
    ).all()
    nxt = None
    if len(tail) == 2:
        nxt = encode_cursor([tail[0][0].isoformat(), str(tail[0][1]), matched])
    feature = feature_expr(session, c, q.crs).label("f")
    return ItemsPage(stmt.with_only_columns(feature).order_by(*order).limit(q.limit), matched, nxt)


def one_feature(
    session: Session, principal: Principal, c: Collection, fid: str, crs: OutputCrs | None
) -> dict[str, Any]:
    try:
        key = uuid.UUID(fid)
    except ValueError as exc:
        raise NotFound(key="error.ogc_no_feature", params={"fid": fid, "collection": c.id}) from exc
    c = for_caller(session, principal, c)
    stmt = (
        c.select(principal).where(c.id_col == key).with_only_columns(feature_expr(session, c, crs))
    )
    text = session.scalar(stmt)
    if text is None:
        raise NotFound(key="error.ogc_no_feature", params={"fid": fid, "collection": c.id})
    feature: dict[str, Any] = json.loads(text)
    return feature


def queryables_schema(c: Collection, self_url: str, *, everything: bool = False) -> dict[str, Any]:
    """The queryables, or with ``everything`` the schema of the features (Part 5), from which
    GDAL takes field types and the geometry type even when a page has only null geometries."""
    props: dict[str, Any] = {
        "geometry": {
            "title": "Geometry",
            "format": f"geometry-{c.geometry_type.lower()}",
            "x-ogc-role": "primary-geometry",
        }
    }
    props.update({p.name: p.schema() for p in c.properties if everything or p.queryable})
    return {
        "$schema": "https://json-schema.org/draft/2019-09/schema",
        "$id": self_url,
        "type": "object",
        "title": c.title,
        "properties": props,
        "additionalProperties": False,
    }


def feature_schema(c: Collection, self_url: str) -> dict[str, Any]:
    """JSON Schema of one GeoJSON Feature of the collection (the ``describedby`` link), from
    which GDAL types its fields instead of guessing from the first page."""
    flat = queryables_schema(c, self_url, everything=True)
    props = {k: v for k, v in flat["properties"].items() if k != "geometry"}
    return {
        "$schema": flat["$schema"],
        "$id": self_url,
        "title": c.title,
        "type": "object",
        "required": ["type", "geometry", "properties"],
        "properties": {
            "type": {"type": "string", "enum": ["Feature"]},
            "id": {"type": "string", "format": "uuid"},
            "geometry": {"title": c.geometry_type, "format": f"geometry-{c.geometry_type.lower()}"},
            "properties": {"type": "object", "properties": props},
        },
    }


def property_params(c: Collection) -> Iterable[Property]:
    q = c.queryables
    return [q[name] for name in PROPERTY_PARAMS if name in q]
