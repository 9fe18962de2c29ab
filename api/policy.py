"""The one permission policy: for every route, which kinds of caller may use it.

Callers are ``anonymous``, ``participant`` (a walk participant's token, and then only for
their own walk: the route's lookups enforce that by answering 404 for other walks), and the
staff roles. Organization walls are enforced by every lookup (foreign ids answer 404).
A route without an entry here is refused at start-up, and by the policy test.
"""

from __future__ import annotations

from typing import Final

ANONYMOUS: Final = "anonymous"
PARTICIPANT: Final = "participant"
ADMIN: Final = "admin"
COORDINATOR: Final = "coordinator"
ENGINEER: Final = "engineer"
PLANNER: Final = "planner"

STAFF = frozenset({ADMIN, COORDINATOR, ENGINEER, PLANNER})
COORDINATOR_PLUS = frozenset({ADMIN, COORDINATOR})
ADMIN_ONLY = frozenset({ADMIN})
ANY_TOKEN = STAFF | {PARTICIPANT}
ANYONE = ANY_TOKEN | {ANONYMOUS}
WALK_MEMBERS = STAFF | {PARTICIPANT}  # participants: their own walk only
# Engineers, coordinators and admins work the action list; planners read it.
ACTION_WORKERS = frozenset({ADMIN, COORDINATOR, ENGINEER})

V1 = "/api/v1"

POLICY: dict[tuple[str, str], frozenset[str]] = {
    ("GET", "/healthz"): ANYONE,
    ("GET", "/readyz"): ANYONE,
    # Off, open or token-protected by SAFEWALK_METRICS (api/ops/metrics.py), not by role.
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
    ("GET", f"{V1}/walks"): COORDINATOR_PLUS,
    ("POST", f"{V1}/walks"): COORDINATOR_PLUS,
    ("GET", f"{V1}/walks/{{id}}"): COORDINATOR_PLUS,
    ("PATCH", f"{V1}/walks/{{id}}"): COORDINATOR_PLUS,
    ("POST", f"{V1}/walks/{{id}}/rotate-code"): COORDINATOR_PLUS,
    ("POST", f"{V1}/walks/join"): ANYONE,
    ("GET", f"{V1}/walks/{{id}}/nearby-resolved"): WALK_MEMBERS,
    ("PUT", f"{V1}/observations/{{id}}"): WALK_MEMBERS,
    ("POST", f"{V1}/observations/batch"): WALK_MEMBERS,
    ("GET", f"{V1}/observations"): WALK_MEMBERS,
    ("GET", f"{V1}/observations/{{id}}"): WALK_MEMBERS,
    ("PATCH", f"{V1}/observations/{{id}}"): COORDINATOR_PLUS,
    ("PUT", f"{V1}/observations/{{id}}/photos/{{photo_id}}"): WALK_MEMBERS,
    ("GET", f"{V1}/photos/{{photo_id}}"): WALK_MEMBERS,
    ("GET", f"{V1}/action-items"): STAFF,
    ("GET", f"{V1}/action-items/{{id}}"): STAFF,
    ("PATCH", f"{V1}/action-items/{{id}}"): ACTION_WORKERS,
    ("GET", f"{V1}/action-items/{{id}}/history"): STAFF,
    ("POST", f"{V1}/action-items/{{id}}/merge"): COORDINATOR_PLUS,
    ("POST", f"{V1}/action-items/{{id}}/split"): COORDINATOR_PLUS,
    ("POST", f"{V1}/action-items/{{id}}/follow-up"): WALK_MEMBERS,
    ("GET", f"{V1}/stats/follow-up"): STAFF,
    ("GET", f"{V1}/map/observations"): STAFF,
    ("GET", f"{V1}/map/action-items"): STAFF,
    ("GET", f"{V1}/map/areas"): STAFF,
    ("GET", f"{V1}/map/walks/{{id}}"): WALK_MEMBERS,
    ("GET", f"{V1}/map/hotspots"): STAFF,
    # Readers (issue 13): personal access tokens, OGC API – Features, vector tiles.
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
}


def allowed(method: str, path: str) -> frozenset[str] | None:
    return POLICY.get((method, path))


# --- the action item workflow: who may make each move ----------------------------------------
# new -> triaged -> planned -> in_progress -> resolved -> verified
#                                   \-> wont_fix (reason) | referred (to whom) | duplicate (of)
# resolved -> reopened -> triaged ...
# Engineers act on items of their own department (or assigned to them); participants confirm
# or reopen resolved items on a follow-up walk.

_OPEN = ("new", "triaged", "planned", "in_progress", "reopened")
_WORKERS = ACTION_WORKERS

ACTION_MOVES: dict[tuple[str, str], frozenset[str]] = {
    ("new", "triaged"): COORDINATOR_PLUS,
    ("reopened", "triaged"): COORDINATOR_PLUS,
    ("triaged", "planned"): _WORKERS,
    ("planned", "in_progress"): _WORKERS,
    ("in_progress", "resolved"): _WORKERS,
    ("resolved", "verified"): COORDINATOR_PLUS | {PARTICIPANT},
    ("resolved", "reopened"): COORDINATOR_PLUS | {PARTICIPANT},
    **{(s, "wont_fix"): COORDINATOR_PLUS for s in _OPEN},
    **{(s, "referred"): COORDINATOR_PLUS for s in _OPEN},
    **{(s, "duplicate"): COORDINATOR_PLUS for s in _OPEN},
}

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


def may_move(role: str, from_status: str, to_status: str) -> bool:
    return role in ACTION_MOVES.get((from_status, to_status), frozenset())
