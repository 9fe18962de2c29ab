"""Capture, set-based: a chunk of observations checked and placed in Python, written at once.

Capture is keyed by the client's UUID. An identical replay answers with the stored record, the
same id with another body is a conflict. A chunk (a single PUT is a chunk of one, a batch is
cut into chunks of ``BATCH_CHUNK``) goes through the same steps whatever its size:

1. read what it needs once: the ids already stored, the walks, the areas around its points
   (and, once per request, the organization's webhooks);
2. check and place every observation in Python (area, darkness, H3 cells, held or not); an
   observation that fails its checks is answered alone and leaves the others alone;
3. take the groups' locks, then write in a fixed number of statements (``_write_chunk``):
   grouping (``api.action_items.chunk``: the touched items read once, refreshed once), one
   INSERT of the observations, one upsert per rollup, the notices (written, not read: the
   webhooks were read in step 1).

Only step 3 holds locks, inside one savepoint: a transient failure (a deadlock, an item moved
underneath) undoes the chunk's writes and runs them again; one that persists fails the chunk's
items alone, and the client sends them again.
"""

from __future__ import annotations

import hashlib
import json
import random
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from pydantic import ValidationError
from shapely.geometry.base import BaseGeometry
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlmodel import col

from api.action_items import DEFAULT_RULES, GroupingRules
from api.action_items import chunk as item_chunk
from api.action_items.grouping import group_key
from api.areas.service import smallest_area_containing, smallest_areas_containing
from api.assets import service as assets
from api.auth.principal import Principal
from api.core import dialect, spatial
from api.core.db import is_transient
from api.core.errors import ENGLISH, Busy, Conflict, InvalidInput, NotFound
from api.hotspots import rollup as hotspot_rollup
from api.notices import outbox as notices
from api.observations.plausibility import (
    DEFAULT_WALK_MAX_DISTANCE_M,
    WalkFences,
    check_near_walk,
    unknown_category,
)
from api.privacy import sensitive
from geo.geojson import GeometryError, parse_geometry
from geo.hotspots import cell_r15
from geo.sun import is_dark
from models import (
    Area,
    Category,
    Moderation,
    ModerationReason,
    Observation,
    Organization,
    Walk,
    WalkStatus,
    Webhook,
    utcnow,
)
from models.observations import BatchItemResult, BatchOut, ObservationIn
from models.organizations import Language, ModerationMode

# Phones' clocks drift; a few minutes ahead of ours is still "now".
CLOCK_SKEW = timedelta(minutes=5)
# Observations may be noted on the way to the start, not days before.
BEFORE_WALK = timedelta(hours=6)
# Tries of one chunk's writes when concurrent writers of the same group collide.
CAPTURE_ATTEMPTS = 6
# Observations per chunk, and per transaction when the caller lets a batch commit as it goes:
# a phone's outbox of 200 holds its group locks (and SQLite's write lock) for one chunk's
# writes at a time, so single PUTs at the same spot wait for 20 observations' writes at most.
BATCH_CHUNK = 20


def body_hash(body: ObservationIn) -> str:
    """A hash of the meaning of the body: the same instant in another offset is the same body."""
    # Without a chosen asset the body hashes as it did before bodies could name one.
    data = body.model_dump(mode="json", exclude={"id"} if body.asset_id else {"id", "asset_id"})
    data["recorded_at"] = body.recorded_at.astimezone(tz=None).timestamp()
    raw = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(raw.encode()).hexdigest()


def categories_of(session: Session, org_id: uuid.UUID) -> dict[str, Category]:
    rows = session.scalars(select(Category).where(col(Category.organization_id) == org_id))
    return {c.code: c for c in rows}


def place(session: Session, obs: Observation, point: BaseGeometry) -> None:
    """Set the location and what follows from it: area, darkness, H3 cells (one observation;
    capture places a chunk with ``_place``)."""
    area = smallest_area_containing(session, obs.organization_id, point)
    _place(obs, point, area.id if area is not None else None)


def _place(obs: Observation, point: BaseGeometry, area_id: uuid.UUID | None) -> None:
    obs.location = spatial.to_db(point)
    # Kept whatever the category: turning a category sensitive then generalises at once.
    obs.location_general = spatial.to_db(sensitive.general_point(point))
    obs.area_id = area_id
    obs.is_dark = is_dark(point.y, point.x, obs.recorded_at)
    obs.h3_r15 = cell_r15(point.y, point.x)
    hotspot_rollup.set_cells(obs, point.y, point.x)


