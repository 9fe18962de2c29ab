"""The asset register's use cases: import, lists, an asset with its history, the lamp an
observation names, what items show of their lamp, whose lamp it is, and dark gaps.

Called explicitly by capture (``link_observation``), by grouping (``referral_for``) and by the
item reads (``item_facts``); nothing here imports those domains back.
"""

from __future__ import annotations

import re
import statistics
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from shapely.geometry import LineString
from shapely.geometry.base import BaseGeometry
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlmodel import col

from api.assets import features
from api.assets.importer import AssetFileError, ImportOptions, read_assets
from api.core import dialect, spatial
from api.core.db import save_row
from api.core.errors import InvalidInput, NotFound
from api.core.outbound import endpoint_base
from api.core.paging import clamp_limit, encode_key, keyset_after
from geo.exposure import LIGHTING_CLASSES
from geo.lights import DarkGap, dark_gaps, snap_points
from geo.projection import geodesic_distance_m
from geo.units import bbox_around
from models import (
    ActionItem,
    ActionStatus,
    Area,
    Asset,
    AssetOwner,
    AssetOwnerRoute,
    AssetStatus,
    Category,
    Moderation,
    Observation,
    Organization,
    Photo,
    Walk,
    utcnow,
)
from models.assets import (
    AssetBrief,
    AssetImportReport,
    AssetItem,
    AssetOwnerRouteIn,
    AssetOwnerRouteRead,
    AssetRead,
    ImportRefusal,
)
from models.base import columns_for

RECURRING_ITEMS = 3
RECURRING_WINDOW = timedelta(days=365)
# Items that were never a fault of the lamp: merged into another, or emptied.
_NOT_A_FAULT = [str(ActionStatus.duplicate), str(ActionStatus.closed_empty)]
OWNER_LABELS: dict[AssetOwner, str] = {
    AssetOwner.municipality: "kommunen",
    AssetOwner.county: "fylkeskommunen",
    AssetOwner.state_roads: "Statens vegvesen",
    AssetOwner.private: "privat eier",
    AssetOwner.other: "annen eier",
}


# --- import ------------------------------------------------------------------------------------


class ImportRefused(InvalidInput):
    """A refused feature refused the whole file: nothing was written."""


def import_assets(
    session: Session,
    org_id: uuid.UUID,
    data: bytes,
    filename: str | None,
    *,
    kind: str,
    options: ImportOptions,
    full: bool = False,
    skip_invalid: bool = False,
) -> AssetImportReport:
    """Create or update the file's assets by ``external_id``; with ``full``, assets of the kind
    missing from the file become ``removed``. A refused feature refuses the file (422, with
    the report, nothing written) unless ``skip_invalid``."""
    try:
        result = read_assets(data, filename, options)
    except AssetFileError as exc:
        raise InvalidInput.at(["body", exc.field], exc.key, **exc.params) from exc
    refused = [ImportRefusal(feature=n, reason=r) for n, r in result.refused]
    if refused and not skip_invalid:
        report = AssetImportReport(refused=refused)
        first = refused[0]
        raise ImportRefused(
            key="error.asset_feature_refused",
            params={"feature": first.feature, "reason": first.reason},
            errors=[{"loc": ["body", "file", r.feature], "msg": r.reason} for r in refused],
            **report.model_dump(),
        )
    existing = {
        a.external_id: a
        for a in session.scalars(
            select(Asset).where(col(Asset.organization_id) == org_id, col(Asset.kind) == kind)
        )
    }
    now = utcnow()
    created = updated = removed = 0
    for row in result.rows:
        location = spatial.to_db(spatial.point(row.lon, row.lat))
        asset = existing.pop(row.external_id, None)
        if asset is None:
            session.add(
                Asset(
                    organization_id=org_id, kind=kind, external_id=row.external_id,
                    owner=row.owner, owner_name=row.owner_name, status=row.status,
                    location=location, properties=row.properties, created_at=now, updated_at=now,
                )
            )  # fmt: skip
            created += 1
            continue
        asset.location = location
        asset.owner, asset.owner_name = row.owner, row.owner_name
        asset.status = row.status
        asset.properties = row.properties
        asset.updated_at = now
        updated += 1
    if full:
        for asset in existing.values():
            if asset.status != AssetStatus.removed:
                asset.status = AssetStatus.removed
                asset.updated_at = now
                removed += 1
    session.flush()
    return AssetImportReport(created=created, updated=updated, removed=removed, refused=refused)


