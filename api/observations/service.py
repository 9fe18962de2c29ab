"""Observations: idempotent capture from offline phones, placement, listing and moderation.

Capture is keyed by the client's UUID. An identical replay answers with the stored record, the
same id with another body is a conflict, and every write is all-or-nothing (a savepoint per
observation, so a batch item that fails leaves no trace and sinks nothing else).
"""

from __future__ import annotations

import hashlib
import json
import random
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlmodel import col

from api.action_items import DEFAULT_RULES, GroupingRules
from api.areas.service import smallest_area_containing
from api.assets import service as assets
from api.auth.principal import Principal
from api.categories import service as category_service
from api.core import dialect, spatial
from api.core.db import is_transient
from api.core.errors import Busy, Conflict, InvalidInput, NotFound
from api.core.paging import after_keyset, keyset_page
from api.core.photo_links import photo_links
from api.core.signing import PhotoSigner
from api.hotspots import rollup as hotspot_rollup
from api.notices import outbox as notices
from api.observations.changed import observation_changed
from api.observations.plausibility import (
    DEFAULT_WALK_MAX_DISTANCE_M,
    WalkFences,
    check_near_walk,
    hold_if_needed,
    unknown_category,
)
from api.privacy import sensitive
from geo.geojson import GeometryError, parse_geometry
from geo.hotspots import cell_r15
from geo.sun import is_dark
from models import (
    Category,
    Moderation,
    Observation,
    Participant,
    Walk,
    WalkStatus,
    utcnow,
)
from models.base import columns_for
from models.observations import (
    BatchItemResult,
    BatchOut,
    ObservationIn,
    ObservationModerate,
    ObservationRead,
)

# Phones' clocks drift; a few minutes ahead of ours is still "now".
CLOCK_SKEW = timedelta(minutes=5)
# Observations may be noted on the way to the start, not days before.
BEFORE_WALK = timedelta(hours=6)
# Tries of one capture when concurrent writers of the same group collide (see is_transient).
CAPTURE_ATTEMPTS = 6


def body_hash(body: ObservationIn) -> str:
    """A hash of the meaning of the body: the same instant in another offset is the same body."""
    # Without a chosen asset the body hashes as it did before bodies could name one.
    data = body.model_dump(mode="json", exclude={"id"} if body.asset_id else {"id", "asset_id"})
    data["recorded_at"] = body.recorded_at.astimezone(tz=None).timestamp()
    raw = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(raw.encode()).hexdigest()


def _categories(session: Session, org_id: uuid.UUID) -> dict[str, Category]:
    rows = session.scalars(select(Category).where(col(Category.organization_id) == org_id))
    return {c.code: c for c in rows}


def _walk_for_capture(
    session: Session, principal: Principal, walk_id: uuid.UUID, loc: list[str | int]
) -> Walk:
    walk = session.get(Walk, walk_id)
    visible = walk is not None and walk.organization_id == principal.org_id
    if visible and principal.participant is not None:
        visible = principal.participant.walk_id == walk_id
    if walk is None or not visible:
        raise InvalidInput.at([*loc, "walk_id"], "no such walk")
    if walk.status == WalkStatus.cancelled:
        raise InvalidInput.at([*loc, "walk_id"], "the walk was cancelled")
    return walk


def place(session: Session, obs: Observation, point: BaseGeometry) -> None:
    """Set the location and what follows from it: area, darkness, H3 cell."""
    obs.location = spatial.to_db(point)
    # Kept whatever the category: turning a category sensitive then generalises at once.
    obs.location_general = spatial.to_db(sensitive.general_point(point))
    area = smallest_area_containing(session, obs.organization_id, point)
    obs.area_id = area.id if area is not None else None
    obs.is_dark = is_dark(point.y, point.x, obs.recorded_at)
    obs.h3_r15 = cell_r15(point.y, point.x)
    hotspot_rollup.set_cells(obs, point.y, point.x)


