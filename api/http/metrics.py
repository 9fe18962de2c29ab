"""Prometheus metrics: request latency per route template, the database pool, the thread pool.

Each app has its own registry (tests build many apps in one process). ``/metrics`` is off by
default; ``SAFEWALK_METRICS=open`` serves it to anyone who can reach it (keep it on an internal
network), ``token`` only with ``Authorization: Bearer $SAFEWALK_METRICS_TOKEN``.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from typing import Any

import anyio.to_thread
from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import Engine

from api.core.errors import NotFound, Unauthorized

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class PoolCollector(Collector):
    """The database connection pool, read when scraped."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterator[GaugeMetricFamily]:
        pool: Any = self.engine.pool
        for name, doc, attr in (
            ("safewalk_db_pool_size", "Connections the pool keeps", "size"),
            ("safewalk_db_pool_checked_out", "Connections in use", "checkedout"),
            ("safewalk_db_pool_checked_in", "Idle connections in the pool", "checkedin"),
            ("safewalk_db_pool_overflow", "Connections beyond the pool size", "overflow"),
        ):
            read = getattr(pool, attr, None)
            if callable(read):
                yield GaugeMetricFamily(name, doc, value=float(read()))


class Metrics:
    def __init__(self, engine: Engine) -> None:
        self.registry = CollectorRegistry()
        self.latency = Histogram(
            "safewalk_http_request_duration_seconds",
            "Time from request to the end of the response, by route template",
            ["method", "route", "status"],
            buckets=BUCKETS,
            registry=self.registry,
        )
        self.in_progress = Gauge(
            "safewalk_http_requests_in_progress",
            "Requests being served",
            registry=self.registry,
        )
        # Sync routes run in a thread pool; requests beyond its size queue for a thread.
        self.threads_busy = Gauge(
            "safewalk_threadpool_busy", "Worker threads serving requests", registry=self.registry
        )
        self.threads_total = Gauge(
            "safewalk_threadpool_size", "Worker threads available", registry=self.registry
        )
        self.threads_queued = Gauge(
            "safewalk_threadpool_queue_length",
            "Requests waiting for a worker thread",
            registry=self.registry,
        )
        self.registry.register(PoolCollector(engine))

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        self.latency.labels(method, route, str(status)).observe(seconds)

    def render(self) -> bytes:
        limiter = anyio.to_thread.current_default_thread_limiter()
        self.threads_busy.set(limiter.borrowed_tokens)
        self.threads_total.set(limiter.total_tokens)
        self.threads_queued.set(limiter.statistics().tasks_waiting)
        return generate_latest(self.registry)


router = APIRouter(tags=["operations"])


@router.get(
    "/metrics",
    response_class=Response,
    responses={
        200: {"content": {CONTENT_TYPE_LATEST.split(";")[0]: {"schema": {"type": "string"}}}},
        401: {"description": "SAFEWALK_METRICS=token and no or a wrong token"},
        404: {"description": "SAFEWALK_METRICS=off (the default)"},
    },
)
async def metrics(request: Request) -> Response:
    """Prometheus text format. Off unless ``SAFEWALK_METRICS`` is ``open`` or ``token``."""
    settings = request.app.state.settings
    if settings.metrics == "off":
        raise NotFound(key="error.metrics_off")
    if settings.metrics == "token":
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        expected = settings.metrics_token.encode()
        if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), expected):
            raise Unauthorized(key="error.metrics_token")
    body = request.app.state.metrics.render()
    return Response(body, media_type=CONTENT_TYPE_LATEST)
