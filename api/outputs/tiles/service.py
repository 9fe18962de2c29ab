"""Vector tiles: ``ST_AsMVT`` on PostGIS; on SpatiaLite, which has no MVT encoder, the features
of the tile (reprojected to Web Mercator by the database) are encoded with the
``mapbox-vector-tile`` package. Decoded, both give the same features and properties.

The layers and what they show (organization walls, no participants, sensitive places
generalised for all but coordinators and admins) are the OGC collections'
(``api.outputs.ogc.service.for_caller``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import shapely
from shapely.geometry import box
from sqlalchemy import Select
from sqlalchemy.orm import Session

from api.auth.principal import Principal
from api.core import dialect
from api.core.errors import NotFound
from api.outputs.ogc import service as ogc
from geo import mercator

LAYERS = ("observations", "action-items", "areas", "street-lights")
# What a map draws and a click shows: the collection's properties without free text and
# foreign keys, which would make tiles of thousands of points large and slow (the OGC API has
# the rest). Below DETAIL_ZOOM a tile of observations holds thousands of points, too dense to
# click one: it carries only what a style needs, and no per-feature id or time (unique
# strings that made up most of a z14 tile's bytes and encoding time).
DETAIL_ZOOM = 16
TILE_PROPERTIES = {
    "observations": ("category", "status", "severity", "perceived_safety", "is_dark", "recorded_at"),
    "action-items": ("title", "category", "status", "priority", "observation_count",
                     "department", "due_date", "overdue"),
    "areas": ("name", "code", "kind", "observation_count", "open_items", "overdue_items"),
    "street-lights": ("external_id", "owner", "status"),
}  # fmt: skip
OVERVIEW_PROPERTIES = {
    "observations": ("category", "status", "severity", "perceived_safety", "is_dark"),
}
EXTENT = 4096  # tile coordinate units
BUFFER = 64  # units around the tile kept for rendering across tile edges
MAX_ZOOM = 24
WEB_MERCATOR = 3857


@dataclass(frozen=True)
class Tile:
    z: int
    x: int
    y: int

    def mercator_bounds(self) -> tuple[float, float, float, float]:
        return mercator.tile_bounds(self.z, self.x, self.y)

    def lonlat_bounds(self, buffer: float = 0.0) -> tuple[float, float, float, float]:
        """The tile in degrees, grown by ``buffer`` tile units (for the index lookup)."""
        bounds = self.mercator_bounds()
        return mercator.to_lonlat_bounds(bounds, (bounds[2] - bounds[0]) * buffer / EXTENT)


def parse_tile(z: str, x: str, y: str) -> Tile:
    try:
        tz, tx, ty = int(z), int(x), int(y)
    except ValueError as exc:
        raise NotFound(key="error.tile_not_integers") from exc
    if not (0 <= tz <= MAX_ZOOM and 0 <= tx < (1 << tz) and 0 <= ty < (1 << tz)):
        raise NotFound(key="error.no_tile", params={"tz": tz, "tx": tx, "ty": ty})
    return Tile(tz, tx, ty)


def layer(name: str) -> ogc.Collection:
    if name not in LAYERS:
        raise NotFound(
            key="error.no_tile_layer", params={"name": name, "layers": ", ".join(LAYERS)}
        )
    return ogc.get_collection(name)


def _kind_sql(session: Session, p: ogc.Property) -> Any:
    # MVT values are strings, numbers or booleans: UUIDs and times go as text.
    if p.kind in ("uuid", "time"):
        return dialect.json_value(session, p.kind, p.column)
    return p.column


def _features(session: Session, principal: Principal, c: ogc.Collection, t: Tile) -> Select[Any]:
    bounds = t.lonlat_bounds(BUFFER)
    return c.select(principal).where(c.bbox_condition(session, bounds))


def with_ids(c: ogc.Collection, z: int) -> bool:
    return z >= DETAIL_ZOOM or c.id not in OVERVIEW_PROPERTIES


def properties(c: ogc.Collection, z: int = DETAIL_ZOOM) -> list[ogc.Property]:
    names = TILE_PROPERTIES[c.id] if with_ids(c, z) else OVERVIEW_PROPERTIES[c.id]
    return [p for p in c.properties if p.name in names]


def fields(c: ogc.Collection) -> dict[str, str]:
    """TileJSON ``vector_layers[].fields``: property name -> MVT type."""
    kinds = {"number": "Number", "bool": "Boolean"}
    return {"id": "String", **{p.name: kinds.get(p.kind, "String") for p in properties(c)}}


def render(session: Session, principal: Principal, c: ogc.Collection, t: Tile) -> bytes:
    """The tile's MVT bytes; empty bytes for an empty tile."""
    c = ogc.for_caller(session, principal, c)
    stmt = _features(session, principal, c, t)
    props = [(p.name, _kind_sql(session, p)) for p in properties(c, t.z)]
    if with_ids(c, t.z):
        props.insert(0, ("id", dialect.uuid_text(session, c.id_col)))
    if dialect.has_mvt(session):
        return dialect.as_mvt(
            session,
            stmt,
            layer=c.id,
            geom=c.shown_geom,
            tile=(t.z, t.x, t.y),
            columns=props,
            extent=EXTENT,
            buffer=BUFFER,
        )
    return _encode_in_python(session, stmt, c, t, props)


def _encode_in_python(
    session: Session, stmt: Select[Any], c: ogc.Collection, t: Tile, props: list[tuple[str, Any]]
) -> bytes:
    geom = dialect.transform(c.shown_geom, WEB_MERCATOR)
    cols = [dialect.as_wkb(session, geom), *(expr for _, expr in props)]
    bounds = t.mercator_bounds()
    pad = (bounds[2] - bounds[0]) * BUFFER / EXTENT
    clip = box(bounds[0] - pad, bounds[1] - pad, bounds[2] + pad, bounds[3] + pad)
    bools = {p.name for p in c.properties if p.kind == "bool"}
    features = []
    for row in session.execute(stmt.with_only_columns(*cols)):
        if row[0] is None:
            continue
        shape = shapely.from_wkb(bytes(row[0]))
        if not shape.intersects(clip):
            continue
        if shape.geom_type != "Point":
            shape = shape.intersection(clip)  # as ST_AsMVTGeom clips to the buffered tile
            if shape.is_empty:
                continue
        values: dict[str, Any] = {}
        for (name, _), value in zip(props, row[1:], strict=True):
            if value is None:
                continue  # ST_AsMVT leaves NULLs out too
            values[name] = bool(value) if name in bools else value
        features.append(
            {"geometry": mercator.to_tile_units(shape, bounds, EXTENT), "properties": values}
        )
    if not features:
        return b""
    import mapbox_vector_tile  # SpatiaLite only; PostGIS writes MVT itself

    data: bytes = mapbox_vector_tile.encode(
        [{"name": c.id, "features": features}], default_options={"extents": EXTENT}
    )
    return data
