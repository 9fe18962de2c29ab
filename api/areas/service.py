"""Areas: create, list, update, delete, import from GeoJSON, and find the area a point falls in."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session
from sqlmodel import col

from api.core import dialect, spatial, tenancy
from api.core.errors import Conflict, InvalidInput, Keyed, Message, render
from api.core.paging import decode_cursor, encode_cursor
from geo.geojson import GeometryError, parse_geometry, parse_geometry_explained, to_geojson
from geo.validity import Invalidity
from models import ActionItem, Area, AreaKind, Observation, Organization, Walk, utcnow
from models.areas import (
    AreaCreate,
    AreaImport,
    AreaImportResult,
    AreaRead,
    AreaUpdate,
    FeatureIssue,
)
from models.organizations import Language

POLYGON_TYPES = ("Polygon", "MultiPolygon")
# GeoJSON is WGS84 longitude/latitude (RFC 7946); older files may still say so in a `crs`.
WGS84_CRS_NAMES = frozenset(
    {
        "urn:ogc:def:crs:OGC:1.3:CRS84",
        "urn:ogc:def:crs:OGC::CRS84",
        "http://www.opengis.net/def/crs/OGC/1.3/CRS84",
        "EPSG:4326",
        "urn:ogc:def:crs:EPSG::4326",
        "http://www.opengis.net/def/crs/EPSG/0/4326",
    }
)


def parse_area_geometry(obj: Any, loc: list[str | int]) -> BaseGeometry:
    try:
        return parse_geometry(obj, POLYGON_TYPES)
    except GeometryError as exc:
        raise InvalidInput.at([*loc, *exc.loc], exc.key, **exc.params) from exc


def names(session: Session, ids: Iterable[uuid.UUID | None]) -> dict[uuid.UUID, str]:
    """The names of these areas (None and unknown ids are left out)."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = session.execute(select(col(Area.id), col(Area.name)).where(col(Area.id).in_(wanted)))
    return {area_id: name for area_id, name in rows}


def get_area(session: Session, org_id: uuid.UUID, area_id: uuid.UUID) -> Area:
    return tenancy.owned(session, Area, org_id, area_id, "error.no_such_area")


def create_area(
    session: Session,
    org: Organization,
    *,
    name: str,
    geometry: BaseGeometry,
    code: str | None = None,
    kind: AreaKind = AreaKind.custom,
    parent_id: uuid.UUID | None = None,
) -> Area:
    if parent_id is not None:
        get_area(session, org.id, parent_id)
    area = Area(
        organization_id=org.id,
        name=name,
        code=code,
        kind=kind,
        parent_id=parent_id,
        geometry=spatial.to_db(geometry),
    )
    session.add(area)
    session.flush()
    return area


@dataclass(frozen=True)
class Issue:
    """A feature the import repaired or refused: ``code`` is what the web app words,
    ``reason`` GEOS's or the check's English, ``message`` the same reason as a catalogue
    message, and ``fault`` what GEOS found in a polygon, where."""

    index: int  # from 0
    code: str  # not_a_feature | no_name | bad_geometry | repaired
    reason: str
    message: Keyed
    fault: Invalidity | None = None

    def read(self, lang: str) -> FeatureIssue:
        fault = self.fault
        return FeatureIssue(
            index=self.index,
            feature=self.index + 1,
            code=self.code,
            reason=self.reason,
            detail=render(self.message.key or "", self.message.params, lang),
            problem=fault.code if fault else None,
            at=[fault.lon, fault.lat]
            if fault and fault.lon is not None and fault.lat is not None
            else None,
        )


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    repaired: list[Issue] = field(default_factory=list)
    refused: list[Issue] = field(default_factory=list)


def _feature_name(props: dict[str, Any], name_property: str | None) -> str | None:
    keys = [name_property] if name_property else ["name", "navn", "NAME", "Name", "namn", "title"]
    for key in keys:
        value = props.get(key) if key else None
        if value not in (None, ""):
            return str(value)[:200]
    return None


