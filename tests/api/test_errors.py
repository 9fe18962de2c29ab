"""Every error is RFC 9457 problem details: 404, 405, 422, 400, domain errors, and bugs."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict

from api.errors import Conflict
from tests.client import SyncClient


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
    app.add_api_route("/_probe/boom", boom, methods=["GET"])
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
