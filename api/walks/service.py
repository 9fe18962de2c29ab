"""Walks: planning, the status moves, join codes and participants joining."""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime, timedelta

from shapely.geometry.base import BaseGeometry
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlmodel import col

from api.areas.service import get_area
from api.auth.principal import Principal
from api.auth.security import TokenClaims, sign
from api.core import spatial, tenancy
from api.core.errors import Conflict, InvalidInput, Message, NotFound
from api.core.paging import after_keyset, keyset_page
from api.core.ratelimit import Limits
from api.notices import outbox as notices
from api.settings import Settings
from geo.geojson import GeometryError, parse_geometry, to_geojson
from geo.sun import is_dark
from models import JOINABLE, WALK_TRANSITIONS, Area, Participant, Walk, WalkStatus, utcnow
from models.base import columns_for
from models.geojson import LineStringGeometry
from models.walks import JoinRequest, JoinResponse, WalkCreate, WalkRead, WalkUpdate

# No 0/O, 1/I/L: read aloud or typed from a poster without mistakes. 31^8 ≈ 8.5e11 codes.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 8
# A participant's token outlives the walk a little, so offline phones can still sync.
TOKEN_GRACE_AFTER_WALK = timedelta(hours=12)
TOKEN_LIFETIME_WITHOUT_END = timedelta(hours=24)


def new_join_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalize_code(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch not in " -_")


def _route(route: LineStringGeometry | None) -> BaseGeometry | None:
    if route is None:
        return None
    try:
        return parse_geometry(route.model_dump(), {"LineString"})
    except GeometryError as exc:
        raise InvalidInput.at(["body", "route", *exc.loc], exc.key, **exc.params) from exc


def _darkness(session: Session, walk: Walk) -> bool | None:
    """Dark or daylight at the start, from the sun at the route's start or the area's centre."""
    if walk.starts_at is None:
        return None
    where: BaseGeometry | None = None
    if walk.route is not None:
        route = spatial.from_db(walk.route)
        where = route.interpolate(0) if route is not None else None
    elif walk.area_id is not None:
        area = session.get(Area, walk.area_id)
        shape = spatial.from_db(area.geometry) if area is not None else None
        where = shape.representative_point() if shape is not None else None
    if where is None:
        return None
    return is_dark(where.y, where.x, walk.starts_at)


def _check_times(starts_at: datetime | None, ends_at: datetime | None) -> None:
    if starts_at and ends_at and ends_at <= starts_at:
        raise InvalidInput.at(["body", "ends_at"], "error.ends_before_starts")


def to_read(session: Session, walk: Walk) -> WalkRead:
    route = spatial.from_db(walk.route)
    count = session.scalar(
        select(func.count()).select_from(Participant).where(col(Participant.walk_id) == walk.id)
    )
    return WalkRead(
        **{
            **columns_for(walk, WalkRead),
            "route": to_geojson(route) if route is not None else None,
            "participant_count": int(count or 0),
        }
    )


def _unique_code(session: Session) -> str:
    for _ in range(10):
        code = new_join_code()
        with tenancy.lookup(session, "walk"):  # codes are unique across organizations
            taken = session.scalar(
                select(func.count()).select_from(Walk).where(col(Walk.join_code) == code)
            )
        if not taken:
            return code
    raise Conflict(key="error.no_free_join_code")  # pragma: no cover


def create_walk(session: Session, principal: Principal, body: WalkCreate) -> Walk:
    org_id = principal.org_id
    if body.area_id is not None:
        try:
            get_area(session, org_id, body.area_id)
        except NotFound as exc:
            raise InvalidInput.at(["body", "area_id"], "error.no_such_area") from exc
    if body.follow_up_of_id is not None:
        prior = session.get(Walk, body.follow_up_of_id)
        if prior is None or prior.organization_id != org_id:
            raise InvalidInput.at(["body", "follow_up_of_id"], "error.no_such_walk")
    _check_times(body.starts_at, body.ends_at)
    walk = Walk(
        organization_id=org_id,
        area_id=body.area_id,
        follow_up_of_id=body.follow_up_of_id,
        title=body.title.strip(),
        route=spatial.to_db(_route(body.route)),
        starts_at=body.starts_at,
        ends_at=body.ends_at,
        weather=body.weather,
        join_code=_unique_code(session),
        created_by_id=principal.user.id if principal.user else None,
    )
    session.add(walk)
    session.flush()
    walk.is_dark = _darkness(session, walk)
    session.flush()
    return walk


