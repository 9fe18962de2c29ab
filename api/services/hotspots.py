"""Hotspot maps: observations binned into H3 cells by the database, then scored with Gi*.

The database does the heavy part. `(h3_r15 & and_mask) | or_bits` (see `geo.hotspots.
parent_mask`) turns each observation's resolution-15 cell into its parent at the requested
resolution, and two GROUP BY statements return one row per non-empty cell: count, severity
score, darkness and top category from one, open action items from the other. Both databases
have 64-bit `&` and `|` (SQLite integers, PostgreSQL bigint), so the SQL is the same on both.
Python only sees those rows: Gi* (`geo.hotspots.gi_star`) and the cell outlines.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Integer,
    Select,
    bindparam,
    case,
    cast,
    func,
    select,
)
from sqlalchemy.orm import Session
from sqlmodel import col

from api.errors import InvalidInput
from api.services.areas import get_area
from geo.hotspots import cell_id, cell_polygons, gi_star, parent_mask
from models import OPEN_STATUSES, ActionItem, Category, Moderation, Observation

METHOD = (
    "Getis-Ord Gi* on observation counts per H3 cell: binary ring-1 weights including the cell "
    "itself; study region = the non-empty cells plus their ring-1 neighbours as zeros; classes "
    "by Benjamini-Hochberg FDR at q = 0.01 / 0.05 / 0.10"
)
DEFAULT_RESOLUTION = 9
# A map of where it feels unsafe; good places are asked for by name.
EXCLUDED_BY_DEFAULT = frozenset({"positive_place"})
OPEN = sorted(str(s) for s in OPEN_STATUSES)
DECIMALS = 6


@dataclass(frozen=True, slots=True)
class HotspotQuery:
    resolution: int = DEFAULT_RESOLUTION
    # Category codes; None means every category of the organization except positive_place.
    categories: tuple[str, ...] | None = None
    since: datetime | None = None  # recorded_at >= since
    until: datetime | None = None  # recorded_at < until
    area_id: uuid.UUID | None = None


@dataclass(frozen=True, slots=True)
class CellStats:
    """What the database says about one non-empty cell."""

    cell: int
    count: int
    score: int
    dark: int
    dark_known: int
    top_category: str
    open_items: int


@dataclass(frozen=True, slots=True)
class HotspotCell:
    h3: str
    count: int
    score: int
    open_items: int
    dark_share: float | None
    top_category: str
    gi_z: float | None
    gi_p: float | None
    hotspot_class: str


@dataclass(frozen=True, slots=True)
class HotspotMap:
    resolution: int
    # Hottest first: gi_z descending, then cell id; cells without a z last.
    cells: list[HotspotCell]
    method: str = METHOD


def category_filter(
    session: Session, org_id: uuid.UUID, codes: Sequence[str] | None
) -> dict[uuid.UUID, str]:
    """The organization's categories to count, id -> code; an unknown code is a 422."""
    known = {
        code: cid
        for cid, code in session.execute(
            select(col(Category.id), col(Category.code)).where(
                col(Category.organization_id) == org_id
            )
        ).all()
    }
    if codes is None:
        return {cid: code for code, cid in known.items() if code not in EXCLUDED_BY_DEFAULT}
    unknown = sorted(set(codes) - known.keys())
    if unknown:
        raise InvalidInput.at(["query", "category"], f"unknown category {unknown[0]!r}")
    return {known[code]: code for code in codes}


def _by_code(categories: Mapping[uuid.UUID, str]) -> list[uuid.UUID]:
    return sorted(categories, key=lambda cid: categories[cid])


def _cell_and_filters(
    org_id: uuid.UUID, categories: Mapping[uuid.UUID, str], q: HotspotQuery
) -> tuple[ColumnElement[int], list[ColumnElement[bool]]]:
    and_mask, or_bits = parent_mask(q.resolution)
    cell = (
        col(Observation.h3_r15)
        .bitwise_and(bindparam("and_mask", and_mask, type_=BigInteger))
        .bitwise_or(bindparam("or_bits", or_bits, type_=BigInteger))
    )
    filters = [
        col(Observation.organization_id) == org_id,
        col(Observation.moderation) == str(Moderation.accepted),
        col(Observation.location).is_not(None),
        col(Observation.h3_r15).is_not(None),
        col(Observation.category_id).in_(list(categories)),
    ]
    if q.since is not None:
        filters.append(col(Observation.recorded_at) >= q.since)
    if q.until is not None:
        filters.append(col(Observation.recorded_at) < q.until)
    if q.area_id is not None:
        filters.append(col(Observation.area_id) == q.area_id)
    return cell, filters


