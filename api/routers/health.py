"""Liveness and readiness probes for load balancers and container health checks."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import text

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str
    database: str | None = None


@router.get("/healthz", response_model=Health, response_model_exclude_none=True)
def healthz() -> Health:
    return Health(status="ok")


@router.get("/readyz", response_model=Health, responses={503: {"model": Health}})
def readyz(request: Request) -> JSONResponse:
    try:
        # DEFERRED: a probe must not queue behind SQLite's write lock.
        with request.app.state.engine.connect().execution_options(sqlite_begin="DEFERRED") as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # any failure means "not ready"; say which, keep serving
        return JSONResponse(
            {"status": "unavailable", "database": type(exc).__name__},
            status_code=503,
        )
    return JSONResponse({"status": "ok", "database": "ok"})
