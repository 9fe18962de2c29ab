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
from sqlalchemy import Select, func, select
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
# Below CLUSTER_ZOOM a tile of observations is counts, not points: the points of each square
# of CLUSTER_PIXELS x CLUSTER_PIXELS screen pixels become one point at their mean position
# with a ``count`` property, grouped by the database. A z14 tile over a city holds thousands
# of points, most of them drawn on top of each other; 32 x 32 cells draw the same picture as
# sized circles, and encoding a thousand features instead of ten thousand is what keeps such a
# tile fast. Cells are aligned to the tile (a cell never straddles two tiles) and only points
# inside the tile itself are counted, so neighbouring tiles never count a point twice.
CLUSTERED = ("observations",)
CLUSTER_ZOOM = 15
CLUSTER_PIXELS = 8
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


def clustered(c: ogc.Collection, z: int) -> bool:
    return c.id in CLUSTERED and z < CLUSTER_ZOOM


def fields(c: ogc.Collection) -> dict[str, str]:
    """TileJSON ``vector_layers[].fields``: property name -> MVT type (``count`` on the
    clustered zooms of a clustered layer)."""
    kinds = {"number": "Number", "bool": "Boolean"}
    out = {"id": "String", **{p.name: kinds.get(p.kind, "String") for p in properties(c)}}
    if c.id in CLUSTERED:
        out["count"] = "Number"
    return out


def render(session: Session, principal: Principal, c: ogc.Collection, t: Tile) -> bytes:
    """The tile's MVT bytes; empty bytes for an empty tile."""
    c = ogc.for_caller(session, principal, c)
    if clustered(c, t.z):
        return _render_clusters(session, principal, c, t)
    return render_points(session, principal, c, t)


def render_points(session: Session, principal: Principal, c: ogc.Collection, t: Tile) -> bytes:
    """The tile with every feature in it, whatever the zoom (``c`` as ``ogc.for_caller``
    gives it). The benchmark's anchor for the clustered zooms."""
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


def cluster_cells(
    session: Session, principal: Principal, c: ogc.Collection, t: Tile
) -> Select[Any]:
    """One row per occupied cell of the tile: the mean Web Mercator position of its points
    (``x``, ``y``) and their ``count``. The index finds the tile's points; the cell of each
    is computed from its projected position, half-open so that a point on a tile's edge
    belongs to one tile only."""
    minx, miny, maxx, maxy = t.mercator_bounds()
    size = (maxx - minx) * CLUSTER_PIXELS / mercator.TILE_PIXELS  # metres
    x, y = dialect.web_mercator_xy(session, c.shown_geom)
    points = (
        c.select(principal)
        .where(c.bbox_condition(session, t.lonlat_bounds()))
        .with_only_columns(x.label("x"), y.label("y"))
        .subquery("p")
    )
    cx = dialect.cell_index(session, (points.c.x - minx) / size)
    cy = dialect.cell_index(session, (points.c.y - miny) / size)
    return (
        select(
            func.avg(points.c.x).label("x"),
            func.avg(points.c.y).label("y"),
            func.count().label("count"),
        )
        .where(points.c.x >= minx, points.c.x < maxx, points.c.y >= miny, points.c.y < maxy)
        .group_by(cx, cy)
    )


def _render_clusters(session: Session, principal: Principal, c: ogc.Collection, t: Tile) -> bytes:
    cells = cluster_cells(session, principal, c, t).subquery("cells")
    if dialect.has_mvt(session):
        return dialect.as_mvt(
            session,
            select(cells),
            layer=c.id,
            geom=dialect.web_mercator_point(session, cells.c.x, cells.c.y),
            tile=(t.z, t.x, t.y),
            columns=[("count", cells.c.count)],
            extent=EXTENT,
            buffer=BUFFER,
            projected=True,
        )
    bounds = t.mercator_bounds()
    features = [
        {
            "geometry": mercator.to_tile_units(shapely.Point(x, y), bounds, EXTENT),
            "properties": {"count": n},
        }
        for x, y, n in session.execute(select(cells.c.x, cells.c.y, cells.c.count))
    ]
    return _encode(c.id, features)


def _encode(name: str, features: list[dict[str, Any]]) -> bytes:
    if not features:
        return b""
    import mapbox_vector_tile  # SpatiaLite only; PostGIS writes MVT itself

    data: bytes = mapbox_vector_tile.encode(
        [{"name": name, "features": features}], default_options={"extents": EXTENT}
    )
    return data


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
    return _encode(c.id, features)
