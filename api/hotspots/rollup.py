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

`backfill` fills the cells of older observations and builds their contributions, batch by
batch; it runs from `safewalk migrate`, not inside the Alembic revision.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Uuid, bindparam, case, delete, func, insert, literal, select, update
from sqlalchemy.orm import Session, sessionmaker
from sqlmodel import col

from api.core import dialect
from geo.hotspots import STORED_RESOLUTIONS, cells_at
from models import NO_AREA, HotspotDay, HotspotMember, HotspotTotal, Moderation, Observation
from models.observations import NEUTRAL_SEVERITY

CELL_COLUMNS: tuple[str, ...] = tuple(f"h3_r{r}" for r in STORED_RESOLUTIONS)
COUNTERS = ("n", "score", "dark", "dark_known")
DAY_KEY = ("organization_id", "resolution", "day", "area_id", "category_id", "cell")
TOTAL_KEY = ("organization_id", "resolution", "area_id", "category_id", "cell")
# Ids per statement: well under SQLite's and PostgreSQL's parameter limits.
CHUNK = 2_000


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


def added(session: Session, observations: Iterable[Observation]) -> None:
    """Count observations just inserted by capture, from the objects themselves: no member row
    can exist for a new id, so there is nothing to read. One insert of member rows and one
    upsert per rollup table, whatever the number. The caller holds the groups' locks."""
    deltas: Deltas = defaultdict(lambda: [0, 0, 0, 0])
    new: list[dict[str, Any]] = []
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
    member_table: Any = HotspotMember.__table__  # type: ignore[attr-defined]
    dialect.bulk_insert(session, member_table, new)
    _apply(session, deltas)


def observation_changed(session: Session, obs: Observation) -> None:
    """The one call for capture, moderation, edits, withdrawal and placement."""
    session.flush()
    sync(session, [obs.id])


def area_deleted(session: Session, area_id: uuid.UUID) -> None:
    """After an area's deletion set its observations' `area_id` to NULL: move their counts."""
    ids = session.scalars(
        select(col(HotspotMember.observation_id)).where(col(HotspotMember.area_id) == area_id)
    ).all()
    sync(session, ids)


# --- checking ------------------------------------------------------------------------------


def drift(session: Session, org_id: uuid.UUID) -> dict[str, dict[tuple[Any, ...], tuple[int, ...]]]:
    """Rollup rows that differ from a fresh GROUP BY over the organization's observations,
    per table: key -> (rollup counters, recounted counters). Empty when exact. For tests and
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
    out: dict[str, dict[tuple[Any, ...], tuple[int, ...]]] = {}
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
        out[table.__tablename__] = diff  # type: ignore[assignment]
    return out


# --- backfill (from `safewalk migrate`) ---------------------------------------------------------


def backfill(factory: sessionmaker[Session], batch: int = 20_000) -> int:
    """Fill missing cells and build missing contributions, one transaction per batch of
    observations in id order. Idempotent, and safe beside live traffic: each batch locks its
    rows, and only observations without a member row are added (live writers add theirs).
    Returns the number of observations whose contribution was added."""
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
    "added",
    "area_deleted",
    "backfill",
    "cell_column",
    "drift",
    "observation_changed",
    "set_cells",
    "sync",
]