@dataclass
class Capture:
    observation: Observation
    created: bool


@dataclass
class _Entry:
    """One observation of a chunk on its way through, and what became of it."""

    index: int
    loc: list[str | int]
    id: uuid.UUID
    body: ObservationIn
    digest: str
    walk: Walk | None = None
    cat: Category | None = None
    point: BaseGeometry | None = None
    area_id: uuid.UUID | None = None
    status: str | None = None  # created | duplicate | conflict | not_found | invalid | failed
    error: Exception | None = None
    observation: Observation | None = None


@dataclass
class _Context:
    """What every chunk of one request shares."""

    principal: Principal
    cats: dict[str, Category]
    max_distance_m: float
    rules: GroupingRules
    fences: WalkFences = field(default_factory=WalkFences)
    walks: dict[uuid.UUID, Walk | None] = field(default_factory=dict)
    areas: dict[uuid.UUID, Area] = field(default_factory=dict)
    # The organization's active webhooks, read once per request before any lock is taken.
    hooks: list[Webhook] | None = None

    @property
    def cats_by_id(self) -> dict[uuid.UUID, Category]:
        return {c.id: c for c in self.cats.values()}


def capture(
    session: Session,
    principal: Principal,
    obs_id: uuid.UUID,
    body: ObservationIn,
    *,
    loc: list[str | int] | None = None,
    categories: dict[str, Category] | None = None,
    max_distance_m: float = DEFAULT_WALK_MAX_DISTANCE_M,
    rules: GroupingRules = DEFAULT_RULES,
    fences: WalkFences | None = None,
    checkpoint: Callable[[], None] | None = None,
) -> Capture:
    """One observation: a chunk of one. Raises what a single PUT answers (422, 409, 404, 503).

    ``checkpoint`` (the router passes ``session.commit``) is called once the observation is
    written, so its groups' locks are not held while the answer is built."""
    loc = loc if loc is not None else ["body"]
    if body.id is not None and body.id != obs_id:
        raise InvalidInput.at([*loc, "id"], "error.id_mismatch")
    ctx = _Context(
        principal,
        categories if categories is not None else categories_of(session, principal.org_id),
        max_distance_m,
        rules,
        fences or WalkFences(),
    )
    entry = _Entry(0, loc, obs_id, body, body_hash(body))
    _capture_chunk(session, ctx, [entry])
    if entry.status == "created" and checkpoint is not None:
        checkpoint()
    if entry.status == "created":
        assert entry.observation is not None
        return Capture(entry.observation, created=True)
    if entry.status == "duplicate":
        stored = session.get(Observation, obs_id, populate_existing=True)
        assert stored is not None
        return Capture(stored, created=False)
    if entry.status == "conflict":
        raise Conflict(key="error.observation_other_body", params={"obs_id": obs_id})
    if entry.status == "not_found":
        raise NotFound(key="error.no_such_observation")
    assert entry.error is not None
    raise entry.error


def capture_batch(
    session: Session,
    principal: Principal,
    items: Sequence[Any],
    *,
    max_distance_m: float = DEFAULT_WALK_MAX_DISTANCE_M,
    rules: GroupingRules = DEFAULT_RULES,
    checkpoint: Callable[[], None] | None = None,
    lang: str = ENGLISH,
) -> BatchOut:
    """Capture each item on its own terms (one result per item, all or nothing per item), in
    chunks of ``BATCH_CHUNK``.

    ``checkpoint`` (the router passes ``session.commit``) is called after every chunk, so a
    chunk's locks are held for its writes only. An item is acknowledged only by the response,
    so a batch cut short is sent again and its stored items answer ``duplicate``."""
    ctx = _Context(principal, categories_of(session, principal.org_id), max_distance_m, rules)
    results: list[BatchItemResult | None] = [None] * len(items)
    entries: list[_Entry] = []
    for i, raw in enumerate(items):
        prefix: list[str | int] = ["body", "observations", i]
        raw_id = raw.get("id") if isinstance(raw, dict) else None
        try:
            body = ObservationIn.model_validate(raw)
        except ValidationError as exc:
            shown = str(raw_id) if raw_id is not None else None
            results[i] = BatchItemResult(
                id=shown, status="invalid", errors=_errors_from(exc, prefix)
            )
            continue
        if body.id is None:
            err = [{"loc": [*prefix, "id"], "msg": "each batch item needs its client-generated id"}]
            results[i] = BatchItemResult(id=None, status="invalid", errors=err)
            continue
        entries.append(_Entry(i, prefix, body.id, body, body_hash(body)))
    for start in range(0, len(items), BATCH_CHUNK):
        chunk = [e for e in entries if start <= e.index < start + BATCH_CHUNK]
        _capture_chunk(session, ctx, chunk)
        if chunk and checkpoint is not None:
            checkpoint()
        for e in chunk:
            results[e.index] = _result(e, lang)
    done = [r for r in results if r is not None]
    counts = {
        s: sum(1 for r in done if r.status == s)
        for s in ("created", "duplicate", "conflict", "invalid", "failed")
    }
    return BatchOut(results=done, **counts)


