"""Keeping the hotspot rollups exact as observations arrive and change.

An observation counts in the rollups (`models.hotspots`) while it is accepted and has a
location: the same conditions as the hotspot query always had. Every path that creates or
changes an observation calls `observation_changed` (or `sync` for many) in its own
transaction, after the change is flushed. `sync` compares what the observation should add now
with what its `HotspotMember` row says it adds, and applies the difference with atomic upserts
(`dialect.upsert_add`). Calling it twice changes nothing; calling it for an observation that
was deleted takes its contribution out.

Concurrency: on PostgreSQL `sync` first locks the observations' rows (the writer that changed
an observation already holds that lock), so two transactions never both apply the same
difference, then the grouping locks of the counters it adds to; the counters themselves are
added to in the database, never read-modify-written.
SQLite writers run one at a time (BEGIN IMMEDIATE).

Two rollups serve the map without filters at a million observations:

- `hotspot_cell`, one row per cell with its top category over the default map's categories
  (`map_categories`). `_apply` rewrites the row of every cell it touched from `hotspot_total`:
  it first locks the rows (an upsert adding zero), then reads the totals in a new statement,
  which on PostgreSQL sees every writer that held the lock before, so the row stays exact
  when writers in other groups add to the same cell.
- `hotspot_item_cell`, the (cell, item) pairs of the open items. `items_changed` rewrites an
  item's rows from its observations, after locking the item's row; grouping (the chunk path
  through `added`, the serial path through `observation_changed`, merge, split, regroup) and
  the workflow (`set_status`) call it for every item whose members or status change.

`backfill` fills the cells of older observations and builds their contributions, batch by
batch, then the two rollups above for what they lack; it runs from `safewalk migrate`, not
inside the Alembic revision.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    SmallInteger,
    Uuid,
    and_,
    bindparam,
    case,
    delete,
    func,
    insert,
    literal,
    select,
    union_all,
    update,
)
from sqlalchemy.orm import Session, sessionmaker
from sqlmodel import col

from api.core import dialect
from geo.hotspots import STORED_RESOLUTIONS, cells_at
from models import (
    NO_AREA,
    OPEN_STATUSES,
    ActionItem,
    Category,
    HotspotByCell,
    HotspotDay,
    HotspotItemCell,
    HotspotMember,
    HotspotTotal,
    Moderation,
    Observation,
)
from models.observations import NEUTRAL_SEVERITY

CELL_COLUMNS: tuple[str, ...] = tuple(f"h3_r{r}" for r in STORED_RESOLUTIONS)
COUNTERS = ("n", "score", "dark", "dark_known")
DAY_KEY = ("organization_id", "resolution", "day", "area_id", "category_id", "cell")
TOTAL_KEY = ("organization_id", "resolution", "area_id", "category_id", "cell")
CELL_KEY = ("organization_id", "resolution", "cell")
CELL_VALUES = ("n", "score", "dark", "dark_known", "top_category_id", "top_n")
ITEM_CELL_COLUMNS = (
    "organization_id", "resolution", "cell", "action_item_id", "category_id", "area_id", "n",
)  # fmt: skip
# Ids per statement: well under SQLite's and PostgreSQL's parameter limits.
CHUNK = 2_000
# A map of where it feels unsafe; good places are asked for by name.
EXCLUDED_BY_DEFAULT = frozenset({"positive_place"})
_OPEN = sorted(str(s) for s in OPEN_STATUSES)


def map_categories() -> Any:
    """The categories `hotspot_cell` counts: the default map's (every category but the good
    places) that are not sensitive. Sensitive ones are placed per caller (exact or
    generalised), so the map adds them from `hotspot_total`."""
    return and_(col(Category.sensitive).is_(False), col(Category.code).not_in(EXCLUDED_BY_DEFAULT))


def set_cells(obs: Observation, lat: float, lon: float) -> None:
    """Store the exact cell at every offered resolution (part of placing an observation)."""
    for r, cell in cells_at(lat, lon).items():
        setattr(obs, f"h3_r{r}", cell)


def cell_column(resolution: int) -> Any:
    """`Observation.h3_r<resolution>` for a stored resolution."""
    if resolution not in STORED_RESOLUTIONS:
        raise ValueError(f"resolution {resolution} is not stored")
    return getattr(Observation, f"h3_r{resolution}")


@dataclass(frozen=True, slots=True)
class Contribution:
    """What one observation adds to the rollups."""

    organization_id: uuid.UUID
    area_id: uuid.UUID
    category_id: uuid.UUID
    day: date
    severity: int
    is_dark: bool | None
    cells: tuple[int, ...]  # one per STORED_RESOLUTIONS


def _severity(o: Any) -> Any:
    """The severity the rollups sum: a skipped one counts as the middle of the scale."""
    return func.coalesce(col(o.severity), NEUTRAL_SEVERITY)


def _utc_day(at: datetime) -> date:
    return at.astimezone(UTC).date()


def _current(session: Session, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Contribution]:
    """What the observations should add, as this transaction sees them."""
    cells = [col(getattr(Observation, c)) for c in CELL_COLUMNS]
    rows = session.execute(
        select(
            col(Observation.id),
            col(Observation.organization_id),
            col(Observation.area_id),
            col(Observation.category_id),
            col(Observation.recorded_at),
            _severity(Observation),
            col(Observation.is_dark),
            *cells,
        ).where(
            col(Observation.id).in_(ids),
            # The hotspot query's conditions, unchanged.
            col(Observation.moderation) == str(Moderation.accepted),
            col(Observation.location).is_not(None),
            *[c.is_not(None) for c in cells],
        )
    ).all()
    return {
        r[0]: Contribution(r[1], r[2] or NO_AREA, r[3], _utc_day(r[4]), r[5], r[6], tuple(r[7:]))
        for r in rows
    }


def _members(session: Session, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Contribution]:
    m = HotspotMember
    cells = [col(getattr(m, c)) for c in CELL_COLUMNS]
    stmt = select(
        col(m.observation_id),
        col(m.organization_id),
        col(m.area_id),
        col(m.category_id),
        col(m.day),
        col(m.severity),
        col(m.is_dark),
        *cells,
    ).where(col(m.observation_id).in_(ids))
    stmt = dialect.for_update(session, stmt)
    return {
        r[0]: Contribution(r[1], r[2], r[3], r[4], r[5], r[6], tuple(r[7:]))
        for r in session.execute(stmt).all()
    }


Deltas = dict[tuple[Any, ...], list[int]]


def _add(deltas: Deltas, c: Contribution, sign: int) -> None:
    dark = 1 if c.is_dark else 0
    known = 0 if c.is_dark is None else 1
    for r, cell in zip(STORED_RESOLUTIONS, c.cells, strict=True):
        d = deltas[(c.organization_id, r, c.day, c.area_id, c.category_id, cell)]
        d[0] += sign
        d[1] += sign * c.severity
        d[2] += sign * dark
        d[3] += sign * known


def _apply(session: Session, deltas: Deltas) -> None:
    """Upsert the differences, day rows then totals, each in key order (so two writers take
    row locks in the same order and do not deadlock each other)."""
    totals: Deltas = defaultdict(lambda: [0, 0, 0, 0])
    day_rows = []
    for key in sorted(deltas, key=str):
        d = deltas[key]
        if not any(d):
            continue
        org, res, day, area, cat, cell = key
        t = totals[(org, res, area, cat, cell)]
        for i in range(4):
            t[i] += d[i]
        day_rows.append(dict(zip(DAY_KEY + COUNTERS, (*key, *d), strict=True)))
    total_rows = [
        dict(zip(TOTAL_KEY + COUNTERS, (*key, *t), strict=True))
        for key, t in sorted(totals.items(), key=lambda kv: str(kv[0]))
    ]
    day_table: Any = HotspotDay.__table__  # type: ignore[attr-defined]
    total_table: Any = HotspotTotal.__table__  # type: ignore[attr-defined]
    dialect.upsert_add(session, day_table, DAY_KEY, COUNTERS, day_rows)
    dialect.upsert_add(session, total_table, TOTAL_KEY, COUNTERS, total_rows)
    refresh_cells(session, {(r["organization_id"], r["resolution"], r["cell"]) for r in total_rows})


def refresh_cells(session: Session, keys: Iterable[tuple[uuid.UUID, int, int]]) -> None:
    """Rewrite the `hotspot_cell` rows of these (organization, resolution, cell) keys from
    `hotspot_total`: lock (or create) the rows in key order, then read the totals in a new
    statement and write the sums and the top category. Three statements per call."""
    ordered = sorted(set(keys), key=str)
    if not ordered:
        return
    table: Any = HotspotByCell.__table__  # type: ignore[attr-defined]
    zero = dict.fromkeys((*COUNTERS, "top_n"), 0)
    dialect.upsert_add(
        session, table, CELL_KEY, (*COUNTERS, "top_n"),
        [{"organization_id": o, "resolution": r, "cell": c, **zero} for o, r, c in ordered],
    )  # fmt: skip
    by_org: dict[uuid.UUID, list[int]] = defaultdict(list)
    for o, _r, c in ordered:
        by_org[o].append(c)
    t = HotspotTotal
    # (org, resolution, cell) -> [n, score, dark, dark_known, top_category_id, top_n, top_code]
    acc: dict[tuple[uuid.UUID, int, int], list[Any]] = {
        k: [0, 0, 0, 0, None, 0, ""] for k in ordered
    }
    for org, cells in by_org.items():
        for start in range(0, len(cells), CHUNK):
            rows = session.execute(
                select(
                    col(t.resolution),
                    col(t.cell),
                    col(t.category_id),
                    col(Category.code),
                    func.sum(col(t.n)),
                    func.sum(col(t.score)),
                    func.sum(col(t.dark)),
                    func.sum(col(t.dark_known)),
                )  # fmt: skip
                .join(Category, col(Category.id) == col(t.category_id))
                .where(
                    col(t.organization_id) == org,
                    col(t.cell).in_(cells[start : start + CHUNK]),
                    map_categories(),
                )
                .group_by(col(t.resolution), col(t.cell), col(t.category_id), col(Category.code))
            ).all()
            for res, cell, cat, code, n, score, dark, known in rows:
                a = acc.get((org, int(res), int(cell)))
                if a is None or not n:
                    continue
                n = int(n)
                a[0] += n
                a[1] += int(score)
                a[2] += int(dark)
                a[3] += int(known)
                # The most frequent category, ties to the first code (as the map ranks them).
                if n > a[5] or (n == a[5] and code < a[6]):
                    a[4], a[5], a[6] = cat, n, code
    dialect.upsert_set(
        session, table, CELL_KEY, CELL_VALUES,
        [dict(zip(CELL_KEY + CELL_VALUES, (*k, *a[:6]), strict=True)) for k, a in acc.items()],
    )  # fmt: skip


def sync(session: Session, ids: Iterable[uuid.UUID]) -> None:
    """Make the rollups count these observations as they are now in this transaction."""
    wanted = sorted(set(ids))
    for start in range(0, len(wanted), CHUNK):
        _sync_chunk(session, wanted[start : start + CHUNK])


def _sync_chunk(session: Session, ids: list[uuid.UUID]) -> None:
    dialect.lock_rows(
        session,
        select(col(Observation.id))
        .where(col(Observation.id).in_(ids))
        .order_by(col(Observation.id)),
    )
    now = _current(session, ids)
    before = _members(session, ids)
    # Every counter row is keyed by (organization, area, category, ...): whoever adds to it
    # holds that group's lock until commit, the same lock grouping takes, so two writers of
    # one counter run one after the other and counters alone never deadlock. Captures took
    # these locks already (a batch up front, in one order, perception-only categories too);
    # moderation, edits and withdrawals take them here. Writers in other areas or categories
    # go on in parallel.
    dialect.lock_groups(
        session,
        {
            (c.organization_id, None if c.area_id == NO_AREA else c.area_id, c.category_id)
            for c in (*now.values(), *before.values())
        },
    )
    deltas: Deltas = defaultdict(lambda: [0, 0, 0, 0])
    gone: list[uuid.UUID] = []
    new: list[dict[str, Any]] = []
    for obs_id in ids:
        old, cur = before.get(obs_id), now.get(obs_id)
        if old == cur:
            continue
        if old is not None:
            _add(deltas, old, -1)
            gone.append(obs_id)
        if cur is not None:
            _add(deltas, cur, +1)
            new.append(_member_row(obs_id, cur))
    if gone:
        session.execute(delete(HotspotMember).where(col(HotspotMember.observation_id).in_(gone)))
    if new:
        session.execute(insert(HotspotMember), new)
    _apply(session, deltas)


def _member_row(obs_id: uuid.UUID, c: Contribution) -> dict[str, Any]:
    return {
        "observation_id": obs_id,
        "organization_id": c.organization_id,
        "area_id": c.area_id,
        "category_id": c.category_id,
        "day": c.day,
        "severity": c.severity,
        "is_dark": c.is_dark,
        **dict(zip(CELL_COLUMNS, c.cells, strict=True)),
    }


def added(
    session: Session, observations: Iterable[Observation], reopened: Iterable[uuid.UUID] = ()
) -> None:
    """Count observations just inserted by capture, from the objects themselves: no member row
    can exist for a new id, so there is nothing to read. One insert of member rows and one
    upsert per rollup table, whatever the number. The caller holds the groups' locks.

    Their items are open (grouping joins only open items, and reopens or creates the rest)
    and written already: a new observation adds to its item's (cell, item) rows, one upsert
    for the chunk; an item grouping `reopened` brings back its earlier members too, so its
    rows are rewritten whole."""
    deltas: Deltas = defaultdict(lambda: [0, 0, 0, 0])
    new: list[dict[str, Any]] = []
    pairs: dict[tuple[Any, ...], int] = defaultdict(int)
    again = set(reopened)
    for obs in observations:
        cells = tuple(getattr(obs, c) for c in CELL_COLUMNS)
        counted = (
            obs.moderation == Moderation.accepted
            and obs.location is not None
            and all(c is not None for c in cells)
        )
        if not counted:
            continue
        c = Contribution(
            obs.organization_id, obs.area_id or NO_AREA, obs.category_id,
            _utc_day(obs.recorded_at),
            NEUTRAL_SEVERITY if obs.severity is None else obs.severity, obs.is_dark, cells,
        )  # fmt: skip
        _add(deltas, c, +1)
        new.append(_member_row(obs.id, c))
        if obs.action_item_id is not None and obs.action_item_id not in again:
            for r, cell in zip(STORED_RESOLUTIONS, cells, strict=True):
                key = (c.organization_id, r, cell, obs.action_item_id, c.category_id, c.area_id)
                pairs[key] += 1
    member_table: Any = HotspotMember.__table__  # type: ignore[attr-defined]
    dialect.bulk_insert(session, member_table, new)
    _apply(session, deltas)
    pair_table: Any = HotspotItemCell.__table__  # type: ignore[attr-defined]
    dialect.upsert_add(
        session, pair_table, ITEM_CELL_COLUMNS[:-1], ("n",),
        [dict(zip(ITEM_CELL_COLUMNS, (*k, n), strict=True)) for k, n in sorted(pairs.items(), key=str)],
    )  # fmt: skip
    items_changed(session, again)


def observation_changed(
    session: Session, obs: Observation, item_before: uuid.UUID | None = None
) -> None:
    """The one call for moderation, edits, withdrawal and placement, after grouping: the
    observation's counts, and the open-item cells of its item and of `item_before`, the item
    it belonged to before the change."""
    session.flush()
    sync(session, [obs.id])
    items_changed(session, {item_before, obs.action_item_id})


def area_deleted(session: Session, area_id: uuid.UUID) -> None:
    """After an area's deletion set its observations' `area_id` to NULL: move their counts."""
    ids = session.scalars(
        select(col(HotspotMember.observation_id)).where(col(HotspotMember.area_id) == area_id)
    ).all()
    sync(session, ids)
    items_changed(
        session,
        session.scalars(
            select(col(HotspotItemCell.action_item_id))
            .where(col(HotspotItemCell.area_id) == area_id)
            .distinct()
        ).all(),
    )


def categories_changed(session: Session, org_id: uuid.UUID) -> None:
    """A category became sensitive or not: `map_categories` changed, so every cell row of the
    organization is rewritten (a few statements per 2,000 cells; an administrator's rare act)."""
    session.flush()
    t = HotspotTotal
    keys = [
        (org_id, int(r), int(c))
        for r, c in session.execute(
            select(col(t.resolution), col(t.cell))
            .where(col(t.organization_id) == org_id)
            .distinct()
        )
    ]
    for start in range(0, len(keys), CHUNK * 10):
        refresh_cells(session, keys[start : start + CHUNK * 10])


# --- open items per cell ---------------------------------------------------------------------


def items_changed(session: Session, item_ids: Iterable[uuid.UUID | None]) -> None:
    """Rewrite the (cell, item) rows of these items from their observations as this
    transaction sees them: an open item gets one row per (resolution, cell, category, area) of
    its counted observations (the hotspot conditions), any other item none. Idempotent."""
    ids = sorted({i for i in item_ids if i is not None})
    if not ids:
        return
    session.flush()
    # Eight resolutions name every id: 500 keep a statement under SQLite's parameter limit.
    for start in range(0, len(ids), 500):
        _rewrite_items(session, ids[start : start + 500])


def _rewrite_items(session: Session, ids: list[uuid.UUID]) -> None:
    # Whoever rewrites an item holds its row until commit, so the next one reads (in its own
    # statements, after the lock) what the first wrote: no lost or doubled pair.
    dialect.lock_rows(
        session,
        select(col(ActionItem.id)).where(col(ActionItem.id).in_(ids)).order_by(col(ActionItem.id)),
    )
    session.execute(delete(HotspotItemCell).where(col(HotspotItemCell.action_item_id).in_(ids)))
    o = Observation
    area = func.coalesce(col(o.area_id), literal(NO_AREA, type_=Uuid()))
    parts = []
    for r in STORED_RESOLUTIONS:
        cell = col(getattr(o, f"h3_r{r}"))
        group = (col(o.organization_id), cell, col(o.action_item_id), col(o.category_id), area)
        parts.append(
            select(
                col(o.organization_id),
                literal(r, type_=SmallInteger()),
                cell,
                col(o.action_item_id),
                col(o.category_id),
                area,
                func.count(),
            )  # fmt: skip
            .join(ActionItem, col(ActionItem.id) == col(o.action_item_id))
            .where(
                col(o.action_item_id).in_(ids),
                col(ActionItem.status).in_(_OPEN),
                col(o.moderation) == str(Moderation.accepted),
                col(o.location).is_not(None),
                cell.is_not(None),
            )
            .group_by(*group)
        )
    table: Any = HotspotItemCell.__table__  # type: ignore[attr-defined]
    session.execute(insert(table).from_select(list(ITEM_CELL_COLUMNS), union_all(*parts)))


# --- checking ------------------------------------------------------------------------------


def drift(session: Session, org_id: uuid.UUID) -> dict[str, dict[tuple[Any, ...], Any]]:
    """Rollup rows that differ from a fresh GROUP BY over the organization's observations,
    per table: key -> (rollup counters, recounted counters); `hotspot_cell` and
    `hotspot_item_cell` too. Empty when exact. For tests and
    for an operator who wants to be sure; it reads every observation of the organization."""
    o = Observation
    area = func.coalesce(col(o.area_id), literal(NO_AREA, type_=Uuid()))
    day = dialect.utc_day(session, col(o.recorded_at))
    counters = [
        func.count(),
        func.sum(_severity(o)),
        func.sum(case((col(o.is_dark).is_(True), 1), else_=0)),
        func.count(col(o.is_dark)),
    ]
    where = [
        col(o.organization_id) == org_id,
        col(o.moderation) == str(Moderation.accepted),
        col(o.location).is_not(None),
    ]
    out: dict[str, dict[tuple[Any, ...], Any]] = {}
    for table, with_day in ((HotspotDay, True), (HotspotTotal, False)):
        t: Any = table
        keys = [
            col(t.resolution),
            *([col(t.day)] if with_day else []),
            col(t.area_id),
            col(t.category_id),
            col(t.cell),
        ]
        have = {
            tuple(str(v) for v in r[: len(keys)]): tuple(int(v) for v in r[len(keys) :])
            for r in session.execute(
                select(*keys, col(t.n), col(t.score), col(t.dark), col(t.dark_known)).where(
                    col(t.organization_id) == org_id
                )
            )
            if any(r[len(keys) :])
        }
        want: dict[tuple[Any, ...], tuple[int, ...]] = {}
        for r in STORED_RESOLUTIONS:
            cell = col(getattr(o, f"h3_r{r}"))
            group = [*([day] if with_day else []), area, col(o.category_id), cell]
            for row in session.execute(select(*group, *counters).where(*where).group_by(*group)):
                key = (str(r), *(str(v) for v in row[: len(group)]))
                want[key] = tuple(int(v) for v in row[len(group) :])
        diff = {
            k: (have.get(k, (0, 0, 0, 0)), want.get(k, (0, 0, 0, 0)))
            for k in have.keys() | want.keys()
            if have.get(k) != want.get(k)
        }
        out[table.__tablename__] = diff
    out["hotspot_cell"] = cells_drift(session, org_id)
    out["hotspot_item_cell"] = item_cells_drift(session, org_id)
    return out


def cells_drift(session: Session, org_id: uuid.UUID) -> dict[tuple[int, int], tuple[Any, Any]]:
    """`hotspot_cell` rows that differ from a fresh GROUP BY over the organization's
    observations: (resolution, cell) -> (row, recount), each (n, score, dark, dark_known,
    top category). Empty when exact."""
    c = HotspotByCell
    have = {
        (int(r[0]), int(r[1])): tuple(r[2:])
        for r in session.execute(
            select(
                col(c.resolution),
                col(c.cell),
                col(c.n),
                col(c.score),
                col(c.dark),
                col(c.dark_known),
                col(c.top_category_id),
            ).where(col(c.organization_id) == org_id, col(c.n) > 0)  # fmt: skip
        )
    }
    o = Observation
    acc: dict[tuple[int, int], list[Any]] = {}
    for r in STORED_RESOLUTIONS:
        cell = col(getattr(o, f"h3_r{r}"))
        rows = session.execute(
            select(
                cell,
                col(o.category_id),
                col(Category.code),
                func.count(),
                func.sum(_severity(o)),
                func.sum(case((col(o.is_dark).is_(True), 1), else_=0)),
                func.count(col(o.is_dark)),
            )  # fmt: skip
            .join(Category, col(Category.id) == col(o.category_id))
            .where(
                col(o.organization_id) == org_id,
                col(o.moderation) == str(Moderation.accepted),
                col(o.location).is_not(None),
                cell.is_not(None),
                map_categories(),
            )
            .group_by(cell, col(o.category_id), col(Category.code))
        ).all()
        # Per cell: the counters, then the top category by (count, first code).
        for cl, cat, _code, n, score, dark, known in sorted(rows, key=lambda x: x[2]):
            a = acc.setdefault((r, int(cl)), [0, 0, 0, 0, None, 0])
            a[0] += int(n)
            a[1] += int(score)
            a[2] += int(dark)
            a[3] += int(known)
            if int(n) > a[5]:
                a[4], a[5] = cat, int(n)
    want = {k: tuple(a[:5]) for k, a in acc.items()}
    return {
        k: (have.get(k), want.get(k))
        for k in have.keys() | want.keys()
        if have.get(k) != want.get(k)
    }


def item_cells_drift(
    session: Session, org_id: uuid.UUID
) -> dict[tuple[Any, ...], tuple[int | None, int | None]]:
    """`hotspot_item_cell` rows that differ from a fresh GROUP BY over the organization's
    observations of open items: (resolution, cell, item, category, area) -> (row's n, recount).
    Empty when exact."""
    ic = HotspotItemCell
    have = {
        (int(r[0]), int(r[1]), *r[2:5]): int(r[5])
        for r in session.execute(
            select(
                col(ic.resolution),
                col(ic.cell),
                col(ic.action_item_id),
                col(ic.category_id),
                col(ic.area_id),
                col(ic.n),
            ).where(col(ic.organization_id) == org_id)  # fmt: skip
        )
    }
    o = Observation
    area = func.coalesce(col(o.area_id), literal(NO_AREA, type_=Uuid()))
    want: dict[tuple[Any, ...], int | None] = {}
    for r in STORED_RESOLUTIONS:
        cell = col(getattr(o, f"h3_r{r}"))
        group = (cell, col(o.action_item_id), col(o.category_id), area)
        for row in session.execute(
            select(*group, func.count())
            .join(ActionItem, col(ActionItem.id) == col(o.action_item_id))
            .where(
                col(o.organization_id) == org_id,
                col(ActionItem.status).in_(_OPEN),
                col(o.moderation) == str(Moderation.accepted),
                col(o.location).is_not(None),
                cell.is_not(None),
            )
            .group_by(*group)
        ):
            want[(r, int(row[0]), *row[1:4])] = int(row[4])
    return {
        k: (have.get(k), want.get(k))
        for k in have.keys() | want.keys()
        if have.get(k) != want.get(k)
    }


# --- backfill (from `safewalk migrate`) ---------------------------------------------------------


def backfill(factory: sessionmaker[Session], batch: int = 20_000) -> int:
    """Fill missing cells and build missing contributions, one transaction per batch of
    observations in id order. Idempotent, and safe beside live traffic: each batch locks its
    rows, and only observations without a member row are added (live writers add theirs).
    Returns the number of observations whose contribution was added."""
    added = _backfill_members(factory, batch)
    # Counts added behind `_apply`'s back: their cells and items are rebuilt whole.
    _backfill_cells(factory, everything=added > 0)
    _backfill_item_cells(factory, everything=added > 0)
    return added


def _backfill_cells(factory: sessionmaker[Session], *, everything: bool) -> None:
    """`hotspot_cell` rows for the cells of `hotspot_total` that have none (all of them, with
    `everything`), one transaction per batch of cells."""
    t, c = HotspotTotal, HotspotByCell
    with factory() as session:
        stmt = select(col(t.organization_id), col(t.resolution), col(t.cell)).distinct()
        if not everything:
            stmt = stmt.where(
                ~select(col(c.cell))
                .where(
                    col(c.organization_id) == col(t.organization_id),
                    col(c.resolution) == col(t.resolution),
                    col(c.cell) == col(t.cell),
                )
                .exists()
            )
        keys = [(o, int(r), int(cl)) for o, r, cl in session.execute(stmt)]
    for start in range(0, len(keys), CHUNK * 10):
        with factory() as session:
            refresh_cells(session, keys[start : start + CHUNK * 10])
            session.commit()


def _backfill_item_cells(factory: sessionmaker[Session], *, everything: bool) -> None:
    """(cell, item) rows for the open items that have none (every open item, with
    `everything`), one transaction per batch of items."""
    i, ic = ActionItem, HotspotItemCell
    with factory() as session:
        stmt = select(col(i.id)).where(col(i.status).in_(_OPEN)).order_by(col(i.id))
        if not everything:
            stmt = stmt.where(
                ~select(col(ic.action_item_id)).where(col(ic.action_item_id) == col(i.id)).exists()
            )
        ids = list(session.scalars(stmt))
    for start in range(0, len(ids), CHUNK * 5):
        with factory() as session:
            items_changed(session, ids[start : start + CHUNK * 5])
            session.commit()


def _backfill_members(factory: sessionmaker[Session], batch: int) -> int:
    added = 0
    last: uuid.UUID | None = None
    while True:
        with factory() as session:
            stmt = select(col(Observation.id)).order_by(col(Observation.id)).limit(batch)
            if last is not None:
                stmt = stmt.where(col(Observation.id) > last)
            ids = list(session.scalars(stmt))
            if not ids:
                return added
            _fill_cells(session, ids[0], ids[-1])
            added += _add_missing(session, ids[0], ids[-1])
            session.commit()
            last = ids[-1]


def _in_range(lo: uuid.UUID, hi: uuid.UUID) -> Any:
    return col(Observation.id).between(lo, hi)


def _fill_cells(session: Session, lo: uuid.UUID, hi: uuid.UUID) -> None:
    dialect.lock_rows(
        session, select(col(Observation.id)).where(_in_range(lo, hi)).order_by(col(Observation.id))
    )
    missing = session.execute(
        select(
            col(Observation.id),
            func.ST_X(col(Observation.location)),
            func.ST_Y(col(Observation.location)),
        ).where(
            _in_range(lo, hi),
            col(Observation.location).is_not(None),
            col(Observation.h3_r12).is_(None),
        )
    ).all()
    if not missing:
        return
    rows = [
        {"b_id": obs_id, **{f"h3_r{r}": c for r, c in cells_at(float(lat), float(lon)).items()}}
        for obs_id, lon, lat in missing
    ]
    table: Any = Observation.__table__  # type: ignore[attr-defined]
    session.execute(
        update(table)
        .where(table.c.id == bindparam("b_id"))
        .values(**{c: bindparam(c) for c in CELL_COLUMNS}),
        rows,
    )


def _add_missing(session: Session, lo: uuid.UUID, hi: uuid.UUID) -> int:
    """Set-based: the batch's counted observations without a member row, added to both rollups
    by GROUP BY, then given their member rows. Same predicate in every statement, rows locked."""
    o = Observation
    m = HotspotMember
    area = func.coalesce(col(o.area_id), literal(NO_AREA, type_=Uuid()))
    day = dialect.utc_day(session, col(o.recorded_at))
    where = [
        _in_range(lo, hi),
        col(o.moderation) == str(Moderation.accepted),
        col(o.location).is_not(None),
        *[col(getattr(o, c)).is_not(None) for c in CELL_COLUMNS],
        ~select(col(m.observation_id)).where(col(m.observation_id) == col(o.id)).exists(),
    ]
    counters = [
        func.count(),
        func.sum(_severity(o)),
        func.sum(case((col(o.is_dark).is_(True), 1), else_=0)),
        func.count(col(o.is_dark)),
    ]
    added = session.scalar(select(func.count()).select_from(o).where(*where)) or 0
    if not added:
        return 0
    day_table: Any = HotspotDay.__table__  # type: ignore[attr-defined]
    total_table: Any = HotspotTotal.__table__  # type: ignore[attr-defined]
    for r in STORED_RESOLUTIONS:
        cell = col(getattr(o, f"h3_r{r}"))
        res = literal(r, type_=day_table.c.resolution.type)
        dialect.upsert_add(
            session, day_table, DAY_KEY, COUNTERS,
            from_select=select(col(o.organization_id), res, day, area, col(o.category_id), cell, *counters)
            .where(*where)
            .group_by(col(o.organization_id), day, area, col(o.category_id), cell),
        )  # fmt: skip
        dialect.upsert_add(
            session, total_table, TOTAL_KEY, COUNTERS,
            from_select=select(col(o.organization_id), res, area, col(o.category_id), cell, *counters)
            .where(*where)
            .group_by(col(o.organization_id), area, col(o.category_id), cell),
        )  # fmt: skip
    member_cols = [
        "observation_id", "organization_id", "area_id", "category_id", "day", "severity",
        "is_dark", *CELL_COLUMNS,
    ]  # fmt: skip
    member_table: Any = m.__table__  # type: ignore[attr-defined]
    session.execute(
        insert(member_table).from_select(
            member_cols,
            select(
                col(o.id),
                col(o.organization_id),
                area,
                col(o.category_id),
                day,
                _severity(o),
                col(o.is_dark),
                *[col(getattr(o, c)) for c in CELL_COLUMNS],
            ).where(*where),
        )  # fmt: skip
    )
    return int(added)


__all__ = [
    "CELL_COLUMNS",
    "EXCLUDED_BY_DEFAULT",
    "added",
    "area_deleted",
    "backfill",
    "categories_changed",
    "cell_column",
    "cells_drift",
    "drift",
    "item_cells_drift",
    "items_changed",
    "map_categories",
    "observation_changed",
    "refresh_cells",
    "set_cells",
    "sync",
]
