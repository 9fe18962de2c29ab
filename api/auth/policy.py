"""The one permission policy: for every route, which kinds of caller may use it.

Callers are ``anonymous``, ``participant`` (a walk participant's token, and then only for
their own walk: the route's lookups enforce that by answering 404 for other walks), and the
staff roles. Organization walls are enforced by every lookup (foreign ids answer 404).
A route without an entry here is refused at start-up, and by the policy test.
"""

from __future__ import annotations

import re
from typing import Final

import models.action_items as _moves

ANONYMOUS: Final = "anonymous"
PARTICIPANT: Final = "participant"
ADMIN: Final = "admin"
COORDINATOR: Final = "coordinator"
ENGINEER: Final = "engineer"
PLANNER: Final = "planner"
# Not a role: a caller without a token holding a signed link (the route checks the signature).
SIGNED_LINK: Final = "signed_link"

STAFF = frozenset({ADMIN, COORDINATOR, ENGINEER, PLANNER})
COORDINATOR_PLUS = frozenset({ADMIN, COORDINATOR})
ADMIN_ONLY = frozenset({ADMIN})
ANY_TOKEN = STAFF | {PARTICIPANT}
ANYONE = ANY_TOKEN | {ANONYMOUS}
WALK_MEMBERS = STAFF | {PARTICIPANT}  # participants: their own walk only
# Engineers, coordinators and admins work the action list; planners read it.
ACTION_WORKERS = frozenset({ADMIN, COORDINATOR, ENGINEER})

V1 = "/api/v1"
O311 = "/open311/v2"
O311_GET = (
    "discovery.{fmt}",
    "services.{fmt}",
    "services/{code}.{fmt}",
    "requests.{fmt}",
    "requests/{id}.{fmt}",
    "tokens/{token}.{fmt}",
    "servicerequestupdates.{fmt}",
)

