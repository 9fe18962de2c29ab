"""The Open311 GeoReport v2 server: action items as service requests, categories as services,
and POSTed requests as observations from outside any walk.

Plain data in, plain data out; ``api.outputs.open311.formats`` writes it as XML or JSON and the router
knows HTTP. The reporter's email, names and phone that clients such as FixMyStreet send are
read past and never stored: safewalk keeps no identity of the people who report.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from shapely.geometry import Point
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlmodel import col

from api.action_items import features as item_features
from api.action_items import grouping as item_domain
from api.areas import service as area_service
from api.core import spatial, tenancy
from api.notices import outbox as notices
from api.observations.changed import observation_changed
from api.observations.plausibility import hold_if_needed
from api.observations.service import place
from api.outputs.open311.formats import Open311Error, parse_w3c, w3c, w3c_day_end
from api.outputs.open311.keys import key_for, key_for_any
from geo.generalize import snap
from models import (
    ActionEvent,
    ActionItem,
    ActionStatus,
    Area,
    Category,
    IntegrationKey,
    Moderation,
    Observation,
    Organization,
    Photo,
    utcnow,
)

SPEC = "http://wiki.open311.org/GeoReport_v2"
DEFAULT_WINDOW = timedelta(days=90)
MAX_RESULTS = 1000
PUBLIC_GRID_M = 50.0
NOTE_MAX = 2000
# Our statuses that a case system sees as "closed".
CLOSED = frozenset(ActionStatus) - item_features.OPEN_STATUSES
# Form fields that identify the reporter: read past, never stored or logged.
PERSONAL_FIELDS = frozenset(
    {"email", "first_name", "last_name", "phone", "device_id", "account_id"}
)
_ATTRIBUTE = re.compile(r"^attribute\[([A-Za-z0-9_]+)\](\[\])?$")

MediaUrl = Callable[[uuid.UUID], str]


def language(org: Organization) -> str:
    lang = getattr(org, "language", None)
    return str(lang) if lang in ("nb", "en") else "nb"


def label(cat: Category, lang: str) -> str:
    return cat.label(lang)


def open_status(status: ActionStatus | str) -> str:
    return "closed" if ActionStatus(status) in CLOSED else "open"


# --- who is asked, who asks ----------------------------------------------------------------


@dataclass
class Caller:
    """The organization a GeoReport call addresses, and the caller's key if it sent one."""

    org: Organization
    key: IntegrationKey | None


def _org_by_slug(session: Session, slug: str) -> Organization:
    with tenancy.lookup(session, "organization"):
        org = session.scalar(select(Organization).where(col(Organization.slug) == slug))
    if org is None:
        raise Open311Error(404, f"unknown jurisdiction_id {slug!r}")
    return org


def _org_by_key(session: Session, api_key: str) -> Organization:
    with tenancy.lookup(session, "integration_key", "organization"):
        key = key_for_any(session, api_key)
        org = session.get(Organization, key.organization_id) if key is not None else None
    if org is None:
        raise Open311Error(403, "invalid api_key")
    return org


def _only_org(session: Session) -> Organization | None:
    with tenancy.lookup(session, "organization"):
        orgs = list(session.scalars(select(Organization).limit(2)))
    return orgs[0] if len(orgs) == 1 else None


def addressed(
    session: Session, jurisdiction_id: str | None, api_key: str | None, *, required: bool = True
) -> Caller | None:
    """Who is asked and who asks, as GeoReport v2 lets any call say it.

    The organization is the one ``jurisdiction_id`` (its slug) names; without one, the one
    whose key the caller sent; without either, the only organization there is. A given key
    must be a live key of that organization (403 otherwise, a key of another organization
    included), also on calls that need none: a wrong key is never silently ignored. An empty
    ``api_key`` (FixMyStreet sends one when it has no key) counts as none. Without
    ``required``, a call that names nothing and finds several organizations addresses none
    (discovery)."""
    slug = (jurisdiction_id or "").strip()
    secret = (api_key or "").strip()
    # The slug (or the key, or there being one organization) names the organization; every
    # read after this acts for it alone (api/tenancy.py), the key check included.
    if slug:
        org: Organization | None = _org_by_slug(session, slug)
    elif secret:
        org = _org_by_key(session, secret)
    else:
        org = _only_org(session)
        if org is None:
            if not required:
                return None
            raise Open311Error(400, "jurisdiction_id is required (the organization's slug)")
    assert org is not None
    tenancy.bind(session, org.id)
    key = authenticate(session, org, secret) if secret else None
    return Caller(org, key)