def _validate(
    session: Session,
    body: ObservationIn,
    walk: Walk,
    cats: dict[str, Category],
    loc: list[str | int],
    max_distance_m: float,
    fences: WalkFences | None,
) -> tuple[Category, BaseGeometry | None]:
    cat = cats.get(body.category)
    if cat is None:
        raise unknown_category(body.category, cats, [*loc, "category"])
    point = None
    if body.location is not None:
        try:
            point = parse_geometry(body.location.model_dump(), {"Point"})
        except GeometryError as exc:
            raise InvalidInput.at([*loc, "location", *exc.loc], exc.message) from exc
        check_near_walk(session, walk, point, max_distance_m=max_distance_m, loc=loc, fences=fences)
    now = utcnow()
    if body.recorded_at > now + CLOCK_SKEW:
        raise InvalidInput.at([*loc, "recorded_at"], "is in the future")
    earliest = (walk.starts_at or walk.created_at) - BEFORE_WALK
    if body.recorded_at < earliest:
        raise InvalidInput.at([*loc, "recorded_at"], "is long before the walk")
    if body.note is not None and "\x00" in body.note:
        raise InvalidInput.at([*loc, "note"], "contains a NUL character")
    return cat, point


@dataclass
class Capture:
    observation: Observation
    created: bool


def _existing(session: Session, obs_id: uuid.UUID, digest: str, org_id: uuid.UUID) -> Capture:
    existing = session.get(Observation, obs_id, populate_existing=True)
    # None: the insert met the id, but row-level security hides its row (another
    # organization's, on PostgreSQL). The wall: no hint that the id exists elsewhere.
    if existing is None or existing.organization_id != org_id:
        raise NotFound("no such observation")
    if existing.body_hash != digest:
        raise Conflict(f"observation {obs_id} exists with another body")
    return Capture(existing, created=False)


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
) -> Capture:
    loc = loc if loc is not None else ["body"]
    if body.id is not None and body.id != obs_id:
        raise InvalidInput.at([*loc, "id"], "does not match the id in the path")
    digest = body_hash(body)
    if session.get(Observation, obs_id) is not None:
        return _existing(session, obs_id, digest, principal.org_id)
    walk = _walk_for_capture(session, principal, body.walk_id, loc)
    cats = categories if categories is not None else _categories(session, principal.org_id)
    cat, point = _validate(session, body, walk, cats, loc, max_distance_m, fences)
    for attempt in range(CAPTURE_ATTEMPTS):
        try:
            return _store(session, principal, obs_id, body, walk, cat, point, digest, rules, loc)
        except Exception as exc:
            if not is_transient(exc):
                raise
            # Another request wrote the same group at the same moment (a deadlock, or an
            # item's version moved under us): this savepoint was undone; do it again.
            if attempt == CAPTURE_ATTEMPTS - 1:
                raise Busy() from exc
            time.sleep(random.uniform(0.005, 0.02) * 2**attempt)
    raise AssertionError("unreachable")


def _store(
    session: Session,
    principal: Principal,
    obs_id: uuid.UUID,
    body: ObservationIn,
    walk: Walk,
    cat: Category,
    point: BaseGeometry | None,
    digest: str,
    rules: GroupingRules,
    loc: list[str | int],
) -> Capture:
    """Insert, place and group one observation inside its own savepoint: all or nothing."""
    obs = Observation(
        id=obs_id,
        organization_id=principal.org_id,
        walk_id=walk.id,
        participant_id=principal.participant.id if principal.participant else None,
        created_by_id=principal.user.id if principal.user else None,
        category_id=cat.id,
        accuracy_m=body.accuracy_m,
        severity=body.severity,
        perceived_safety=body.perceived_safety,
        note=body.note.strip() if body.note else None,
        recorded_at=body.recorded_at,
        received_at=utcnow(),
        moderation=Moderation.accepted,  # post-moderation: grouped at once, unless held below
        body_hash=digest,
    )
    savepoint = session.begin_nested()
    try:
        if point is not None:
            place(session, obs, point)
        assets.link_observation(session, obs, cat, body.asset_id, point, [*loc])
        hold_if_needed(session, obs)
        session.add(obs)
        session.flush()
        observation_changed(session, obs, rules)
        notices.observation_created(session, obs)
        session.flush()
        savepoint.commit()
    except IntegrityError:
        # Another request stored the same id between our check and our insert.
        savepoint.rollback()
        return _existing(session, obs_id, digest, principal.org_id)
    except BaseException:
        savepoint.rollback()
        raise
    return Capture(obs, created=True)