def import_areas(
    session: Session,
    org: Organization,
    collection: Any,
    *,
    name_property: str | None = None,
    kind: AreaKind = AreaKind.neighbourhood,
    skip_invalid: bool = False,
) -> ImportReport:
    """Import polygons from a FeatureCollection; re-importing updates areas by code or name.

    All or nothing: one refused feature refuses the whole file unless ``skip_invalid``.
    """
    if not isinstance(collection, dict) or collection.get("type") != "FeatureCollection":
        raise InvalidInput.at(["body", "type"], "error.expected_feature_collection")
    _check_crs(collection.get("crs"))
    features = collection.get("features")
    if not isinstance(features, list):
        raise InvalidInput.at(["body", "features"], "error.expected_features")

    report = ImportReport()
    accepted: list[tuple[int, str, str | None, BaseGeometry]] = []
    for i, feature in enumerate(features):
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            report.refused.append(
                Issue(
                    i, "not_a_feature", "not a GeoJSON Feature", Message("error.area_not_a_feature")
                )
            )
            continue
        props = feature.get("properties") or {}
        if not isinstance(props, dict):
            props = {}
        name = _feature_name(props, name_property)
        if name is None:
            wanted = name_property or "name"
            report.refused.append(
                Issue(
                    i,
                    "no_name",
                    f"no {wanted!r} property to name the area",
                    Message("error.area_no_name", {"property": wanted}),
                )
            )
            continue
        try:
            geom, fault = parse_geometry_explained(feature.get("geometry"), POLYGON_TYPES)
        except GeometryError as exc:
            found = exc.params.get("reason")
            report.refused.append(
                Issue(
                    i,
                    "bad_geometry",
                    exc.message,
                    exc,
                    found if isinstance(found, Invalidity) else None,
                )
            )
            continue
        raw = feature.get("geometry") or {}
        if raw.get("type") != geom.geom_type or not _same_shape(raw, geom):
            what = (
                Message("error.area_repaired", {"reason": fault})
                if fault
                else Message("error.area_repaired_plain")
            )
            english = "invalid geometry repaired (make_valid)" + (
                f": {fault.reason}" if fault else ""
            )
            report.repaired.append(Issue(i, "repaired", english, what, fault))
        code = props.get("code") or props.get("kode")
        accepted.append((i, name, str(code)[:64] if code not in (None, "") else None, geom))

    if report.refused and not skip_invalid:
        refused = report.refused
        first = refused[0]
        raise InvalidInput(
            key="error.area_feature_refused",
            params={"feature": first.index + 1, "reason": first.message},
            errors=[
                {
                    "loc": ["body", "features", r.index, "geometry"],
                    "key": r.message.key,
                    "params": r.message.params,
                }
                for r in report.refused
            ],
            refused=lambda lang: [r.read(lang).model_dump() for r in refused],
        )

    # Match in Python: SQLite's lower() does not fold Nordic letters.
    existing_areas = list(session.scalars(select(Area).where(col(Area.organization_id) == org.id)))
    by_code = {a.code: a for a in existing_areas if a.code}
    by_name = {a.name.casefold(): a for a in existing_areas}
    for _i, name, code, geom in accepted:
        existing = by_code.get(code) if code else by_name.get(name.casefold())
        if existing is not None:
            existing.geometry = spatial.to_db(geom)
            existing.name = name
            existing.updated_at = utcnow()
            report.updated += 1
        else:
            area = create_area(session, org, name=name, geometry=geom, code=code, kind=kind)
            by_name[name.casefold()] = area
            if code:
                by_code[code] = area
            report.created += 1
    session.flush()
    return report


def _check_crs(crs: Any) -> None:
    """Refuse a file in projected coordinates (UTM 32N/33N is common in Norway) up front.

    Otherwise every feature fails the longitude range check with a message that hides the cause.
    """
    if crs is None:
        return
    name = crs.get("properties", {}).get("name") if isinstance(crs, dict) else None
    if not isinstance(name, str) or name not in WGS84_CRS_NAMES:
        raise InvalidInput.at(
            ["body", "crs"],
            "error.crs_not_wgs84",
            crs=name or crs,
        )


def _same_shape(raw: dict[str, Any], geom: BaseGeometry) -> bool:
    from shapely.geometry import shape

    try:
        original = shape(raw)
    except (ValueError, TypeError, AttributeError):
        return False
    return bool(original.is_valid) and bool(original.equals(geom))


