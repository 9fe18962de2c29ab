"""The application factory: settings, engine, routers and error handlers in one place."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from fastapi.routing import APIRoute
from sqlalchemy import Engine

from api.action_items import router as action_items
from api.areas import router as areas
from api.assets import router as assets
from api.auth import organization_router as organization
from api.auth import policy
from api.auth import router as auth
from api.auth import tokens_router as tokens
from api.auth import users_router as users
from api.auth.deps_router import enforce_policy
from api.auth.readers_router import enforce_reader_policy
from api.auth.security import resolve_secret
from api.auth.tokens import TokenUsage
from api.categories import router as categories
from api.core import tenancy
from api.core.db import create_db_engine, make_sessionmaker, pool_options
from api.core.ratelimit import Limits
from api.core.throttles import make_store
from api.deadlines import router as deadlines
from api.hotspots import router as hotspots
from api.http import health
from api.http import metrics as ops_metrics
from api.http.byte_ranges import DocumentStore
from api.http.context import RequestContext
from api.http.docs import install_docs
from api.http.headers import CORSMiddleware, SecurityHeaders, cors_options
from api.http.middleware import (
    CatchUnexpected,
    ClientAddress,
    HeadAsGet,
    RefuseUnstorableText,
    parse_trusted,
)
from api.http.openapi import install_method_not_allowed, install_problem_documentation
from api.http.problems import install_error_handlers
from api.http.query_check import reject_unknown_query
from api.http.staff_web import mount_staff_web
from api.http.web import mount_field_app, mount_shared
from api.jobs.notify import notify_lifespan
from api.jobs.open311 import open311_lifespan
from api.jobs.purge import purge_lifespan
from api.notices import router as notices
from api.observations import router as observations
from api.outputs.basemap import router as basemap_router
from api.outputs.exports import router as exports_router
from api.outputs.maps import router as maps
from api.outputs.ogc.router import router as ogc_router
from api.outputs.open311 import admin_router as open311_admin
from api.outputs.open311 import router as open311_router
from api.outputs.open311.edge import GeoReportErrors
from api.outputs.public import report_back_router as report_back_public
from api.outputs.public import router as public_router
from api.outputs.tiles.router import router as tiles_router
from api.photos import router as photos
from api.privacy import router as erasure
from api.settings import Settings, get_settings
from api.walks import join_qr_router as join_qr
from api.walks import report_back_router as report_back
from api.walks import router as walks

API_ROUTERS = (
    auth.router,
    users.router,
    areas.router,
    categories.router,
    walks.router,
    observations.router,
    photos.router,
    action_items.router,
    exports_router.action_list_router,
    tokens.router,
    open311_router.router,
    open311_admin.router,
    exports_router.router,
    public_router.router,
    join_qr.router,
    organization.router,
    erasure.router,
    deadlines.router,
    report_back.router,
    report_back_public.router,
    notices.router,
    assets.router,
    basemap_router.router,
)
# Readers authorize with personal access tokens too (Bearer or Basic), through their own
# dependency (api/auth/readers_router.py); the policy table still decides. The map feeds are readers that
# keep the JSON API's rule on unknown query parameters.
MAP_ROUTERS = (maps.router, hotspots.router)
READER_ROUTERS = (ogc_router, tiles_router)


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """The service's background jobs: the Open311 sync, the daily purge, the notice sender."""
    async with open311_lifespan(app), purge_lifespan(app), notify_lifespan(app):
        yield


class MissingPolicy(RuntimeError):
    """A route was registered without an entry in api/auth/policy.py."""


def _api_routes(app: FastAPI) -> list[APIRoute]:
    """Routes added to the app itself and those of our routers (built with full paths)."""
    routers = (health.router, ops_metrics.router, *API_ROUTERS, *MAP_ROUTERS, *READER_ROUTERS)
    return [r for r in app.routes if isinstance(r, APIRoute)] + [
        r for router in routers for r in router.routes if isinstance(r, APIRoute)
    ]