def _errors_from(exc: ValidationError, prefix: list[str | int]) -> list[dict[str, Any]]:
    return [
        {
            "loc": [*prefix, *[p if isinstance(p, int) else str(p) for p in e["loc"]]],
            "msg": e["msg"],
        }
        for e in exc.errors()
    ]


def _lock_batch_groups(
    session: Session, principal: Principal, items: Sequence[Any], cats: dict[str, Category]
) -> None:
    """Take every group lock the batch will need, up front and in one order.

    Taken one by one as the items go, two batches at the same spot in different category orders
    would each hold a lock the other waits for. Items that turn out invalid cost a lock at most.
    """
    keys: set[dialect.GroupKey] = set()
    for raw in items:
        if not isinstance(raw, dict):
            continue
        cat = cats.get(str(raw.get("category")))
        loc = raw.get("location")
        # Perception-only categories make no items but add to the hotspot counters, which
        # are guarded by the same group locks.
        if cat is None or not isinstance(loc, dict):
            continue
        try:
            point = parse_geometry(loc, {"Point"})
        except (GeometryError, TypeError, ValueError):
            continue
        area = smallest_area_containing(session, principal.org_id, point)
        keys.add((principal.org_id, area.id if area is not None else None, cat.id))
    dialect.lock_groups(session, keys)


# Items per transaction when the caller lets a batch commit as it goes: a phone's outbox of
# 200 holds its group locks (and SQLite's write lock) for one chunk at a time, not for all of
# it, so single PUTs at the same spot wait for 20 items at most.
BATCH_CHUNK = 20


def capture_batch(
    session: Session,
    principal: Principal,
    items: Sequence[Any],
    *,
    max_distance_m: float = DEFAULT_WALK_MAX_DISTANCE_M,
    rules: GroupingRules = DEFAULT_RULES,
    checkpoint: Callable[[], None] | None = None,
) -> BatchOut:
    """Capture each item on its own terms (one result per item, all or nothing per item).

    ``checkpoint`` (the router passes ``session.commit``) is called between chunks of
    ``BATCH_CHUNK`` items; each chunk takes its group locks up front and in one order. An item
    is acknowledged only by the response, so a batch cut short is sent again and its stored
    items answer ``duplicate``."""
    cats = _categories(session, principal.org_id)
    fences = WalkFences()
    results: list[BatchItemResult] = []
    step = BATCH_CHUNK if checkpoint is not None else max(len(items), 1)
    for start in range(0, len(items), step):
        chunk = items[start : start + step]
        if start and checkpoint is not None:
            checkpoint()
        _lock_batch_groups(session, principal, chunk, cats)
        for i, raw in enumerate(chunk, start):
            results.append(
                _capture_item(session, principal, i, raw, cats, fences, max_distance_m, rules)
            )
    counts = {
        s: sum(1 for r in results if r.status == s)
        for s in ("created", "duplicate", "conflict", "invalid", "failed")
    }
    return BatchOut(results=results, **counts)