def smallest_area_containing(
    session: Session, org_id: uuid.UUID, point: BaseGeometry
) -> Area | None:
    """The most specific area (smallest) that covers the point; ties broken by id."""
    stmt = (
        select(Area)
        .where(
            col(Area.organization_id) == org_id,
            dialect.contains_point(session, Area.geometry, point),
        )
        .order_by(func.ST_Area(Area.geometry), col(Area.id))
        .limit(1)
    )
    return session.scalar(stmt)


def smallest_areas_containing(
    session: Session,
    org_id: uuid.UUID,
    points: Sequence[BaseGeometry],
    *,
    also: Iterable[uuid.UUID] = (),
) -> tuple[list[Area | None], list[Area]]:
    """``smallest_area_containing`` for many points with one read: the organization's areas
    meeting the points' bounding box, then the same test (covers, border included; smallest
    first, ties by id) in Python. The same read loads the areas ``also`` names (a walk's area,
    say); every area read is returned as well."""
    wanted = []
    if points:
        xs, ys = [p.x for p in points], [p.y for p in points]
        # A little wider than the points, so that one point (or a row of them) is a real box.
        box = shapely.box(min(xs) - 1e-9, min(ys) - 1e-9, max(xs) + 1e-9, max(ys) + 1e-9)
        wanted.append(dialect.intersects(session, "area", Area.geometry, box))
    extra = sorted(set(also))
    if extra:
        wanted.append(col(Area.id).in_(extra))
    if not wanted:
        return [], []
    areas = list(
        session.scalars(select(Area).where(col(Area.organization_id) == org_id, or_(*wanted)))
    )
    shapes = [(spatial.from_db(a.geometry), a) for a in areas]
    ranked = sorted(
        ((g, a) for g, a in shapes if g is not None), key=lambda ga: (ga[0].area, ga[1].id)
    )
    found: list[Area | None] = []
    for p in points:
        found.append(next((a for g, a in ranked if g.covers(p)), None))
    return found, areas


# --- the API's use cases -------------------------------------------------------------------


def to_read(area: Area) -> AreaRead:
    geometry = spatial.from_db(area.geometry)
    assert geometry is not None  # the column is NOT NULL
    return AreaRead.model_validate(
        {
            "id": area.id,
            "name": area.name,
            "code": area.code,
            "kind": area.kind,
            "parent_id": area.parent_id,
            "geometry": to_geojson(geometry),
            "created_at": area.created_at,
            "updated_at": area.updated_at,
        }
    )


def _clean_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise InvalidInput.at(["body", "name"], "error.blank")
    return name


def _check_code_free(
    session: Session, org_id: uuid.UUID, code: str, *, area_id: uuid.UUID | None = None
) -> None:
    """Codes identify areas on re-import, so two areas of one organization never share one."""
    stmt = select(col(Area.id)).where(col(Area.organization_id) == org_id, col(Area.code) == code)
    if area_id is not None:
        stmt = stmt.where(col(Area.id) != area_id)
    if session.scalar(stmt.limit(1)) is not None:
        raise Conflict(key="error.area_code_taken", params={"code": code})


def _check_parent(
    session: Session, org_id: uuid.UUID, parent_id: uuid.UUID, *, child_id: uuid.UUID | None
) -> None:
    """The parent exists in the organization and is not the area itself or one of its descendants."""
    # One query for the whole tree (ids only, no geometries); hierarchies are a few levels deep.
    tree = select(col(Area.id), col(Area.parent_id)).where(col(Area.organization_id) == org_id)
    parents = {area_id: parent for area_id, parent in session.execute(tree)}
    if parent_id not in parents:
        raise InvalidInput.at(["body", "parent_id"], "error.no_such_area")
    node: uuid.UUID | None = parent_id
    seen: set[uuid.UUID] = set()
    while node is not None and node not in seen:
        if node == child_id:
            raise InvalidInput.at(["body", "parent_id"], "error.area_cycle")
        seen.add(node)
        node = parents.get(node)