# --- reads -------------------------------------------------------------------------------------


def get_asset(session: Session, org_id: uuid.UUID, asset_id: uuid.UUID) -> Asset:
    asset = session.get(Asset, asset_id)
    if asset is None or asset.organization_id != org_id:
        raise NotFound(key="error.no_such_asset")
    return asset


def list_assets(
    session: Session,
    org_id: uuid.UUID,
    *,
    kind: str | None,
    bbox: tuple[float, float, float, float] | None,
    status: Sequence[AssetStatus],
    owner: Sequence[AssetOwner],
    limit: int | None,
    cursor: str | None,
    maximum: int,
) -> tuple[list[Asset], str | None]:
    """Keyset pages by (kind, external_id, id)."""
    n = clamp_limit(limit, maximum)
    order = [col(Asset.kind), col(Asset.external_id), col(Asset.id)]
    stmt = filtered(session, org_id, kind=kind, bbox=bbox, status=status, owner=owner)
    after = keyset_after(cursor, order)
    if after is not None:
        stmt = stmt.where(after)
    rows = list(session.scalars(stmt.order_by(*order).limit(n + 1)))
    more = len(rows) > n
    rows = rows[:n]
    last = rows[-1] if rows else None
    nxt = encode_key([last.kind, last.external_id, last.id]) if more and last else None
    return rows, nxt


def filtered(
    session: Session,
    org_id: uuid.UUID,
    *,
    kind: str | None = None,
    bbox: tuple[float, float, float, float] | None = None,
    status: Sequence[AssetStatus] = (),
    owner: Sequence[AssetOwner] = (),
) -> Any:
    stmt = select(Asset).where(col(Asset.organization_id) == org_id)
    if kind is not None:
        stmt = stmt.where(col(Asset.kind) == kind)
    if status:
        stmt = stmt.where(col(Asset.status).in_([str(s) for s in status]))
    if owner:
        stmt = stmt.where(col(Asset.owner).in_([str(o) for o in owner]))
    if bbox is not None:
        stmt = stmt.where(dialect.bbox_filter(session, "asset", Asset.location, bbox))
    return stmt


def _items_of(
    session: Session, asset_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[ActionItem]]:
    found: dict[uuid.UUID, list[ActionItem]] = defaultdict(list)
    if not asset_ids:
        return found
    for item in session.scalars(
        select(ActionItem)
        .where(col(ActionItem.asset_id).in_(list(asset_ids)))
        .order_by(col(ActionItem.created_at).desc(), col(ActionItem.id))
    ):
        assert item.asset_id is not None
        found[item.asset_id].append(item)
    return found


def _is_recurring(items: Sequence[ActionItem], now: datetime) -> bool:
    recent = [
        i
        for i in items
        if str(i.status) not in _NOT_A_FAULT and now - i.created_at <= RECURRING_WINDOW
    ]
    return len(recent) >= RECURRING_ITEMS


def to_read(session: Session, asset: Asset, *, with_items: bool = True) -> AssetRead:
    items = _items_of(session, [asset.id]).get(asset.id, [])
    return AssetRead.model_validate(
        {
            **columns_for(asset, AssetRead),
            "recurring": _is_recurring(items, utcnow()),
            "items": [
                AssetItem.model_validate(i, from_attributes=True) for i in items
            ] if with_items else [],
        }
    )  # fmt: skip


def to_reads(session: Session, assets: Sequence[Asset]) -> list[AssetRead]:
    """List entries: without each asset's items, with its recurring flag."""
    items = _items_of(session, [a.id for a in assets])
    now = utcnow()
    return [
        AssetRead.model_validate(
            {**columns_for(a, AssetRead), "recurring": _is_recurring(items.get(a.id, []), now)}
        )
        for a in assets
    ]