def check_policy_coverage(app: FastAPI) -> None:
    missing = [
        f"{method} {route.path}"
        for route in _api_routes(app)
        for method in sorted(route.methods or ())
        if policy.allowed(method, route.path) is None
    ]
    if missing:
        raise MissingPolicy("routes without a permission policy: " + ", ".join(missing))


def create_app(settings: Settings | None = None, *, engine: Engine | None = None) -> FastAPI:
    settings = settings or get_settings()
    secret = resolve_secret(settings)  # refuses a weak secret outside development
    if engine is None:
        engine = create_db_engine(
            settings.resolved_database_url,
            **pool_options(
                settings.resolved_database_url,
                settings.db_pool_size,
                settings.db_max_overflow,
                settings.db_pool_timeout,
            ),
        )
        # On PostgreSQL the service acts as safewalk_app whenever its login may, so the tenant
        # wall holds by default; production refuses a role the wall would not hold.
        production = settings.environment == "production"
        tenancy.serve_as(engine, settings.database_role, production=production)
        if production:
            tenancy.check_wall(engine)
    app = FastAPI(
        title="safewalk",
        version="0.1.0",
        description="Safety walks: observations in, action lists and maps out.",
        lifespan=_lifespan,
        # /docs is ours (api/http/docs.py: assets served locally); ReDoc would need a CDN.
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.secret = secret
    app.state.engine = engine
    # Every transaction of a request's session starts closed and acts for the organization the
    # caller's credentials name (api/core/tenancy.py: row-level security on PostgreSQL).
    app.state.sessionmaker = tenancy.install(make_sessionmaker(engine))
    # Feeds stream after the request's session is gone, on a connection of their own; DEFERRED
    # so a long read never holds SQLite's write lock.
    app.state.feed_connection = lambda: engine.connect().execution_options(sqlite_begin="DEFERRED")
    app.state.limits = Limits(store=make_store(settings, engine))
    # When personal access tokens were last used, written after the responses (readers_router.py).
    app.state.token_usage = TokenUsage()
    # Map feeds rendered lately, for the byte-range reads of GDAL's /vsicurl/ (byte_ranges.py).
    app.state.documents = DocumentStore()
    app.state.metrics = ops_metrics.Metrics(engine)
    install_error_handlers(app)
    install_method_not_allowed(app)
    install_problem_documentation(app)
    # Added innermost first: CatchUnexpected wraps the other two, so it sees their errors too.
    app.add_middleware(RefuseUnstorableText)
    app.add_middleware(ClientAddress, trusted=parse_trusted(settings.trusted_proxies))
    app.add_middleware(CatchUnexpected)
    # Outside CatchUnexpected, so that a bug under /open311/ is a GeoReport error list too.
    app.add_middleware(GeoReportErrors)
    # In an installed image the web files sit where SAFEWALK_WEB_DIR says (see the Dockerfile).
    if settings.web_dir is not None:
        install_docs(app, assets_dir=settings.web_dir / "node_modules" / "swagger-ui-dist")
    else:
        install_docs(app)
    cors = cors_options(settings.cors_origins)
    if cors is not None:
        app.add_middleware(CORSMiddleware, **cors)  # type: ignore[arg-type]
    app.add_middleware(SecurityHeaders, https=settings.https)
    # Just inside the request log: HEAD is served as GET by everything below.
    app.add_middleware(HeadAsGet)
    app.add_middleware(
        RequestContext,
        fastapi_app=app,
        metrics=app.state.metrics,
        trusted=parse_trusted(settings.trusted_proxies),
    )
    app.include_router(health.router)
    app.include_router(ops_metrics.router)
    for router in API_ROUTERS:
        # Policy first (401/403 before anything), then no silently ignored query parameter.
        app.include_router(
            router, dependencies=[Depends(enforce_policy), Depends(reject_unknown_query)]
        )
    for router in MAP_ROUTERS:
        app.include_router(
            router,
            dependencies=[Depends(enforce_reader_policy), Depends(reject_unknown_query)],
        )
    # OGC API answers unknown parameters itself (its own rules for property filters).
    for router in READER_ROUTERS:
        app.include_router(router)
    check_policy_coverage(app)
    mount_shared(app, settings)
    mount_field_app(app, settings)
    mount_staff_web(app, settings)
    return app
