"""Map layers for planners: hotspots."""

from __future__ import annotations

from api.routers import api_router

router = api_router("maps")