def _capture_item(
    session: Session,
    principal: Principal,
    i: int,
    raw: Any,
    cats: dict[str, Category],
    fences: WalkFences,
    max_distance_m: float,
    rules: GroupingRules,
) -> BatchItemResult:
    prefix: list[str | int] = ["body", "observations", i]
    raw_id = raw.get("id") if isinstance(raw, dict) else None
    shown_id = str(raw_id) if raw_id is not None else None
    try:
        body = ObservationIn.model_validate(raw)
    except ValidationError as exc:
        return BatchItemResult(id=shown_id, status="invalid", errors=_errors_from(exc, prefix))
    if body.id is None:
        err = [{"loc": [*prefix, "id"], "msg": "each batch item needs its client-generated id"}]
        return BatchItemResult(id=None, status="invalid", errors=err)
    try:
        done = capture(
            session, principal, body.id, body,
            loc=prefix, categories=cats, max_distance_m=max_distance_m, rules=rules,
            fences=fences,
        )  # fmt: skip
    except (Conflict, NotFound):
        return BatchItemResult(id=str(body.id), status="conflict")
    except Busy as exc:
        # Only this item is lost for now, and the client keeps it: it sends it again.
        return BatchItemResult(
            id=str(body.id), status="failed", errors=[{"loc": prefix, "msg": exc.detail}]
        )
    except InvalidInput as exc:
        return BatchItemResult(
            id=str(body.id), status="invalid", errors=[dict(e) for e in exc.errors or []]
        )
    return BatchItemResult(id=str(body.id), status="created" if done.created else "duplicate")


def get_visible(session: Session, principal: Principal, obs_id: uuid.UUID) -> Observation:
    """404 for unknown ids, other organizations, other walks (participants) and hidden ones."""
    obs = session.get(Observation, obs_id)
    if obs is None or obs.organization_id != principal.org_id:
        raise NotFound("no such observation")
    if principal.participant is not None:
        if obs.walk_id != principal.participant.walk_id or obs.moderation == Moderation.hidden:
            raise NotFound("no such observation")
    return obs


def to_reads(
    session: Session,
    rows: Sequence[Observation],
    signer: PhotoSigner | None = None,
    *,
    principal: Principal,
) -> list[ObservationRead]:
    """Reads for a page of observations as ``principal`` may see them (sensitive places:
    ``api.privacy.sensitive``), with three queries whatever the page size."""
    if not rows:
        return []
    cats = category_service.codes(session, [o.category_id for o in rows])
    pids = {o.participant_id for o in rows if o.participant_id}
    groups = (
        dict(
            session.execute(
                select(col(Participant.id), col(Participant.group)).where(
                    col(Participant.id).in_(pids)
                )
            ).all()
        )
        if pids
        else {}
    )
    hidden = {
        o.id
        for o in rows
        if sensitive.observation_hidden_from(
            principal,
            sensitive=cats.get(o.category_id, ("?", True))[1],
            participant_id=o.participant_id,
        )
    }
    photos = photo_links(session, [o.id for o in rows if o.id not in hidden], signer)
    _, lux = assets.lux_estimates(session, obs_ids=[o.id for o in rows])
    me = principal.participant.id if principal.participant is not None else None
    reads = []
    for o in rows:
        # From the row itself; only what is not a column is added. The participant's id never
        # leaves: the read schema has no field for it, only the group, and a participant does
        # not even see the group of the others of the walk.
        group = str(groups[o.participant_id]) if o.participant_id in groups else None
        if principal.participant is not None and o.participant_id != me:
            group = None
        values = {
            **columns_for(o, ObservationRead),
            "category": cats.get(o.category_id, ("?", True))[0],
            "participant_group": group,
            "photo_ids": [p.id for p in photos.get(o.id, [])],
            "photos": photos.get(o.id, []),
            "estimated_lux": lux.get(o.id),
        }
        if o.id in hidden:
            point = spatial.from_db(o.location)
            values.update(
                location=sensitive.general_point_geojson(point) if point is not None else None,
                note=None,
                accuracy_m=None,
                moderation_reason=None,
            )
        reads.append(ObservationRead.model_validate(values))
    return reads


def parse_bbox(bbox: str | None) -> tuple[float, float, float, float] | None:
    if bbox is None:
        return None
    try:
        parts = [float(p) for p in bbox.split(",")]
    except ValueError as exc:
        raise InvalidInput.at(["query", "bbox"], "expected minLon,minLat,maxLon,maxLat") from exc
    if len(parts) != 4 or any(p != p or p in (float("inf"), float("-inf")) for p in parts):
        raise InvalidInput.at(
            ["query", "bbox"], "expected four finite numbers minLon,minLat,maxLon,maxLat"
        )
    minx, miny, maxx, maxy = parts
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise InvalidInput.at(["query", "bbox"], "out of range or min > max")
    return minx, miny, maxx, maxy


