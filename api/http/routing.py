"""One router module per domain; each is built with the full ``/api/v1`` prefix so the policy
check sees the complete path template of the matched route."""

from fastapi import APIRouter

API_PREFIX = "/api/v1"


def api_router(tag: str) -> APIRouter:
    return APIRouter(prefix=API_PREFIX, tags=[tag])