def cells_statement(
    org_id: uuid.UUID, categories: Mapping[uuid.UUID, str], q: HotspotQuery
) -> Select[Any]:
    """One row per non-empty cell: cell, count, score, dark, dark_known, top_key.

    A first GROUP BY (cell, category) counts each category in each cell; a second one sums
    those into the cell's figures. The top category rides along as one number per
    (cell, category), count * K + rank, where rank is K-1 for the first code in alphabetical
    order down to 0 for the last: the maximum per cell is the most frequent category, ties to
    the first code. `top_categories` decodes it.
    """
    cell, filters = _cell_and_filters(org_id, categories, q)
    ordered = _by_code(categories)
    k = len(ordered)
    # Grouping by a subquery's column rather than by the expression keeps GROUP BY and SELECT
    # identical however the driver numbers its parameters.
    binned = (
        select(
            cell.label("cell"),
            col(Observation.category_id).label("category_id"),
            col(Observation.severity).label("severity"),
            col(Observation.is_dark).label("is_dark"),
        )
        .where(*filters)
        .subquery("binned")
    )
    b = binned.c
    # Per-category figures fit in 32 bits; summing int4 keeps PostgreSQL's sums in bigint
    # (a sum of bigints would be numeric, several times slower).
    per_category = (
        select(
            b.cell,
            b.category_id,
            cast(func.count(), Integer).label("n"),
            cast(func.sum(b.severity), Integer).label("score"),
            cast(func.sum(case((b.is_dark.is_(True), 1), else_=0)), Integer).label("dark"),
            cast(func.count(b.is_dark), Integer).label("dark_known"),
        )
        .group_by(b.cell, b.category_id)
        .subquery("per_category")
    )
    pc = per_category.c
    rank = case({cid: k - 1 - i for i, cid in enumerate(ordered)}, value=pc.category_id)
    return (
        select(
            pc.cell,
            func.sum(pc.n).label("count"),
            func.sum(pc.score).label("score"),
            func.sum(pc.dark).label("dark"),
            func.sum(pc.dark_known).label("dark_known"),
            func.max(cast(pc.n, BigInteger) * k + rank).label("top_key"),
        )
        .group_by(pc.cell)
        .order_by(pc.cell)
    )


def top_categories(categories: Mapping[uuid.UUID, str]) -> list[str]:
    """Codes by rank: `codes[top_key % len(codes)]` decodes a `top_key` of `cells_statement`."""
    return [categories[cid] for cid in reversed(_by_code(categories))]


def open_items_statement(
    org_id: uuid.UUID, categories: Mapping[uuid.UUID, str], q: HotspotQuery
) -> Select[Any]:
    """(cell, open_items) for cells holding observations of open action items.

    Its own statement: a distinct count needs the (cell, item) pairs, and only observations of
    open items take part. An item's observations may straddle a cell border, so it counts in
    every cell it touches.
    """
    cell, filters = _cell_and_filters(org_id, categories, q)
    pairs = (
        select(cell.label("cell"), col(Observation.action_item_id).label("item_id"))
        .join(ActionItem, col(ActionItem.id) == col(Observation.action_item_id))
        .where(*filters, col(ActionItem.status).in_(OPEN))
        .distinct()
        .subquery("pairs")
    )
    return select(pairs.c.cell, func.count().label("open_items")).group_by(pairs.c.cell)


def cell_stats(session: Session, org_id: uuid.UUID, q: HotspotQuery) -> list[CellStats]:
    """Per-cell figures from the database; raises InvalidInput/NotFound for bad filters."""
    if q.since is not None and q.until is not None and q.until <= q.since:
        raise InvalidInput.at(["query", "until"], "must be later than since")
    if q.area_id is not None:
        get_area(session, org_id, q.area_id)  # 404 for an unknown or foreign area
    categories = category_filter(session, org_id, q.categories)
    if not categories:
        return []
    rows = session.execute(cells_statement(org_id, categories, q)).all()
    codes = top_categories(categories)
    items: dict[int, int] = {
        int(cell): int(n)
        for cell, n in session.execute(open_items_statement(org_id, categories, q))
    }
    return [
        CellStats(
            cell=int(cell),
            count=int(count),
            score=int(score),
            dark=int(dark),
            dark_known=int(dark_known),
            top_category=codes[int(top_key) % len(codes)],
            open_items=items.get(int(cell), 0),
        )
        for cell, count, score, dark, dark_known, top_key in rows
    ]


def hotspot_map(session: Session, org_id: uuid.UUID, q: HotspotQuery) -> HotspotMap:
    """Binned counts from the database, Gi* and FDR classes per cell, hottest first."""
    stats = {cell_id(s.cell): s for s in cell_stats(session, org_id, q)}
    gi = gi_star({cell: float(s.count) for cell, s in stats.items()})
    cells = [
        HotspotCell(
            h3=cell,
            count=s.count,
            score=s.score,
            open_items=s.open_items,
            dark_share=s.dark / s.dark_known if s.dark_known else None,
            top_category=s.top_category,
            gi_z=gi[cell].z,
            gi_p=gi[cell].p,
            hotspot_class=gi[cell].hotspot_class,
        )
        for cell, s in stats.items()
    ]
    cells.sort(key=lambda c: (c.gi_z is None, -(c.gi_z or 0.0), c.h3))
    return HotspotMap(resolution=q.resolution, cells=cells)


def feature_collection(result: HotspotMap) -> dict[str, Any]:
    """The map as an RFC 7946 FeatureCollection (no crs member: always WGS84 lon/lat)."""
    return {
        "type": "FeatureCollection",
        "resolution": result.resolution,
        "cell_count": len(result.cells),
        "method": result.method,
        "features": [
            {
                "type": "Feature",
                "id": c.h3,
                "geometry": geometry,
                "properties": {
                    "h3": c.h3,
                    "resolution": result.resolution,
                    "count": c.count,
                    "score": c.score,
                    "open_items": c.open_items,
                    "dark_share": c.dark_share,
                    "top_category": c.top_category,
                    "gi_z": c.gi_z,
                    "gi_p": c.gi_p,
                    "hotspot_class": c.hotspot_class,
                },
            }
            for c, geometry in zip(
                result.cells, cell_polygons([c.h3 for c in result.cells]), strict=True
            )
        ],
    }
