"""Areas: create, update, import from GeoJSON, and find the area a point falls in."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from shapely.geometry.base import BaseGeometry
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlmodel import col

from api import spatial
from api.errors import InvalidInput, NotFound
from geo.geojson import GeometryError, parse_geometry
from models import Area, AreaKind, Organization, utcnow

POLYGON_TYPES = ("Polygon", "MultiPolygon")


def parse_area_geometry(obj: Any, loc: list[str | int]) -> BaseGeometry:
    try:
        return parse_geometry(obj, POLYGON_TYPES)
    except GeometryError as exc:
        raise InvalidInput.at([*loc, *exc.loc], exc.message) from exc


def get_area(session: Session, org_id: uuid.UUID, area_id: uuid.UUID) -> Area:
    area = session.get(Area, area_id)
    if area is None or area.organization_id != org_id:
        raise NotFound("no such area")
    return area


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


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    repaired: list[tuple[int, str]] = field(default_factory=list)
    refused: list[tuple[int, str]] = field(default_factory=list)


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
        raise InvalidInput.at(["body", "type"], "expected a GeoJSON FeatureCollection")
    features = collection.get("features")
    if not isinstance(features, list):
        raise InvalidInput.at(["body", "features"], "expected an array of features")

    report = ImportReport()
    accepted: list[tuple[int, str, str | None, BaseGeometry]] = []
    for i, feature in enumerate(features):
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            report.refused.append((i, "not a GeoJSON Feature"))
            continue
        props = feature.get("properties") or {}
        if not isinstance(props, dict):
            props = {}
        name = _feature_name(props, name_property)
        if name is None:
            wanted = name_property or "name"
            report.refused.append((i, f"no {wanted!r} property to name the area"))
            continue
        try:
            geom = parse_geometry(feature.get("geometry"), POLYGON_TYPES)
        except GeometryError as exc:
            report.refused.append((i, exc.message))
            continue
        raw = feature.get("geometry") or {}
        if raw.get("type") != geom.geom_type or not _same_shape(raw, geom):
            report.repaired.append((i, "invalid geometry repaired (make_valid)"))
        code = props.get("code") or props.get("kode")
        accepted.append((i, name, str(code)[:64] if code not in (None, "") else None, geom))

    if report.refused and not skip_invalid:
        first = report.refused[0]
        raise InvalidInput(
            f"feature {first[0]}: {first[1]} (nothing was imported)",
            errors=[
                {"loc": ["body", "features", i, "geometry"], "msg": m} for i, m in report.refused
            ],
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
    dialect = session.get_bind().dialect.name
    stmt = (
        select(Area)
        .where(
            col(Area.organization_id) == org_id,
            spatial.contains_point(dialect, Area.geometry, point),
        )
        .order_by(func.ST_Area(Area.geometry), col(Area.id))
        .limit(1)
    )
    return session.scalar(stmt)
