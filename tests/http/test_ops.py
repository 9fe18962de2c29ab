"""Operations at the edge: 405 with the right Allow, problems documented, request ids, security
headers, CORS, /metrics and /readyz against the schema."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest
from fastapi.responses import HTMLResponse
from sqlalchemy import text
from starlette.routing import compile_path

from api.app import create_app
from api.core.db import create_db_engine
from api.core.logs import JsonFormatter, request_id_var
from api.http.openapi import OPEN311_ERRORS, OPEN311_PREFIX, problem_statuses
from api.settings import Settings
from tests.factories.client import SyncClient

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def _concrete(path: str) -> str:
    return (
        path.replace("{photo_id}", "00000000-0000-4000-8000-000000000003")
        .replace("{id}", "00000000-0000-4000-8000-000000000001")
        .replace("{language}", "sv")  # only language codes match that segment
    )


def test_405_names_every_method_of_the_path(app: Any, client: SyncClient) -> None:
    """Generated from the OpenAPI document: every path, every method it does not serve."""
    paths = app.openapi()["paths"]
    templates = [(compile_path(p)[0], {m.upper() for m in item}) for p, item in paths.items()]
    checked = 0
    for path in paths:
        url = _concrete(path)
        # /areas/import is also /areas/{id}: what a URL allows is every template it matches.
        declared = set().union(*(methods for rx, methods in templates if rx.match(url)))
        for method in sorted(set(METHODS) - declared):
            r = client.request(method, url)
            assert r.status_code == 405, (method, path, r.status_code)
            assert set(r.headers["Allow"].split(", ")) == declared, (method, path)
            if path.startswith(OPEN311_PREFIX):  # a GeoReport error list (api/open311/edge.py)
                assert r.json() == [{"code": 405, "description": r.json()[0]["description"]}]
            else:
                assert r.headers["content-type"].startswith("application/problem+json")
            checked += 1
    assert checked > 50


def test_every_operation_declares_its_problems(app: Any) -> None:
    spec = app.openapi()
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    for path, item in spec["paths"].items():
        for method, op in item.items():
            for code in problem_statuses(path, method):
                content = op["responses"][code]["content"]
                # Open311 also answers GeoReport error lists, in the format the path asks for.
                expected = ["application/problem+json"] + (
                    list(OPEN311_ERRORS) if path.startswith(OPEN311_PREFIX) else []
                )
                assert list(content) == expected, (method, path, code)
    # The API's operations name the statuses their errors use.
    assert {"401", "403", "404", "422", "429", "500"} <= set(
        spec["paths"]["/api/v1/walks/{id}"]["get"]["responses"]
    )
    assert {"409", "412", "428"} <= set(
        spec["paths"]["/api/v1/action-items/{id}"]["patch"]["responses"]
    )


# --- request ids ---------------------------------------------------------------------------------


def test_request_id_is_echoed_in_header_and_problem(client: SyncClient) -> None:
    r = client.get("/api/v1/me")
    assert r.status_code == 401
    rid = r.headers["X-Request-Id"]
    assert len(rid) == 32
    assert r.json()["request_id"] == rid
    other = client.get("/api/v1/me").headers["X-Request-Id"]
    assert other != rid


def test_a_well_formed_incoming_request_id_is_kept_and_garbage_replaced(
    client: SyncClient,
) -> None:
    r = client.get("/healthz", headers={"X-Request-Id": "lb-7f3a9c21-0001"})
    assert r.headers["X-Request-Id"] == "lb-7f3a9c21-0001"
    r = client.get("/healthz", headers={"X-Request-Id": 'x" injected=1 <script>'})
    assert r.headers["X-Request-Id"] != 'x" injected=1 <script>'
    assert len(r.headers["X-Request-Id"]) == 32


def test_validation_problems_from_the_edge_carry_the_request_id(client: SyncClient) -> None:
    r = client.get("/api/v1/me?x=%00")
    assert r.status_code == 422
    assert r.json()["request_id"] == r.headers["X-Request-Id"]


def test_json_log_lines_carry_the_request_id() -> None:
    record = logging.makeLogRecord(
        {"name": "safewalk.access", "msg": "GET / %s", "args": (200,), "levelname": "INFO"}
    )
    record.route = "/healthz"
    token = request_id_var.set("abc12345")
    try:
        line = json.loads(JsonFormatter().format(record))
    finally:
        request_id_var.reset(token)
    assert line["request_id"] == "abc12345"
    assert line["message"] == "GET / 200"
    assert line["route"] == "/healthz"
    assert line["level"] == "info"


def test_access_log_line_per_request(client: SyncClient, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="safewalk.access"):
        r = client.get("/healthz")
    (rec,) = [x for x in caplog.records if x.name == "safewalk.access"]
    assert rec.status == 200  # type: ignore[attr-defined]
    assert rec.route == "/healthz"  # type: ignore[attr-defined]
    line = json.loads(JsonFormatter().format(rec))
    assert line["status"] == 200
    assert r.headers["X-Request-Id"]


# --- security headers and CORS -----------------------------------------------------------------


def test_security_headers_on_api_responses(client: SyncClient) -> None:
    r = client.get("/api/v1/me")
    assert r.headers["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'"
    assert r.headers["X-Frame-Options"] == "DENY"
    assert r.headers["Referrer-Policy"] == "no-referrer"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert "Strict-Transport-Security" not in r.headers


def test_a_page_keeps_its_own_csp_and_others_get_frame_ancestors(
    settings: Settings, engine: Any
) -> None:
    app = create_app(settings, engine=engine)

    @app.get("/own-page", response_class=HTMLResponse)
    def own() -> HTMLResponse:
        return HTMLResponse("<p>x</p>", headers={"Content-Security-Policy": "script-src 'self'"})

    with SyncClient(app) as c:
        assert c.get("/own-page").headers["Content-Security-Policy"] == "script-src 'self'"
        docs = c.get("/docs")
        assert docs.headers["Content-Security-Policy"] == "frame-ancestors 'none'"


def test_hsts_only_over_https(settings: Settings, engine: Any) -> None:
    app = create_app(settings.model_copy(update={"https": True}), engine=engine)
    with SyncClient(app) as c:
        assert c.get("/healthz").headers["Strict-Transport-Security"].startswith("max-age=")


def test_cors_is_off_unless_origins_are_configured(settings: Settings, engine: Any) -> None:
    preflight = {
        "Origin": "https://kart.example.no",
        "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "authorization",
    }
    with SyncClient(create_app(settings, engine=engine)) as c:
        r = c.get("/healthz", headers={"Origin": "https://kart.example.no"})
        assert "Access-Control-Allow-Origin" not in r.headers
        assert c.request("OPTIONS", "/api/v1/me", headers=preflight).status_code == 405
    on = settings.model_copy(update={"cors_origins": "https://kart.example.no"})
    with SyncClient(create_app(on, engine=engine)) as c:
        r = c.request("OPTIONS", "/api/v1/me", headers=preflight)
        assert r.status_code == 200
        assert r.headers["Access-Control-Allow-Origin"] == "https://kart.example.no"
        r = c.request(
            "OPTIONS", "/api/v1/me", headers={**preflight, "Origin": "https://evil.example"}
        )
        assert r.status_code == 400
        r = c.get("/healthz", headers={"Origin": "https://kart.example.no"})
        assert r.headers["Access-Control-Allow-Origin"] == "https://kart.example.no"
        assert "X-Request-Id" in r.headers["Access-Control-Expose-Headers"]


# --- metrics ----------------------------------------------------------------------------------


def test_metrics_are_off_by_default(client: SyncClient) -> None:
    r = client.get("/metrics")
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/problem+json")


def test_metrics_open(settings: Settings, engine: Any) -> None:
    app = create_app(settings.model_copy(update={"metrics": "open"}), engine=engine)
    with SyncClient(app) as c:
        c.get("/api/v1/walks/00000000-0000-4000-8000-000000000001")
        c.get("/healthz")
        r = c.get("/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    body = r.text
    # Per route template, not per concrete path.
    assert 'route="/api/v1/walks/{id}"' in body
    assert "00000000-0000-4000-8000-000000000001" not in body
    assert (
        'safewalk_http_request_duration_seconds_bucket{le="0.005",method="GET",route="/healthz",status="200"}'
        in body
    )
    for name in (
        "safewalk_db_pool_checked_out",
        "safewalk_threadpool_queue_length",
        "safewalk_http_requests_in_progress",
    ):
        assert name in body


def test_metrics_with_a_token(settings: Settings, engine: Any) -> None:
    token = "metrics-token-0123456789"
    app = create_app(
        settings.model_copy(update={"metrics": "token", "metrics_token": token}), engine=engine
    )
    with SyncClient(app) as c:
        assert c.get("/metrics").status_code == 401
        assert c.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert c.get("/metrics", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_metrics_token_mode_needs_a_token() -> None:
    with pytest.raises(ValueError, match="SAFEWALK_METRICS_TOKEN"):
        Settings(metrics="token", metrics_token="")


# --- readiness ---------------------------------------------------------------------------------


def test_readyz_fails_while_the_schema_is_behind_the_code(
    migrated_db_url: str, tmp_path: Path
) -> None:
    engine = create_db_engine(migrated_db_url)
    try:
        app = create_app(
            Settings(environment="test", data_dir=tmp_path, secret_key="k" * 64), engine=engine
        )
        with SyncClient(app) as c:
            assert c.get("/readyz").status_code == 200
            with engine.begin() as conn:
                head = conn.scalar(text("SELECT version_num FROM alembic_version"))
                conn.execute(text("UPDATE alembic_version SET version_num = 'a9c0c0a00012'"))
            r = c.get("/readyz")
            assert r.status_code == 503
            assert r.headers["content-type"].startswith("application/problem+json")
            assert r.json()["schema"] == ["a9c0c0a00012"]
            assert r.json()["expected_schema"] == [head]
            assert "safewalk migrate" in r.json()["detail"]
            with engine.begin() as conn:
                conn.execute(text("UPDATE alembic_version SET version_num = :h"), {"h": head})
            assert c.get("/readyz").status_code == 200
    finally:
        engine.dispose()
