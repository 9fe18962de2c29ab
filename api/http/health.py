"""Liveness and readiness probes for load balancers and container health checks."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from api.core import migrate
from api.http.problems import problem

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str
    database: str | None = None


@router.get("/healthz", response_model=Health, response_model_exclude_none=True)
def healthz() -> Health:
    return Health(status="ok")


@router.get("/readyz", responses={503: {"description": "database unreachable or schema behind"}})
def readyz(request: Request) -> JSONResponse:
    try:
        current = migrate.database_revisions(request.app.state.engine)
    except Exception as exc:  # any failure means "not ready"; say which, keep serving
        return problem(
            503,
            "Not ready",
            f"the database is not reachable ({type(exc).__name__})",
            database=type(exc).__name__,
        )
    expected = migrate.code_heads()
    if current != expected:
        return problem(
            503,
            "Not ready",
            "the database schema is not the one this code expects: run 'safewalk migrate'",
            database="ok",
            schema=sorted(current),
            expected_schema=sorted(expected),
        )
    return JSONResponse({"status": "ok", "database": "ok", "schema": sorted(current)})
