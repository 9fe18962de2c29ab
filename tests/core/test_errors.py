"""Every error is RFC 9457 problem details: 404, 405, 422, 400, domain errors, and bugs."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from api.core import errors
from api.core.errors import Conflict, DomainError
from tests.factories.client import SyncClient


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")
    severity: int


@pytest.fixture
def probe_client(app: Any) -> Any:
    def echo(body: Body) -> dict[str, int]:
        return {"severity": body.severity}

    def conflict() -> None:
        raise Conflict("the same id was sent with another body")

    def boom() -> None:
        raise RuntimeError("secret internal detail /etc/passwd")

    app.add_api_route("/_probe/echo", echo, methods=["POST"])
    app.add_api_route("/_probe/conflict", conflict, methods=["GET"])

    def pool_empty() -> None:
        raise PoolTimeout("QueuePool limit of size 5 overflow 10 reached")

    def locked() -> None:
        raise OperationalError("BEGIN IMMEDIATE", {}, Exception("database is locked"))

    def bad_sql() -> None:
        raise ProgrammingError("SELECT secret", {}, Exception("syntax error at secret"))

    app.add_api_route("/_probe/boom", boom, methods=["GET"])
    app.add_api_route("/_probe/pool-empty", pool_empty, methods=["GET"])
    app.add_api_route("/_probe/locked", locked, methods=["GET"])
    app.add_api_route("/_probe/bad-sql", bad_sql, methods=["GET"])
    with SyncClient(app) as c:
        yield c


def _is_problem(r: Any, status: int) -> dict[str, Any]:
    assert r.status_code == status
    assert r.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = r.json()
    assert {"type", "title", "status", "detail"} <= set(body)
    assert body["status"] == status
    return body


def test_unknown_path_is_a_404_problem(client: SyncClient) -> None:
    _is_problem(client.get("/api/v1/nothing-here"), 404)


def test_wrong_method_is_a_405_problem(client: SyncClient) -> None:
    _is_problem(client.delete("/healthz"), 405)


def test_validation_error_names_the_field(probe_client: SyncClient) -> None:
    body = _is_problem(probe_client.post("/_probe/echo", json={"severity": "high"}), 422)
    assert body["errors"][0]["loc"] == ["body", "severity"]
    assert "msg" in body["errors"][0]


def test_unknown_field_is_refused(probe_client: SyncClient) -> None:
    body = _is_problem(
        probe_client.post("/_probe/echo", json={"severity": 1, "organization_id": "x"}), 422
    )
    assert body["errors"][0]["loc"] == ["body", "organization_id"]


def test_malformed_json_is_a_400_problem(probe_client: SyncClient) -> None:
    r = probe_client.post(
        "/_probe/echo", content=b'{"severity": 1', headers={"content-type": "application/json"}
    )
    _is_problem(r, 400)


def test_domain_error_renders_its_status(probe_client: SyncClient) -> None:
    body = _is_problem(probe_client.get("/_probe/conflict"), 409)
    assert body["detail"] == "the same id was sent with another body"
    assert body["type"].endswith("/conflict")


def test_unexpected_error_leaks_nothing(probe_client: SyncClient) -> None:
    body = _is_problem(probe_client.get("/_probe/boom"), 500)
    text = str(body)
    assert "secret" not in text
    assert "Traceback" not in text
    assert "RuntimeError" not in text


@pytest.mark.parametrize("path", ["/_probe/pool-empty", "/_probe/locked"])
def test_an_overloaded_database_is_a_503_to_retry(probe_client: SyncClient, path: str) -> None:
    """The load benchmark saw 500s when the pool ran dry or SQLite stayed locked: overload is
    a 503 with Retry-After, so clients (the field app's outbox) send the request again."""
    r = probe_client.get(path)
    body = _is_problem(r, 503)
    assert body["type"].endswith("/busy")
    assert int(r.headers["retry-after"]) >= 1
    assert "QueuePool" not in str(body)


def test_a_database_bug_is_still_a_500(probe_client: SyncClient) -> None:
    body = _is_problem(probe_client.get("/_probe/bad-sql"), 500)
    assert "secret" not in str(body)


def test_server_pools_are_sized_by_settings() -> None:
    from api.core.db import pool_options

    assert pool_options("sqlite:///:memory:", 3, 4, 5.0) == {}
    assert pool_options("postgresql+psycopg://u@h/db", 3, 4, 5.0) == {
        "pool_size": 3,
        "max_overflow": 4,
        "pool_timeout": 5.0,
    }


@pytest.mark.parametrize(
    ("kind", "status", "slug", "title"),
    [
        pytest.param(errors.Unauthorized, 401, "unauthorized", "Unauthorized", id="401"),
        pytest.param(errors.Forbidden, 403, "forbidden", "Forbidden", id="403"),
        pytest.param(errors.NotFound, 404, "not-found", "Not found", id="404"),
        pytest.param(errors.Conflict, 409, "conflict", "Conflict", id="409"),
        pytest.param(
            errors.PreconditionFailed, 412, "precondition-failed", "Precondition failed", id="412"
        ),
        pytest.param(
            errors.PayloadTooLarge, 413, "payload-too-large", "Payload too large", id="413"
        ),
        pytest.param(
            errors.UnsupportedMediaType,
            415,
            "unsupported-media-type",
            "Unsupported media type",
            id="415",
        ),
        pytest.param(errors.InvalidInput, 422, "validation-error", "Invalid input", id="422"),
        pytest.param(
            errors.PreconditionRequired,
            428,
            "precondition-required",
            "Precondition required",
            id="428",
        ),
        pytest.param(
            errors.TooManyRequests, 429, "too-many-requests", "Too many requests", id="429"
        ),
        pytest.param(errors.Busy, 503, "busy", "Busy", id="503"),
    ],
)
def test_problem_types_keep_their_names(
    kind: type[DomainError], status: int, slug: str, title: str
) -> None:
    # Clients match on the problem type: the names taken from the status's reason phrase are
    # the ones the types had when each spelled its own.
    assert (kind.status, kind.slug, kind.title) == (status, slug, title)


def test_a_problem_type_may_name_its_own_slug_and_title() -> None:
    class Gone(DomainError, status=410):
        pass

    class Teapot(DomainError, status=418, slug="teapot", title="Short and stout"):
        pass

    assert (Gone.status, Gone.slug, Gone.title) == (410, "gone", "Gone")
    assert (Teapot.status, Teapot.slug, Teapot.title) == (418, "teapot", "Short and stout")
