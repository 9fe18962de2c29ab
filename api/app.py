"""The application factory: settings, engine, routers and error handlers in one place."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy import Engine

from api.db import create_db_engine, make_sessionmaker
from api.errors import install_error_handlers
from api.routers import health
from api.settings import Settings, get_settings

API_PREFIX = "/api/v1"


def create_app(settings: Settings | None = None, *, engine: Engine | None = None) -> FastAPI:
    settings = settings or get_settings()
    engine = engine or create_db_engine(settings.resolved_database_url)
    app = FastAPI(
        title="safewalk",
        version="0.1.0",
        description="Safety walks: observations in, action lists and maps out.",
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessionmaker = make_sessionmaker(engine)
    install_error_handlers(app)
    app.include_router(health.router)
    return app