def reader(caller: Caller) -> bool:
    """GET requests: a key sees everything; without one, the published view, if the
    organization publishes its follow-up at all. True for a keyed (full) reader."""
    if caller.key is not None:
        return True
    if not caller.org.public_followup:
        raise Open311Error(403, "this jurisdiction publishes nothing without an api_key")
    return False


def required_key(caller: Caller) -> IntegrationKey:
    if caller.key is None:
        raise Open311Error(400, "api_key is required")
    return caller.key


def authenticate(session: Session, org: Organization, api_key: str) -> IntegrationKey:
    key = key_for(session, org, api_key)
    if key is None:
        raise Open311Error(403, "invalid api_key for this jurisdiction")
    key.last_used_at = utcnow()
    return key


# --- discovery and services ----------------------------------------------------------------


def discovery(base_url: str, updated: datetime) -> dict[str, Any]:
    return {
        "changeset": w3c(updated, "UTC"),
        "contact": "Your organization's safewalk administrator",
        "key_service": "Integration keys are created by an organization's admin in safewalk",
        "endpoints": [
            {
                "specification": SPEC,
                "url": base_url,
                "changeset": w3c(updated, "UTC"),
                "type": "production",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }


def _services_query(org: Organization) -> Any:
    return (
        select(Category)
        .where(
            col(Category.organization_id) == org.id,
            col(Category.actionable).is_(True),
            # The service list is public: a sensitive category is not even named there.
            col(Category.sensitive).is_(False),
        )
        .order_by(col(Category.sort_order), col(Category.code))
    )


def services(session: Session, org: Organization) -> list[dict[str, Any]]:
    """Actionable categories: the ones that become action items (requests)."""
    lang = language(org)
    return [
        {
            "service_code": c.code,
            "service_name": label(c, lang),
            "description": label(c, "en" if lang == "nb" else "nb"),
            "metadata": True,
            "type": "realtime",
            "keywords": c.code,  # the spec's comma-separated string
            "group": c.default_department or "",
        }
        for c in session.scalars(_services_query(org))
    ]


def _category(session: Session, org: Organization, code: str, status: int = 404) -> Category:
    cat = session.scalar(
        select(Category).where(col(Category.organization_id) == org.id, col(Category.code) == code)
    )
    if cat is None or not cat.actionable:
        raise Open311Error(status, f"unknown service_code {code!r}")
    return cat


def service_definition(session: Session, org: Organization, code: str) -> dict[str, Any]:
    cat = _category(session, org, code)
    if cat.sensitive:
        raise Open311Error(404, f"unknown service_code {code!r}")
    return {
        "service_code": cat.code,
        "attributes": [
            {
                "variable": True,
                "code": "severity",
                "datatype": "singlevaluelist",
                "required": False,
                "datatype_description": "1 = minor, 2 = serious, 3 = dangerous",
                "order": 1,
                "description": "How bad is it?",
                "values": [{"key": str(k), "name": n} for k, n in SEVERITIES.items()],
            },
            {
                "variable": True,
                "code": "perceived_safety",
                "datatype": "singlevaluelist",
                "required": False,
                "datatype_description": "0 = very unsafe ... 3 = safe",
                "order": 2,
                "description": "How safe does the place feel?",
                "values": [{"key": str(k), "name": n} for k, n in SAFETY.items()],
            },
        ],
    }


SEVERITIES = {1: "minor", 2: "serious", 3: "dangerous"}
SAFETY = {0: "very unsafe", 1: "unsafe", 2: "fairly safe", 3: "safe"}


# --- requests out --------------------------------------------------------------------------


def _first_photos(session: Session, item_ids: list[uuid.UUID]) -> dict[uuid.UUID, uuid.UUID]:
    out: dict[uuid.UUID, uuid.UUID] = {}
    if not item_ids:
        return out
    rows = session.execute(
        select(col(Observation.action_item_id), col(Photo.id))
        .join(Photo, col(Photo.observation_id) == col(Observation.id))
        .where(
            col(Observation.action_item_id).in_(item_ids),
            col(Observation.moderation) == Moderation.accepted,
        )
        .order_by(col(Photo.created_at), col(Photo.id))
    ).all()
    for item_id, photo_id in rows:
        if item_id is not None:
            out.setdefault(item_id, photo_id)
    return out


def publishable(cat: Category) -> bool:
    return bool(getattr(cat, "published", True)) and not cat.sensitive


def request_records(
    session: Session,
    org: Organization,
    items: list[ActionItem],
    media_url: MediaUrl | None,
    *,
    full: bool = True,
) -> list[dict[str, Any]]:
    """Full records for a keyed caller; without a key, the published view: published
    categories only, no notes, no photos, locations snapped to about 50 m."""
    lang = language(org)
    cats = {
        c.id: c
        for c in session.scalars(
            select(Category).where(col(Category.id).in_({i.category_id for i in items}))
        )
    }
    areas = area_service.names(session, [i.area_id for i in items])
    photos = _first_photos(session, [i.id for i in items]) if media_url and full else {}
    out = []
    for i in items:
        cat = cats[i.category_id]
        # Sensitive places never leave through Open311, not even to a keyed reader.
        if cat.sensitive or (not full and not publishable(cat)):
            continue
        p = spatial.from_db(i.location)
        assert p is not None
        lon, lat = (round(p.x, 6), round(p.y, 6)) if full else snap(p.x, p.y, PUBLIC_GRID_M)
        photo = photos.get(i.id)
        out.append(
            {
                "service_request_id": str(i.id),
                "status": open_status(i.status),
                "status_notes": (i.resolution_note or i.referred_to or "") if full else "",
                "service_name": label(cat, lang),
                "service_code": cat.code,
                "description": i.title,
                "agency_responsible": i.department or "",
                "service_notice": "",
                "requested_datetime": w3c(i.created_at, org.timezone),
                "updated_datetime": w3c(i.updated_at, org.timezone),
                "expected_datetime": w3c_day_end(i.due_date, org.timezone) or "",
                "address": areas.get(i.area_id, "") if i.area_id else "",
                "address_id": "",
                "zipcode": "",
                "lat": lat,
                "long": lon,
                "media_url": media_url(photo) if media_url and photo else "",
            }
        )
    return out


@dataclass
class RequestFilter:
    ids: list[uuid.UUID] | None = None
    service_code: str | None = None
    status: str | None = None
    start: datetime | None = None
    end: datetime | None = None


def parse_filter(params: Mapping[str, str]) -> RequestFilter:
    f = RequestFilter()
    raw_ids = params.get("service_request_id")
    if raw_ids:
        try:
            f.ids = [uuid.UUID(p.strip()) for p in raw_ids.split(",") if p.strip()]
        except ValueError as exc:
            raise Open311Error(400, "service_request_id: comma-separated request ids") from exc
        return f  # the spec: other filters are ignored when ids are given
    f.service_code = params.get("service_code") or None
    status = params.get("status")
    if status:
        if status not in ("open", "closed"):
            raise Open311Error(400, "status is 'open' or 'closed'")
        f.status = status
    if params.get("start_date"):
        f.start = parse_w3c(params["start_date"], "start_date")
    if params.get("end_date"):
        f.end = parse_w3c(params["end_date"], "end_date")
    # No dates: the last 90 days. A start alone runs to now; an end alone looks 90 days back.
    if f.end is None:
        f.end = utcnow()
    if f.start is None:
        f.start = f.end - DEFAULT_WINDOW
    if f.start > f.end:
        raise Open311Error(400, "start_date is after end_date")
    return f


def _listed(org: Organization) -> Any:
    return select(ActionItem).where(
        col(ActionItem.organization_id) == org.id,
        col(ActionItem.status) != str(ActionStatus.closed_empty),
    )


def list_requests(
    session: Session,
    org: Organization,
    f: RequestFilter,
    media_url: MediaUrl | None,
    *,
    full: bool,
) -> list[dict[str, Any]]:
    stmt = _listed(org)
    if f.ids is not None:
        stmt = stmt.where(col(ActionItem.id).in_(f.ids[:MAX_RESULTS]))
    else:
        if f.service_code:
            stmt = stmt.join(Category, col(Category.id) == col(ActionItem.category_id)).where(
                col(Category.code) == f.service_code
            )
        if f.status is not None:
            closed = [str(s) for s in CLOSED]
            status = col(ActionItem.status)
            stmt = stmt.where(status.in_(closed) if f.status == "closed" else status.notin_(closed))
        stmt = stmt.where(
            col(ActionItem.created_at) >= f.start, col(ActionItem.created_at) <= f.end
        )
    stmt = stmt.order_by(col(ActionItem.created_at).desc(), col(ActionItem.id)).limit(MAX_RESULTS)
    return request_records(session, org, list(session.scalars(stmt)), media_url, full=full)


def get_request(
    session: Session, org: Organization, raw_id: str, media_url: MediaUrl | None, *, full: bool
) -> list[dict[str, Any]]:
    try:
        item_id = uuid.UUID(raw_id)
    except ValueError as exc:
        raise Open311Error(404, f"no service request {raw_id!r}") from exc
    item = session.scalar(_listed(org).where(col(ActionItem.id) == item_id))
    records = request_records(session, org, [item], media_url, full=full) if item else []
    if not records:
        raise Open311Error(404, f"no service request {raw_id!r}")
    return records


# --- requests in ---------------------------------------------------------------------------


def _number(params: Mapping[str, str], name: str, low: float, high: float) -> float | None:
    raw = params.get(name)
    if raw is None or raw.strip() == "":
        return None
    try:
        value = float(raw)
    except ValueError as exc:
        raise Open311Error(400, f"{name} is not a number: {raw!r}") from exc
    if not (low <= value <= high) or value != value:
        raise Open311Error(400, f"{name} is out of range ({low} to {high})")
    return value


def _choice(attrs: Mapping[str, str], name: str, allowed: Mapping[int, str]) -> int | None:
    raw = attrs.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = int(raw)
    except ValueError as exc:
        raise Open311Error(400, f"attribute[{name}] is one of {sorted(allowed)}") from exc
    if value not in allowed:
        raise Open311Error(400, f"attribute[{name}] is one of {sorted(allowed)}")
    return value


def _area_named(session: Session, org: Organization, text: str) -> Area | None:
    name = text.strip().lower()
    if not name:
        return None
    return session.scalar(
        select(Area)
        .where(col(Area.organization_id) == org.id, func.lower(col(Area.name)) == name)
        .limit(1)
    )


@dataclass
class Posted:
    observation: Observation
    item: ActionItem | None


def post_request(
    session: Session,
    org: Organization,
    key: IntegrationKey,
    params: Mapping[str, str],
    rules: item_domain.GroupingRules = item_domain.DEFAULT_RULES,
) -> Posted:
    """A request from a case system or reporting app becomes an observation outside any walk,
    grouped into the action list like any other."""
    code = params.get("service_code")
    if not code:
        raise Open311Error(400, "service_code is required")
    cat = _category(session, org, code, status=400)
    lat = _number(params, "lat", -90, 90)
    lon = _number(params, "long", -180, 180)
    address = (params.get("address_string") or "").strip()
    if (lat is None) != (lon is None):
        raise Open311Error(400, "lat and long go together")
    if lat is None and not address:
        raise Open311Error(400, "lat and long, or address_string, is required")
    description = (params.get("description") or "").strip()
    if len(description) > NOTE_MAX:
        raise Open311Error(400, f"description is longer than {NOTE_MAX} characters")
    if "\x00" in description or "\x00" in address:
        raise Open311Error(400, "description contains a NUL character")
    attrs = {m.group(1): v for k, v in params.items() if (m := _ATTRIBUTE.match(k))}
    severity = _choice(attrs, "severity", SEVERITIES) or 2
    safety = _choice(attrs, "perceived_safety", SAFETY)

    point: Point | None = None
    if lat is not None and lon is not None:
        point = Point(lon, lat)
    else:
        # No geocoder here: an address that names one of our areas is placed at its centre;
        # any other address waits, unplaced, for a coordinator (answered with a token).
        area = _area_named(session, org, address)
        if area is not None:
            geom = spatial.from_db(area.geometry)
            assert geom is not None
            point = geom.representative_point()
    note = description
    if address and lat is None and point is None:
        note = f"{description}\n{address}".strip()
    note = note[:NOTE_MAX]
    now = utcnow()
    kept = {
        "service_code": cat.code,
        "lat": lat,
        "long": lon,
        "address_string": address,
        "description": description,
        "severity": severity,
        "perceived_safety": safety,
        "key": str(key.id),
        "at": now.isoformat(),
    }
    obs = Observation(
        id=uuid.uuid4(),
        organization_id=org.id,
        walk_id=None,
        integration_key_id=key.id,
        category_id=cat.id,
        severity=severity,
        perceived_safety=safety,
        note=note or None,
        recorded_at=now,
        received_at=now,
        moderation=Moderation.accepted,
        body_hash=hashlib.sha256(json.dumps(kept, sort_keys=True).encode()).hexdigest(),
    )
    if point is not None:
        place(session, obs, point)
        # The organization's moderation rules apply as to any observation (pre-moderation,
        # outside every area): a held one is answered with a token.
        hold_if_needed(session, obs)
    else:
        obs.moderation = Moderation.submitted
    session.add(obs)
    session.flush()
    observation_changed(session, obs, rules)
    notices.observation_created(session, obs)
    session.flush()
    item = session.get(ActionItem, obs.action_item_id) if obs.action_item_id else None
    return Posted(obs, item)


def posted_record(posted: Posted) -> dict[str, Any]:
    if posted.item is not None:
        return {
            "service_request_id": str(posted.item.id),
            "service_notice": "",
            "account_id": "",
        }
    return {"token": str(posted.observation.id), "service_notice": "", "account_id": ""}


def token_records(session: Session, org: Organization, token: str) -> list[dict[str, Any]]:
    try:
        obs_id = uuid.UUID(token)
    except ValueError as exc:
        raise Open311Error(404, f"unknown token {token!r}") from exc
    obs = session.get(Observation, obs_id)
    if obs is None or obs.organization_id != org.id or obs.integration_key_id is None:
        raise Open311Error(404, f"unknown token {token!r}")
    return [
        {
            "service_request_id": str(obs.action_item_id) if obs.action_item_id else "",
            "token": token,
        }
    ]


# --- updates -------------------------------------------------------------------------------


def updates(session: Session, org: Organization, params: Mapping[str, str]) -> list[dict[str, Any]]:
    """Status changes of items between start_date and end_date (default: the last 90 days)."""
    end = parse_w3c(params["end_date"], "end_date") if params.get("end_date") else utcnow()
    start = (
        parse_w3c(params["start_date"], "start_date")
        if params.get("start_date")
        else end - DEFAULT_WINDOW
    )
    if start > end:
        raise Open311Error(400, "start_date is after end_date")
    rows = session.execute(
        select(ActionEvent, ActionItem)
        .join(ActionItem, col(ActionItem.id) == col(ActionEvent.action_item_id))
        .where(
            col(ActionEvent.organization_id) == org.id,
            col(ActionEvent.to_status).is_not(None),
            col(ActionEvent.created_at) >= start,
            col(ActionEvent.created_at) <= end,
        )
        .order_by(col(ActionEvent.created_at), col(ActionEvent.id))
        .limit(MAX_RESULTS)
    ).all()
    out = []
    for event, item in rows:
        status = ActionStatus(event.to_status) if event.to_status else item.status
        note = event.comment or ""
        if status in item_features.DONE and not note:
            note = item.resolution_note or ""
        out.append(
            {
                "update_id": str(event.id),
                "service_request_id": str(item.id),
                "status": open_status(status),
                "external_status_code": str(status),
                "updated_datetime": w3c(event.created_at, org.timezone),
                "description": note,
                "media_url": "",
            }
        )
    return out