def create_area_in(session: Session, org_id: uuid.UUID, body: AreaCreate) -> Area:
    org = session.get(Organization, org_id)
    assert org is not None  # the principal's organization
    name = _clean_name(body.name)
    geometry = parse_area_geometry(body.geometry.model_dump(), ["body", "geometry"])
    if body.parent_id is not None:
        _check_parent(session, org_id, body.parent_id, child_id=None)
    if body.code is not None:
        _check_code_free(session, org_id, body.code)
    return create_area(
        session,
        org,
        name=name,
        geometry=geometry,
        code=body.code,
        kind=body.kind,
        parent_id=body.parent_id,
    )


def update_area(session: Session, area: Area, body: AreaUpdate) -> Area:
    changes = body.model_dump(exclude_unset=True)
    for key in ("name", "kind", "geometry"):
        if key in changes and changes[key] is None:
            raise InvalidInput.at(["body", key], "error.not_null")
    if body.geometry is not None:
        area.geometry = spatial.to_db(
            parse_area_geometry(body.geometry.model_dump(), ["body", "geometry"])
        )
    if "parent_id" in changes:
        if body.parent_id is not None:
            _check_parent(session, area.organization_id, body.parent_id, child_id=area.id)
        area.parent_id = body.parent_id
    if "code" in changes:
        if body.code is not None:
            _check_code_free(session, area.organization_id, body.code, area_id=area.id)
        area.code = body.code
    if body.name is not None:
        area.name = _clean_name(body.name)
    if body.kind is not None:
        area.kind = body.kind
    area.updated_at = utcnow()
    session.flush()
    return area


def delete_area(session: Session, area: Area) -> None:
    """Delete the area; the database sets ``area_id`` / ``parent_id`` to NULL where it was used.

    Observations, walks and action items stay. The ORM does not know about ON DELETE SET NULL,
    so rows already loaded in this session are expired and read again when next used. The
    hotspot counts of its observations move with them: the caller then calls
    ``api.hotspots.rollup.area_deleted``.
    """
    area_id = area.id
    session.delete(area)
    session.flush()
    for obj in list(session.identity_map.values()):
        if isinstance(obj, Walk | Observation | ActionItem) and obj.area_id == area_id:
            session.expire(obj, ["area_id"])
        elif isinstance(obj, Area) and obj.parent_id == area_id:
            session.expire(obj, ["parent_id"])


def list_areas(
    session: Session,
    org_id: uuid.UUID,
    *,
    n: int,
    cursor: str | None,
    kind: AreaKind | None = None,
    parent_id: uuid.UUID | None = None,
) -> tuple[list[Area], str | None]:
    """Keyset pages ordered by name, then id (names need not be unique)."""
    stmt = select(Area).where(col(Area.organization_id) == org_id)
    if kind is not None:
        stmt = stmt.where(col(Area.kind) == kind)
    if parent_id is not None:
        stmt = stmt.where(col(Area.parent_id) == parent_id)
    after = decode_cursor(cursor, 2)
    if after is not None:
        try:
            name, last_id = str(after[0]), uuid.UUID(str(after[1]))
        except ValueError as exc:
            raise InvalidInput.at(["query", "cursor"], "error.bad_cursor") from exc
        stmt = stmt.where(
            (col(Area.name) > name) | ((col(Area.name) == name) & (col(Area.id) > last_id))
        )
    rows = list(session.scalars(stmt.order_by(col(Area.name), col(Area.id)).limit(n + 1)))
    more = len(rows) > n
    rows = rows[:n]
    nxt = encode_cursor([rows[-1].name, str(rows[-1].id)]) if more and rows else None
    return rows, nxt


def import_collection(
    session: Session,
    org_id: uuid.UUID,
    body: AreaImport,
    *,
    name_property: str | None = None,
    kind: AreaKind = AreaKind.neighbourhood,
    skip_invalid: bool = False,
    lang: Language = Language.en,
) -> AreaImportResult:
    org = session.get(Organization, org_id)
    assert org is not None  # the principal's organization
    report = import_areas(
        session,
        org,
        {"type": body.type, "features": body.features, "crs": body.crs},
        name_property=name_property,
        kind=kind,
        skip_invalid=skip_invalid,
    )
    return AreaImportResult(
        created=report.created,
        updated=report.updated,
        repaired=[r.read(lang) for r in report.repaired],
        refused=[r.read(lang) for r in report.refused],
    )
