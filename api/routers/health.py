"""Liveness and readiness probes for load balancers and container health checks."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
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