POLICY: dict[tuple[str, str], frozenset[str]] = {
    ("GET", "/healthz"): ANYONE,
    ("GET", "/readyz"): ANYONE,
    # Off, open or token-protected by SAFEWALK_METRICS (api/http/metrics.py), not by role.
    ("GET", "/metrics"): ANYONE,
    ("POST", f"{V1}/auth/token"): ANYONE,
    ("GET", f"{V1}/me"): ANY_TOKEN,
    ("GET", f"{V1}/users"): ADMIN_ONLY,
    ("POST", f"{V1}/users"): ADMIN_ONLY,
    ("GET", f"{V1}/areas"): COORDINATOR_PLUS,
    ("POST", f"{V1}/areas"): COORDINATOR_PLUS,
    ("POST", f"{V1}/areas/import"): COORDINATOR_PLUS,
    ("GET", f"{V1}/areas/{{id}}"): COORDINATOR_PLUS,
    ("PATCH", f"{V1}/areas/{{id}}"): COORDINATOR_PLUS,
    ("DELETE", f"{V1}/areas/{{id}}"): COORDINATOR_PLUS,
    ("GET", f"{V1}/areas/{{id}}/action-list"): STAFF,
    ("POST", f"{V1}/areas/{{id}}/regroup"): COORDINATOR_PLUS,
    ("GET", f"{V1}/categories"): ANY_TOKEN,
    ("POST", f"{V1}/categories"): ADMIN_ONLY,
    ("GET", f"{V1}/departments"): STAFF,
    ("PUT", f"{V1}/departments/{{code}}"): ADMIN_ONLY,
    ("GET", f"{V1}/walks"): COORDINATOR_PLUS,
    ("POST", f"{V1}/walks"): COORDINATOR_PLUS,
    ("GET", f"{V1}/walks/{{id}}"): COORDINATOR_PLUS,
    ("PATCH", f"{V1}/walks/{{id}}"): COORDINATOR_PLUS,
    ("POST", f"{V1}/walks/{{id}}/rotate-code"): COORDINATOR_PLUS,
    ("GET", f"{V1}/walks/{{id}}/join-qr.svg"): COORDINATOR_PLUS,
    # Participants show it on the field app's last screen, for others of their walk to scan.
    ("GET", f"{V1}/walks/{{id}}/report-back-qr.svg"): COORDINATOR_PLUS | {PARTICIPANT},
    ("POST", f"{V1}/walks/join"): ANYONE,
    ("GET", f"{V1}/walks/{{id}}/nearby-resolved"): WALK_MEMBERS,
    ("PUT", f"{V1}/observations/{{id}}"): WALK_MEMBERS,
    ("POST", f"{V1}/observations/batch"): WALK_MEMBERS,
    ("GET", f"{V1}/observations"): WALK_MEMBERS,
    ("GET", f"{V1}/observations/{{id}}"): WALK_MEMBERS,
    # Coordinators moderate; the author (a participant) corrects while the walk is open.
    ("PATCH", f"{V1}/observations/{{id}}"): COORDINATOR_PLUS | {PARTICIPANT},
    ("PUT", f"{V1}/observations/{{id}}/photos/{{photo_id}}"): WALK_MEMBERS,
    ("GET", f"{V1}/photos/{{photo_id}}"): WALK_MEMBERS | {SIGNED_LINK},
    ("GET", f"{V1}/action-items"): STAFF,
    ("GET", f"{V1}/action-items/{{id}}"): STAFF,
    ("PATCH", f"{V1}/action-items/{{id}}"): ACTION_WORKERS,
    ("GET", f"{V1}/action-items/{{id}}/history"): STAFF,
    ("POST", f"{V1}/action-items/{{id}}/merge"): COORDINATOR_PLUS,
    ("POST", f"{V1}/action-items/{{id}}/split"): COORDINATOR_PLUS,
    ("POST", f"{V1}/action-items/{{id}}/follow-up"): WALK_MEMBERS,
    ("GET", f"{V1}/stats/follow-up"): STAFF,
    ("GET", f"{V1}/stats/trend"): STAFF,
    ("GET", f"{V1}/map/observations"): STAFF,
    ("GET", f"{V1}/map/action-items"): STAFF,
    ("GET", f"{V1}/map/areas"): STAFF,
    ("GET", f"{V1}/map/walks/{{id}}"): WALK_MEMBERS,
    ("GET", f"{V1}/map/hotspots"): STAFF,
    # Readers: personal access tokens, OGC API – Features, vector tiles.
    ("POST", f"{V1}/me/tokens"): STAFF,
    ("GET", f"{V1}/me/tokens"): STAFF,
    ("DELETE", f"{V1}/me/tokens/{{id}}"): STAFF,
    ("GET", "/ogc"): STAFF,
    ("GET", "/ogc/conformance"): STAFF,
    ("GET", "/ogc/api"): STAFF,
    ("GET", "/ogc/collections"): STAFF,
    ("GET", "/ogc/collections/{cid}"): STAFF,
    ("GET", "/ogc/collections/{cid}/items"): STAFF,
    ("GET", "/ogc/collections/{cid}/items/{fid}"): STAFF,
    ("GET", "/ogc/collections/{cid}/queryables"): STAFF,
    ("GET", "/ogc/collections/{cid}/schema"): STAFF,
    ("GET", "/tiles/{layer}/{z}/{x}/{y}.mvt"): STAFF,
    ("GET", "/tiles/{layer}.json"): STAFF,
    # Exchange. Open311 checks its own api_key per GeoReport v2.
    **{("GET", f"{O311}/{p}"): ANYONE for p in O311_GET},
    ("POST", f"{O311}/requests.{{fmt}}"): ANYONE,
    ("POST", f"{V1}/integration-keys"): ADMIN_ONLY,
    ("GET", f"{V1}/integration-keys"): ADMIN_ONLY,
    ("DELETE", f"{V1}/integration-keys/{{id}}"): ADMIN_ONLY,
    ("GET", f"{V1}/open311/case-system"): ADMIN_ONLY,
    ("PUT", f"{V1}/open311/case-system"): ADMIN_ONLY,
    ("DELETE", f"{V1}/open311/case-system"): ADMIN_ONLY,
    ("GET", f"{V1}/open311/outbox"): COORDINATOR_PLUS,
    ("POST", f"{V1}/action-items/{{id}}/open311"): COORDINATOR_PLUS,
    ("GET", f"{V1}/walks/{{id}}/report.pdf"): COORDINATOR_PLUS,
    ("GET", "/public/{org_slug}/"): ANYONE,
    ("GET", "/public/{org_slug}/areas/{area_id}"): ANYONE,
    ("GET", "/public/{org_slug}/{language}/"): ANYONE,
    ("GET", "/public/{org_slug}/{language}/areas/{area_id}"): ANYONE,
    ("GET", "/public/{org_slug}/action-items.geojson"): ANYONE,
    # Working the action list
    ("GET", f"{V1}/organization"): ADMIN_ONLY,
    ("PATCH", f"{V1}/organization"): ADMIN_ONLY,
    ("PATCH", f"{V1}/categories/{{code}}"): ADMIN_ONLY,
    ("GET", f"{V1}/action-items/{{id}}/observations"): STAFF,
    ("POST", f"{V1}/action-items/{{id}}/comments"): ACTION_WORKERS,
    ("PUT", f"{V1}/action-items/{{id}}/photos/{{photo_id}}"): ACTION_WORKERS,
    ("POST", f"{V1}/action-items/bulk"): ACTION_WORKERS,
    # Input, review queue, accounts, docs
    ("DELETE", f"{V1}/observations/{{id}}"): COORDINATOR_PLUS | {PARTICIPANT},
    ("GET", f"{V1}/observations/nearby"): WALK_MEMBERS,
    ("PATCH", f"{V1}/users/{{id}}"): ADMIN_ONLY,
    ("POST", f"{V1}/me/password"): STAFF,
    ("PATCH", f"{V1}/me"): STAFF,
    # Erasure on request
    ("POST", f"{V1}/walks/{{id}}/participants/{{participant_id}}/erase"): COORDINATOR_PLUS,
    ("POST", f"{V1}/walks/{{id}}/erase-participants"): COORDINATOR_PLUS,
    # Deadlines and the report back
    ("GET", f"{V1}/response-times"): STAFF,
    ("PUT", f"{V1}/response-times"): ADMIN_ONLY,
    ("POST", f"{V1}/response-times/apply"): ADMIN_ONLY,
    ("POST", f"{V1}/walks/{{id}}/report-back"): COORDINATOR_PLUS,
    # Unlisted: anyone with the link, once the walk's report back is published.
    ("GET", "/public/{org_slug}/walks/{walk_id}"): ANYONE,
    ("GET", "/public/{org_slug}/walks/{walk_id}.json"): ANYONE,
    ("GET", "/public/{org_slug}/{language}/walks/{walk_id}"): ANYONE,
    ("GET", "/public/{org_slug}/walks/{walk_id}/photos/{photo_id}"): ANYONE,
    # Notices: each staff member's own settings; webhooks are the admins'.
    ("GET", f"{V1}/me/notifications"): STAFF,
    ("PUT", f"{V1}/me/notifications"): STAFF,
    ("GET", f"{V1}/webhooks"): ADMIN_ONLY,
    ("POST", f"{V1}/webhooks"): ADMIN_ONLY,
    ("GET", f"{V1}/webhooks/{{id}}"): ADMIN_ONLY,
    ("PATCH", f"{V1}/webhooks/{{id}}"): ADMIN_ONLY,
    ("DELETE", f"{V1}/webhooks/{{id}}"): ADMIN_ONLY,
    ("GET", f"{V1}/webhooks/{{id}}/deliveries"): ADMIN_ONLY,
    # Assets (street lights): the register, other owners' case systems, darkness along routes.
    ("POST", f"{V1}/assets/import"): COORDINATOR_PLUS,
    ("GET", f"{V1}/assets"): STAFF,
    ("GET", f"{V1}/assets/{{id}}"): STAFF,
    ("GET", f"{V1}/asset-owners"): ADMIN_ONLY,
    ("PUT", f"{V1}/asset-owners/{{owner}}"): ADMIN_ONLY,
    ("DELETE", f"{V1}/asset-owners/{{owner}}"): ADMIN_ONLY,
    ("GET", f"{V1}/walks/{{id}}/dark-gaps"): STAFF,
    ("GET", f"{V1}/areas/{{id}}/dark-gaps"): STAFF,
    # Participants: the lamps of their own walk's area (the field app caches them at join).
    ("GET", f"{V1}/map/assets"): WALK_MEMBERS,
    # The basemap is the municipality's street map, no organization data: any map may draw it.
    ("GET", "/basemap/style.json"): ANYONE,
    ("GET", "/basemap/tiles.json"): ANYONE,
    ("GET", "/basemap/{z}/{x}/{y}.{ext}"): ANYONE,
    # Plain routes outside the schema (api/http/docs.py), listed so the table tells the whole story.
    ("GET", "/docs"): ANYONE,
    ("GET", "/docs/assets/{name}"): ANYONE,
    ("GET", "/docs/oauth2-redirect"): ANYONE,
    ("GET", "/openapi.json"): ANYONE,
}


_CONVERTOR = re.compile(r"\{(\w+):\w+\}")


def allowed(method: str, path: str) -> frozenset[str] | None:
    # A route's template may name a path convertor ({language:lang}); the policy names the
    # parameter only, as OpenAPI does.
    return POLICY.get((method, _CONVERTOR.sub(r"{\1}", path)))


# --- the action item workflow -----------------------------------------------------------------
# The move table lives next to the status enum (models/action_items.py), typed by ActionStatus;
# re-exported here so that every "who may" question still has one address.
ACTION_MOVES = _moves.ACTION_MOVES
may_move = _moves.may_move
moves_for = _moves.moves_for
is_move = _moves.is_move
_WORKERS = ACTION_WORKERS

# Who may change which field of an action item (besides its status).
ACTION_FIELDS: dict[str, frozenset[str]] = {
    "title": COORDINATOR_PLUS,
    "department": COORDINATOR_PLUS,
    "owner_type": COORDINATOR_PLUS,
    "priority_override": COORDINATOR_PLUS,
    "assignee_id": _WORKERS,
    "due_date": _WORKERS,
    "resolution_note": _WORKERS,
}