def _result(e: _Entry, lang: str) -> BatchItemResult:
    # Each refusal in the reader's language (``lang``), as the problem details are.
    shown = str(e.id)
    if e.status in ("created", "duplicate"):
        return BatchItemResult(id=shown, status=str(e.status))
    if e.status in ("conflict", "not_found"):
        return BatchItemResult(id=shown, status="conflict")
    if isinstance(e.error, Busy):
        return BatchItemResult(
            id=shown, status="failed", errors=[{"loc": e.loc, "msg": e.error.message_in(lang)}]
        )
    assert isinstance(e.error, InvalidInput), e.error
    return BatchItemResult(id=shown, status="invalid", errors=e.error.errors_in(lang) or [])


def _errors_from(exc: ValidationError, prefix: list[str | int]) -> list[dict[str, Any]]:
    return [
        {
            "loc": [*prefix, *[p if isinstance(p, int) else str(p) for p in e["loc"]]],
            "msg": e["msg"],
        }
        for e in exc.errors()
    ]


# --- one chunk ---------------------------------------------------------------------------------


def _capture_chunk(session: Session, ctx: _Context, entries: list[_Entry]) -> None:
    """Settle every entry: stored, a replay, refused, or failed."""
    pending = list(entries)
    while pending:
        # The same id twice in one chunk: the later one waits for the earlier one's outcome.
        seen: set[uuid.UUID] = set()
        now_: list[_Entry] = []
        later: list[_Entry] = []
        for e in pending:
            (later if e.id in seen else now_).append(e)
            seen.add(e.id)
        _settle(session, ctx, now_)
        pending = later


def _settle(session: Session, ctx: _Context, entries: list[_Entry]) -> None:
    raced: set[uuid.UUID] | None = None  # the ids still unknown when an insert met one
    for attempt in range(CAPTURE_ATTEMPTS):
        for e in entries:
            e.status, e.error, e.observation = None, None, None
        todo = _known(session, ctx, entries)
        if raced is not None and {e.id for e in todo} == raced:
            # An insert met an id that no read of ours can see: another organization's row
            # behind row-level security. Alone, such an entry is that id; the wall gives no
            # hint that it exists elsewhere.
            if len(entries) == 1:
                entries[0].status = "not_found"
                return
            for e in entries:
                if e.status is None:
                    _settle(session, ctx, [e])
            return
        todo = _check(session, ctx, todo)
        if not todo:
            return
        todo, observations = _build(session, ctx, todo)
        if not todo:
            return
        try:
            _write_chunk(session, ctx, observations)
        except IntegrityError:
            # Another request stored one of these ids between our read and our insert: the
            # savepoint is undone; the next round finds it stored.
            raced = {e.id for e in todo}
            continue
        except Exception as exc:
            if not is_transient(exc):
                raise
            if attempt == CAPTURE_ATTEMPTS - 1:
                busy = Busy()
                for e in todo:
                    e.status, e.error = "failed", busy
                return
            time.sleep(random.uniform(0.005, 0.02) * 2**attempt)
            continue
        for e, obs in zip(todo, observations, strict=True):
            e.status, e.observation = "created", obs
        return
    busy = Busy()
    for e in entries:
        if e.status is None:
            e.status, e.error = "failed", busy