@dataclass
class ObservationFilter:
    walk_id: uuid.UUID | None = None
    area_id: uuid.UUID | None = None
    category: str | None = None
    bbox: tuple[float, float, float, float] | None = None
    since: datetime | None = None
    until: datetime | None = None
    moderation: Moderation | None = None
    action_item_id: uuid.UUID | None = None


def filtered(session: Session, principal: Principal, f: ObservationFilter) -> Select[Observation]:
    stmt = select(Observation).where(col(Observation.organization_id) == principal.org_id)
    if principal.participant is not None:
        stmt = stmt.where(
            col(Observation.walk_id) == principal.participant.walk_id,
            col(Observation.moderation) != Moderation.hidden,
        )
    if f.walk_id is not None:
        stmt = stmt.where(col(Observation.walk_id) == f.walk_id)
    if f.area_id is not None:
        stmt = stmt.where(col(Observation.area_id) == f.area_id)
    if f.category is not None:
        stmt = stmt.join(Category, col(Category.id) == col(Observation.category_id)).where(
            col(Category.code) == f.category
        )
    if f.since is not None:
        stmt = stmt.where(col(Observation.recorded_at) >= f.since)
    if f.until is not None:
        stmt = stmt.where(col(Observation.recorded_at) < f.until)
    if f.moderation is not None:
        stmt = stmt.where(col(Observation.moderation) == f.moderation)
    if f.action_item_id is not None:
        stmt = stmt.where(col(Observation.action_item_id) == f.action_item_id)
    if f.bbox is not None:
        mask = sensitive.masked(principal)
        if mask is not None and f.category is None:
            stmt = stmt.join(Category, col(Category.id) == col(Observation.category_id))
        # Those who see a sensitive observation generalised find it by its generalised point.
        stmt = stmt.where(sensitive.bbox_condition(session, mask, f.bbox))
    return stmt


def list_page(
    session: Session,
    principal: Principal,
    f: ObservationFilter,
    *,
    n: int,
    cursor: str | None,
) -> tuple[list[Observation], str | None]:
    """Keyset pages on (received_at, id): new arrivals land after the cursor, so a walk through
    the pages sees every observation exactly once."""
    stmt = filtered(session, principal, f)
    after = after_keyset(cursor, col(Observation.received_at), col(Observation.id))
    if after is not None:
        stmt = stmt.where(after)
    return keyset_page(session, stmt, col(Observation.received_at), col(Observation.id), n)


def moderate(
    session: Session,
    principal: Principal,
    obs: Observation,
    body: ObservationModerate,
    rules: GroupingRules = DEFAULT_RULES,
) -> Observation:
    if body.moderation == Moderation.duplicate:
        if body.duplicate_of is None:
            raise InvalidInput.at(["body", "duplicate_of"], "name the observation this duplicates")
        if body.duplicate_of == obs.id:
            raise InvalidInput.at(
                ["body", "duplicate_of"], "an observation cannot duplicate itself"
            )
        try:
            original = get_visible(session, principal, body.duplicate_of)
        except NotFound as exc:
            raise InvalidInput.at(["body", "duplicate_of"], "no such observation") from exc
        obs.duplicate_of_id = original.id
    elif body.duplicate_of is not None:
        raise InvalidInput.at(["body", "duplicate_of"], "only with moderation 'duplicate'")
    else:
        obs.duplicate_of_id = None
    obs.moderation = body.moderation
    obs.moderation_reason = body.reason.strip() or None if body.reason else None
    session.flush()
    observation_changed(session, obs, rules)
    session.flush()
    return obs


__all__ = [
    "Capture",
    "ObservationFilter",
    "capture",
    "capture_batch",
    "get_visible",
    "list_page",
    "moderate",
    "parse_bbox",
    "place",
    "to_reads",
]
