"""Every registered route x every kind of caller, checked against the one policy table.

A new route without a policy entry fails here (and the app refuses to start).
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import update
from sqlalchemy.orm import Session

from api.app import MissingPolicy, check_policy_coverage
from api.auth import policy
from models import Participant
from tests.factories.client import SyncClient
from tests.factories.world import World, _fill

CALLERS = [
    "anonymous",
    "participant",
    "other_participant",
    "engineer",
    "planner",
    "coordinator",
    "admin",
    "foreign_admin",
]


# Created by a client-generated id: an empty body fails validation before any lookup.
# tests/observations/test_observations.py checks that another organization's id answers 404 there.
CREATE_BY_CLIENT_ID = {("PUT", "/api/v1/observations/{id}")}
# Keyed by a class or code of the caller's own (an asset owner, a department), not by an id
# another organization could hold: nothing to probe. tests/assets/test_lamps.py configures the
# owners, tests/action_items/test_departments.py the departments.
OWN_KEYS = {
    ("PUT", "/api/v1/asset-owners/{owner}"),
    ("DELETE", "/api/v1/asset-owners/{owner}"),
    ("PUT", "/api/v1/departments/{code}"),
}


def _role_of(caller: str) -> str:
    return {"other_participant": "participant", "foreign_admin": "admin"}.get(caller, caller)


def _routes(app: FastAPI) -> list[tuple[str, str]]:
    return [(m.upper(), path) for path, ops in app.openapi()["paths"].items() for m in ops]


def test_every_route_has_a_policy(app: FastAPI) -> None:
    check_policy_coverage(app)
    routes = set(_routes(app))
    assert len(routes) >= 8
    assert routes <= set(policy.POLICY)


def test_a_route_without_policy_is_refused(app: FastAPI) -> None:
    app.add_api_route("/api/v1/forgotten", lambda: {}, methods=["GET"])
    app.openapi_schema = None
    with pytest.raises(MissingPolicy, match="GET /api/v1/forgotten"):
        check_policy_coverage(app)


def _walk_scoped(path: str) -> bool:
    return "{" in path and (
        path.startswith("/api/v1/walks/{")
        or "/map/walks/" in path
        or "/observations/{" in path
        or "/photos/{" in path
    )


def _unerase(session: Session) -> None:
    """An erasure stops the erased participants' tokens; the matrix goes on with the same
    participants, so it takes that back after each erasure it makes."""
    session.execute(update(Participant).values(erased_at=None))
    session.commit()


def test_route_role_matrix(
    app: FastAPI, client: SyncClient, world: World, session: Session
) -> None:
    failures: list[str] = []
    for method, path in _routes(app):
        if path in ("/api/v1/auth/token", "/api/v1/walks/join"):
            continue  # anonymous by design; exercised in their own tests (and throttled)
        allowed = policy.POLICY[(method, path)]
        url = _fill(path, world)
        for caller in CALLERS:
            role = _role_of(caller)
            kw: dict[str, Any] = {"headers": world.headers(caller)}
            if method in ("POST", "PUT", "PATCH"):
                kw["json"] = {}
            status = client.request(method, url, **kw).status_code
            if "erase" in path:
                _unerase(session)
            if role not in allowed:
                expected = {401} if role == "anonymous" else {403}
                ok = status in expected
            elif (
                caller == "foreign_admin"
                and "{" in path
                and (method, path) not in CREATE_BY_CLIENT_ID | OWN_KEYS
            ):
                ok = status == 404  # another organization's id: 404, never 403 or data
            elif (
                caller == "other_participant"
                and _walk_scoped(path)
                and (method, path) not in CREATE_BY_CLIENT_ID
            ):
                ok = status == 404  # another walk: 404
            else:
                ok = status not in (401, 403)
            if not ok:
                failures.append(f"{method} {path} as {caller}: {status}")
    assert failures == []