def _known(session: Session, ctx: _Context, entries: list[_Entry]) -> list[_Entry]:
    """Answer the ids already stored (one read); the rest go on."""
    ids = [e.id for e in entries]
    stored = {
        r[0]: (r[1], r[2])
        for r in session.execute(
            select(
                col(Observation.id), col(Observation.organization_id), col(Observation.body_hash)
            ).where(col(Observation.id).in_(ids))
        ).all()
    }
    rest = []
    for e in entries:
        found = stored.get(e.id)
        if found is None:
            rest.append(e)
        elif found[0] != ctx.principal.org_id:
            e.status = "not_found"  # another organization's: no hint that the id exists
        elif found[1] != e.digest:
            e.status = "conflict"
        else:
            e.status = "duplicate"
    return rest


def _walks(session: Session, ctx: _Context, ids: set[uuid.UUID]) -> None:
    missing = [i for i in ids if i not in ctx.walks]
    if not missing:
        return
    found = {w.id: w for w in session.scalars(select(Walk).where(col(Walk.id).in_(missing)))}
    for i in missing:
        ctx.walks[i] = found.get(i)


def _walk_for(ctx: _Context, walk_id: uuid.UUID, loc: list[str | int]) -> Walk:
    walk = ctx.walks.get(walk_id)
    p = ctx.principal
    visible = walk is not None and walk.organization_id == p.org_id
    if visible and p.participant is not None:
        visible = p.participant.walk_id == walk_id
    if walk is None or not visible:
        raise InvalidInput.at([*loc, "walk_id"], "error.no_such_walk")
    if walk.status == WalkStatus.cancelled:
        raise InvalidInput.at([*loc, "walk_id"], "error.walk_cancelled")
    return walk


def _check(session: Session, ctx: _Context, entries: list[_Entry]) -> list[_Entry]:
    """Check each entry alone (in the order of the checks of one observation), reading the
    walks once and the areas around the points, with the walks' own, once."""
    _walks(session, ctx, {e.body.walk_id for e in entries})
    if ctx.hooks is None:
        ctx.hooks = notices.active_hooks(session, ctx.principal.org_id)
    ok: list[_Entry] = []
    for e in entries:
        try:
            e.walk = _walk_for(ctx, e.body.walk_id, e.loc)
            e.cat, e.point = _parse(ctx, e)
        except InvalidInput as exc:
            e.status, e.error = "invalid", exc
            continue
        ok.append(e)
    located = [e for e in ok if e.point is not None]
    walk_areas = {e.walk.area_id for e in ok if e.walk is not None and e.walk.area_id}
    found, read = smallest_areas_containing(
        session,
        ctx.principal.org_id,
        [e.point for e in located if e.point is not None],
        also=walk_areas - ctx.areas.keys(),
    )
    # Held here: the identity map keeps objects only while someone does (the fences and the
    # item titles look them up by id).
    ctx.areas.update({a.id: a for a in read})
    for e, area in zip(located, found, strict=True):
        e.area_id = area.id if area is not None else None
    checked: list[_Entry] = []
    for e in ok:
        try:
            _validate(session, ctx, e)
        except InvalidInput as exc:
            e.status, e.error = "invalid", exc
            continue
        checked.append(e)
    return checked


def _parse(ctx: _Context, e: _Entry) -> tuple[Category, BaseGeometry | None]:
    body, loc = e.body, e.loc
    cat = ctx.cats.get(body.category)
    if cat is None:
        raise unknown_category(body.category, ctx.cats, [*loc, "category"])
    if body.location is None:
        return cat, None
    try:
        return cat, parse_geometry(body.location.model_dump(), {"Point"})
    except GeometryError as exc:
        raise InvalidInput.at([*loc, "location", *exc.loc], exc.key, **exc.params) from exc


def _validate(session: Session, ctx: _Context, e: _Entry) -> None:
    body, loc, walk = e.body, e.loc, e.walk
    assert walk is not None
    if e.point is not None:
        check_near_walk(
            session, walk, e.point, max_distance_m=ctx.max_distance_m, loc=loc, fences=ctx.fences
        )
    now = utcnow()
    if body.recorded_at > now + CLOCK_SKEW:
        raise InvalidInput.at([*loc, "recorded_at"], "error.in_future")
    earliest = (walk.starts_at or walk.created_at) - BEFORE_WALK
    if body.recorded_at < earliest:
        raise InvalidInput.at([*loc, "recorded_at"], "error.long_before_walk")
    if body.note is not None and "\x00" in body.note:
        raise InvalidInput.at([*loc, "note"], "error.nul_character")