# --- observations name their lamp ----------------------------------------------------------------


def link_observation(
    session: Session,
    obs: Observation,
    cat: Category,
    chosen: uuid.UUID | None,
    point: BaseGeometry | None,
    loc: list[str | int],
) -> None:
    """The snapping step of capture: the participant's chosen asset, else the nearest in service
    of the category's kind within its snap distance (none beyond it)."""
    if chosen is not None:
        asset = session.get(Asset, chosen)
        if (
            asset is None
            or asset.organization_id != obs.organization_id
            or asset.status == AssetStatus.removed
            or (cat.asset_kind is not None and asset.kind != cat.asset_kind)
        ):
            raise InvalidInput.at([*loc, "asset_id"], "error.no_such_asset_for_category")
        obs.asset_id = asset.id
        if point is not None:
            lamp = spatial.from_db(asset.location)
            assert lamp is not None
            obs.asset_distance_m = round(geodesic_distance_m(point.x, point.y, lamp.x, lamp.y), 2)
        return
    if cat.asset_kind is None or point is None or cat.asset_snap_m <= 0:
        return
    box = bbox_around(point.x, point.y, cat.asset_snap_m * 1.01)
    near = session.execute(
        filtered(session, obs.organization_id, kind=cat.asset_kind, bbox=box,
                 status=features.LIGHTING)
        .with_only_columns(col(Asset.id), func.ST_X(Asset.location), func.ST_Y(Asset.location))
        .order_by(col(Asset.id))
    ).all()  # fmt: skip
    if not near:
        return
    snap = snap_points(
        [(point.x, point.y)], [(float(x), float(y)) for _, x, y in near], cat.asset_snap_m
    )[0]
    if snap.index is not None:
        obs.asset_id = near[snap.index][0]
        obs.asset_distance_m = snap.distance_m


# --- what items show of their lamp -------------------------------------------------------------


def lux_estimates(
    session: Session, item_ids: Sequence[uuid.UUID] = (), obs_ids: Sequence[uuid.UUID] = ()
) -> tuple[dict[uuid.UUID, float], dict[uuid.UUID, float]]:
    """The median photo estimate (lux) of each item (over its accepted observations' photos)
    and of each observation."""
    per_item: dict[uuid.UUID, list[float]] = defaultdict(list)
    per_obs: dict[uuid.UUID, list[float]] = defaultdict(list)
    if item_ids:
        for item_id, lux in session.execute(
            select(col(Observation.action_item_id), col(Photo.estimated_lux))
            .join(Observation, col(Observation.id) == col(Photo.observation_id))
            .where(
                col(Observation.action_item_id).in_(list(item_ids)),
                col(Observation.moderation) == Moderation.accepted,
                col(Photo.estimated_lux).is_not(None),
            )
        ).all():
            if item_id is not None and lux is not None:
                per_item[item_id].append(float(lux))
    if obs_ids:
        for obs_id, lux in session.execute(
            select(col(Photo.observation_id), col(Photo.estimated_lux)).where(
                col(Photo.observation_id).in_(list(obs_ids)),
                col(Photo.estimated_lux).is_not(None),
            )
        ).all():
            if obs_id is not None and lux is not None:
                per_obs[obs_id].append(float(lux))
    return (
        {k: round(statistics.median(v), 2) for k, v in per_item.items()},
        {k: round(statistics.median(v), 2) for k, v in per_obs.items()},
    )