def update_walk(session: Session, walk: Walk, body: WalkUpdate) -> Walk:
    before = str(walk.status)
    changes = body.model_dump(exclude_unset=True)
    if "status" in changes and changes["status"] is not None:
        target = WalkStatus(changes.pop("status"))
        if target != walk.status:
            if target not in WALK_TRANSITIONS[WalkStatus(walk.status)]:
                raise Conflict(
                    key="error.walk_status_move",
                    params={
                        "status": Message(f"walk_status.{walk.status}"),
                        "target": Message(f"walk_status.{target}"),
                    },
                )
            walk.status = target
    else:
        changes.pop("status", None)
    if "area_id" in changes and changes["area_id"] is not None:
        try:
            get_area(session, walk.organization_id, changes["area_id"])
        except NotFound as exc:
            raise InvalidInput.at(["body", "area_id"], "error.no_such_area") from exc
    if "route" in changes:
        walk.route = spatial.to_db(_route(body.route))
        changes.pop("route")
    if "title" in changes and not changes["title"]:
        raise InvalidInput.at(["body", "title"], "error.walk_title_required")
    for key in ("title", "area_id", "starts_at", "ends_at", "weather"):
        if key in changes:
            setattr(walk, key, changes[key])
    _check_times(walk.starts_at, walk.ends_at)
    walk.updated_at = utcnow()
    session.flush()
    walk.is_dark = _darkness(session, walk)
    notices.walk_changed(session, walk, before)
    session.flush()
    return walk


def list_walks(
    session: Session,
    org_id: uuid.UUID,
    *,
    n: int,
    cursor: str | None,
    status: WalkStatus | None = None,
    area_id: uuid.UUID | None = None,
) -> tuple[list[Walk], str | None]:
    stmt = select(Walk).where(col(Walk.organization_id) == org_id)
    if status is not None:
        stmt = stmt.where(col(Walk.status) == status)
    if area_id is not None:
        stmt = stmt.where(col(Walk.area_id) == area_id)
    newest_first = (col(Walk.created_at), col(Walk.id))
    after = after_keyset(cursor, *newest_first, descending=True)
    if after is not None:
        stmt = stmt.where(after)
    return keyset_page(session, stmt, *newest_first, n, descending=True)


def rotate_code(session: Session, walk: Walk) -> Walk:
    walk.join_code = _unique_code(session)
    walk.updated_at = utcnow()
    session.flush()
    return walk


def participant_token_expiry(walk: Walk) -> datetime:
    now = utcnow()
    if walk.ends_at is not None:
        return max(walk.ends_at + TOKEN_GRACE_AFTER_WALK, now + timedelta(hours=1))
    base = max(walk.starts_at or now, now)
    return base + TOKEN_LIFETIME_WITHOUT_END


def join(
    session: Session,
    limits: Limits,
    body: JoinRequest,
    *,
    client: str,
    secret: str,
    settings: Settings,
) -> JoinResponse:
    """Wrong codes count against the caller's address; joins count against the walk."""
    limits.join_failures_per_client.check(client, "error.too_many_wrong_codes")
    limits.join_failures_per_client_hour.check(client, "error.too_many_wrong_codes")
    if limits.join_failures_everywhere.retry_after(
        "*"
    ) and limits.join_failures_per_client_hour.count(client):
        limits.join_failures_everywhere.check("*", "error.codes_being_guessed")
    code = normalize_code(body.code)
    with tenancy.lookup(session, "walk"):  # the code is what names the organization
        walk = session.scalar(select(Walk).where(col(Walk.join_code) == code))
    if walk is not None:
        tenancy.bind(session, walk.organization_id)
    if walk is None or walk.status not in JOINABLE:
        limits.join_failures_per_client.hit(client)
        limits.join_failures_per_client_hour.hit(client)
        limits.join_failures_everywhere.hit("*")
        if walk is None:
            raise NotFound(key="error.no_walk_for_code")
        # Still a 404 (nothing to join), but the phone can say why: the code was right.
        raise NotFound(key="error.walk_closed", reason="walk_closed")
    limits.joins_per_walk.check(str(walk.id), "error.too_many_joins")
    limits.joins_per_walk.hit(str(walk.id))
    name = body.display_name.strip() if body.display_name else None
    participant = Participant(
        organization_id=walk.organization_id,
        walk_id=walk.id,
        display_name=name or None,
        group=body.group,
    )
    session.add(participant)
    try:
        session.flush()
    except IntegrityError as exc:  # pragma: no cover - the walk vanished under us
        raise NotFound(key="error.no_walk_for_code") from exc
    claims = TokenClaims(
        "participant", participant.id, walk.organization_id, walk.id, participant_token_expiry(walk)
    )
    return JoinResponse(
        participant_id=participant.id,
        walk_id=walk.id,
        access_token=sign(claims, secret=secret, settings=settings),
        expires_at=claims.expires_at,
        walk_title=walk.title,
    )