def _build(
    session: Session, ctx: _Context, entries: list[_Entry]
) -> tuple[list[_Entry], list[Observation]]:
    """The chunk's rows, placed, snapped to a lamp and (post-moderation) accepted unless held
    for review; an entry naming an asset it cannot have is refused alone."""
    p = ctx.principal
    org = session.get(Organization, p.org_id)
    pre = org is not None and org.moderation_mode == ModerationMode.pre
    outside: bool | None = None  # whether the organization has areas, asked only if needed
    kept: list[_Entry] = []
    out: list[Observation] = []
    received = utcnow()
    for e in entries:
        assert e.cat is not None
        assert e.walk is not None
        body = e.body
        obs = Observation(
            id=e.id,
            organization_id=p.org_id,
            walk_id=e.walk.id,
            participant_id=p.participant.id if p.participant else None,
            created_by_id=p.user.id if p.user else None,
            category_id=e.cat.id,
            accuracy_m=body.accuracy_m,
            severity=body.severity,
            perceived_safety=body.perceived_safety,
            note=body.note.strip() if body.note else None,
            recorded_at=body.recorded_at,
            received_at=received,
            moderation=Moderation.accepted,
            body_hash=e.digest,
        )
        if e.point is not None:
            _place(obs, e.point, e.area_id)
        try:
            assets.link_observation(session, obs, e.cat, body.asset_id, e.point, e.loc)
        except InvalidInput as exc:
            e.status, e.error = "invalid", exc
            continue
        if pre:
            obs.set_moderation(Moderation.submitted, ModerationReason.pre_moderation)
        elif e.point is not None and e.area_id is None:
            if outside is None:
                outside = bool(ctx.areas) or _has_areas(session, p.org_id)
            if outside:
                obs.set_moderation(Moderation.submitted, ModerationReason.outside_areas)
        kept.append(e)
        out.append(obs)
    return kept, out


def _has_areas(session: Session, org_id: uuid.UUID) -> bool:
    return (
        session.scalar(select(col(Area.id)).where(col(Area.organization_id) == org_id).limit(1))
        is not None
    )


def _write_chunk(session: Session, ctx: _Context, observations: list[Observation]) -> None:
    """The chunk's writes, in one savepoint, its groups' locks taken first: the one place where
    a chunk of new observations fans out to the action list, the rollups and the notices."""
    p = ctx.principal
    cats = ctx.cats_by_id
    grouped: item_chunk.Grouped | None = None
    savepoint = session.begin_nested()
    try:
        # Every located observation's group: grouping reads and rewrites it, and the hotspot
        # counters are guarded by the same locks (perception-only categories too).
        dialect.lock_groups(
            session,
            [
                group_key(o.organization_id, o.area_id, o.category_id)
                for o in observations
                if o.location is not None
            ],
        )
        org = session.get(Organization, p.org_id)
        grouped = item_chunk.group_chunk(
            session,
            observations,
            {o.id: _lon_lat(o) for o in observations if o.location is not None},
            cats,
            language=org.language if org is not None else Language.nb,
            area_names={a.id: a.name for a in ctx.areas.values()},
            participant_groups=(
                {p.participant.id: str(p.participant.group)} if p.participant is not None else {}
            ),
            rules=ctx.rules,
        )
        table: Any = Observation.__table__  # type: ignore[attr-defined]
        dialect.bulk_insert(session, table, [item_chunk.rows_of(table, o) for o in observations])
        hotspot_rollup.added(session, observations, [i for i, _ in grouped.reopened])
        item_chunk.tell(session, grouped, hooks=ctx.hooks)
        notices.observations_created(session, observations, hooks=ctx.hooks)
        session.flush()
        savepoint.commit()
    except BaseException:
        savepoint.rollback()
        # Items attached for a referral are rows no longer: out of the session, for the retry.
        for item in grouped.created if grouped is not None else ():
            if item in session:
                session.expunge(item)
        raise
    # Written by Core statements: the objects join the session as the rows they now are (no
    # SQL), so what reads them later in the request finds them. Items referred to a lamp's
    # owner joined it already, to be referred.
    for obj in (*observations, *grouped.created):
        if obj in session:
            continue
        make_transient_to_detached(obj)
        session.add(obj)


def _lon_lat(obs: Observation) -> tuple[float, float]:
    point = spatial.from_db(obs.location)
    assert point is not None
    return point.x, point.y


__all__ = [
    "BATCH_CHUNK",
    "CAPTURE_ATTEMPTS",
    "Capture",
    "body_hash",
    "capture",
    "capture_batch",
    "categories_of",
    "place",
]