def item_facts(session: Session, items: Sequence[ActionItem]) -> dict[uuid.UUID, dict[str, Any]]:
    """Per item: its asset, the asset's recurring flag, the photos' lux and whether that is
    below the organization's lighting class."""
    if not items:
        return {}
    asset_ids = {i.asset_id for i in items if i.asset_id is not None}
    assets = (
        {a.id: a for a in session.scalars(select(Asset).where(col(Asset.id).in_(asset_ids)))}
        if asset_ids
        else {}
    )
    history = _items_of(session, list(assets))
    lux, _ = lux_estimates(session, [i.id for i in items])
    targets = {
        org_id: LIGHTING_CLASSES.get(cls or "")
        for org_id, cls in session.execute(
            select(col(Organization.id), col(Organization.lighting_target_class)).where(
                col(Organization.id).in_({i.organization_id for i in items})
            )
        ).all()
    }
    now = utcnow()
    facts: dict[uuid.UUID, dict[str, Any]] = {}
    for i in items:
        asset = assets.get(i.asset_id) if i.asset_id is not None else None
        estimate = lux.get(i.id)
        target = targets.get(i.organization_id)
        facts[i.id] = {
            "asset": AssetBrief.model_validate(asset, from_attributes=True) if asset else None,
            "recurring": bool(asset) and _is_recurring(history.get(asset.id, []), now)
            if asset
            else False,
            "estimated_lux": estimate,
            "below_target": estimate is not None and target is not None and estimate < target,
        }
    return facts


# --- whose lamp it is ------------------------------------------------------------------------


# One address, no display name, nothing that could end a header line or add a recipient.
_EMAIL = re.compile(r"^[^@\s<>,;:\"()\[\]\\]+@[^@\s<>,;:\"()\[\]\\]+\.[^@\s<>,;:\"()\[\]\\.]+$")
OSM_MAP = "https://www.openstreetmap.org/?mlat={lat:.6f}&mlon={lon:.6f}#map=19/{lat:.6f}/{lon:.6f}"


@dataclass(frozen=True)
class Referral:
    owner_name: str
    # The owner's case system (an Open311 endpoint), if the route names one.
    route_id: uuid.UUID | None
    # The owner's mailbox, if the route names one instead.
    email: str | None = None


def referral_for(session: Session, item: ActionItem) -> Referral | None:
    """Where an item on a lamp the organization does not own goes: the owner's name, and the
    configured route (its case system or its mailbox) if any; None for the organization's own
    lamps."""
    if item.asset_id is None:
        return None
    asset = session.get(Asset, item.asset_id)
    if asset is None or asset.owner == AssetOwner.municipality:
        return None
    route = session.scalar(
        select(AssetOwnerRoute).where(
            col(AssetOwnerRoute.organization_id) == item.organization_id,
            col(AssetOwnerRoute.owner) == str(asset.owner),
        )
    )
    name = asset.owner_name or OWNER_LABELS[asset.owner]
    if route is None:
        return Referral(name, None)
    return Referral(name, route.id if route.url else None, route.email)


def referral_mail(session: Session, item: ActionItem, obs: Observation) -> dict[str, Any]:
    """What the owner's mail says: the lamp, where it is, what is wrong, and our reference.
    Never who reported it: the observation's note, not its author."""
    asset = session.get(Asset, item.asset_id) if item.asset_id else None
    cat = session.get(Category, item.category_id)
    where = spatial.from_db(asset.location if asset is not None else item.location)
    lon, lat = (where.x, where.y) if where is not None else (0.0, 0.0)
    note = obs.note if obs.note and obs.moderation == Moderation.accepted else None
    return {
        "item_id": str(item.id),
        "reference": str(item.id),
        "title": item.title,
        "category_nb": cat.label_nb if cat is not None else None,
        "category_en": cat.label_en if cat is not None else None,
        "category_labels": cat.labels if cat is not None else {},
        "description": note,
        "asset": asset.external_id if asset is not None else None,
        "owner": item.referred_to,
        "lon": round(lon, 6),
        "lat": round(lat, 6),
        "map_url": OSM_MAP.format(lat=lat, lon=lon),
    }


def _email(address: str) -> str:
    address = address.strip()
    if len(address) > 254 or not _EMAIL.match(address):
        raise InvalidInput.at(["body", "email"], "error.not_email")
    return address


def route_read(route: AssetOwnerRoute) -> AssetOwnerRouteRead:
    read = AssetOwnerRouteRead.model_validate(route, from_attributes=True)
    read.api_key_set = route.api_key is not None
    return read


def list_routes(session: Session, org_id: uuid.UUID) -> list[AssetOwnerRoute]:
    return list(
        session.scalars(
            select(AssetOwnerRoute)
            .where(col(AssetOwnerRoute.organization_id) == org_id)
            .order_by(col(AssetOwnerRoute.owner))
        )
    )


def get_route(session: Session, org_id: uuid.UUID, owner: AssetOwner) -> AssetOwnerRoute:
    route = session.scalar(
        select(AssetOwnerRoute).where(
            col(AssetOwnerRoute.organization_id) == org_id,
            col(AssetOwnerRoute.owner) == str(owner),
        )
    )
    if route is None:
        raise NotFound(key="error.no_asset_route", params={"owner": owner})
    return route


def put_route(
    session: Session,
    org_id: uuid.UUID,
    owner: AssetOwner,
    body: AssetOwnerRouteIn,
    *,
    allow_private: bool = False,
) -> AssetOwnerRoute:
    if owner == AssetOwner.municipality:
        raise InvalidInput.at(["path", "owner"], "error.own_assets_not_referred")
    data = body.model_dump()
    if body.email is not None:
        if body.url is not None or body.api_key is not None:
            raise InvalidInput.at(["body", "email"], "error.email_or_endpoint")
        data["email"] = _email(body.email)
    else:
        if body.url is None:
            raise InvalidInput.at(["body", "url"], "error.endpoint_or_email")
        if body.api_key is None:
            raise InvalidInput.at(["body", "api_key"], "error.owner_api_key")
        # The server posts to this URL: it may not point into the network it runs in.
        data["url"] = endpoint_base(str(body.url), allow_private=allow_private)
    try:
        route: AssetOwnerRoute | None = get_route(session, org_id, owner)
    except NotFound:
        route = None
    return save_row(
        session, route, data, partial(AssetOwnerRoute, organization_id=org_id, owner=owner)
    )


def delete_route(session: Session, org_id: uuid.UUID, owner: AssetOwner) -> None:
    session.delete(get_route(session, org_id, owner))
    session.flush()


# --- dark gaps ---------------------------------------------------------------------------------


def _lamps_near(
    session: Session, org_id: uuid.UUID, line: LineString, margin_m: float
) -> list[tuple[float, float]]:
    minx, miny, maxx, maxy = line.bounds
    lo = bbox_around(minx, miny, margin_m * 1.01)
    hi = bbox_around(maxx, maxy, margin_m * 1.01)
    box = (lo[0], lo[1], hi[2], hi[3])
    stmt = filtered(
        session, org_id, kind=features.COLLECTIONS["street-lights"], bbox=box,
        status=features.LIGHTING,
    ).with_only_columns(func.ST_X(Asset.location), func.ST_Y(Asset.location))  # fmt: skip
    return [(float(x), float(y)) for x, y in session.execute(stmt).all()]


def walk_gaps(session: Session, walk: Walk, max_gap_m: float) -> list[DarkGap]:
    route = spatial.from_db(walk.route) if walk.route is not None else None
    if not isinstance(route, LineString):
        return []
    coords = [(float(x), float(y)) for x, y, *_ in route.coords]
    lamps = _lamps_near(session, walk.organization_id, route, max_gap_m)
    return dark_gaps(coords, lamps, max_gap_m)


def area_walks(session: Session, area: Area) -> list[Walk]:
    return list(
        session.scalars(
            select(Walk)
            .where(
                col(Walk.organization_id) == area.organization_id,
                col(Walk.area_id) == area.id,
                col(Walk.route).is_not(None),
            )
            .order_by(col(Walk.created_at), col(Walk.id))
        )
    )


def gap_features(walk: Walk, gaps: Sequence[DarkGap]) -> list[dict[str, Any]]:
    """GeoJSON Features of a walk's gaps; the id is stable while the route and lamps are."""
    return [
        {
            "type": "Feature",
            "id": f"{walk.id}:{n}",
            "geometry": {"type": "LineString", "coordinates": [list(c) for c in g.coordinates]},
            "properties": {"walk_id": str(walk.id), "length_m": g.length_m},
        }
        for n, g in enumerate(gaps, 1)
    ]
