"""The edge (api/http/middleware.py): text PostgreSQL cannot store, explicit nulls, bugs, addresses.

The fuzz cases are generated from the app's own OpenAPI document, so a route added later is
covered without anyone remembering to add it here.
"""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import uvicorn
from sqlalchemy import select, text

from api.app import create_app
from api.http.middleware import client_address, parse_trusted
from api.outputs.maps import service as map_service
from models import utcnow
from tests.factories.client import SyncClient
from tests.factories.live_server import free_port
from tests.factories.world import World

BAD_VALUES = [
    pytest.param("\x00", id="nul"),
    pytest.param("ok\x00tail", id="nul-inside"),
]


def _operations(app: Any) -> list[tuple[str, str, dict[str, Any]]]:
    spec = app.openapi()
    out = []
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if method in {"get", "post", "put", "patch", "delete"}:
                out.append((method.upper(), path, op))
    return out


def _url(path: str, value: str = "00000000-0000-4000-8000-000000000000") -> str:
    out = path
    while "{" in out:
        start = out.index("{")
        out = out[:start] + value + out[out.index("}", start) + 1 :]
    return out


def _body_properties(
    spec: dict[str, Any], op: dict[str, Any], media_type: str = "application/json"
) -> list[str]:
    body = op.get("requestBody", {}).get("content", {})
    schema = (body.get(media_type) or {}).get("schema")
    if not schema:
        return []
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].split("/")[-1]]
    return sorted(schema.get("properties", {}))


def _assert_named(r: Any, loc: list[Any]) -> None:
    if r.url.path.startswith("/open311/"):
        # GeoReport v2 errors: its own list, 400 for a bad request, the field named.
        assert r.status_code == 400, (loc, r.status_code, r.text)
        [error] = r.json()
        assert error["code"] == 400
        assert error["description"].startswith(".".join(str(p) for p in loc) + ":"), r.text
        return
    assert r.status_code == 422, (loc, r.status_code, r.text)
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["errors"][0]["loc"] == loc, r.text


def test_nul_and_bad_utf8_in_every_string_input_is_a_named_422(
    client: SyncClient, world: World, app: Any
) -> None:
    spec = app.openapi()
    headers = world.headers("admin")
    checked = 0
    for method, path, op in _operations(app):
        for param in op.get("parameters", []):
            where = param["in"]
            name = param["name"]
            if where == "query":
                for raw in ("%00", "a%00b", "%FF", "%C3%28"):
                    r = client.request(method, f"{_url(path)}?{name}={raw}", headers=headers)
                    _assert_named(r, ["query", name])
                    checked += 1
            elif where == "path":
                for raw in ("%00", "%FF"):
                    r = client.request(method, _url(path, raw), headers=headers)
                    _assert_named(r, ["path"])
                    checked += 1
        for prop in _body_properties(spec, op):
            for bad in ("\x00", "x\x00", "\ud800"):
                raw = json.dumps({prop: bad}).encode()
                r = client.request(
                    method,
                    _url(path),
                    content=raw,
                    headers={**headers, "Content-Type": "application/json"},
                )
                _assert_named(r, ["body", prop])
                checked += 1
            raw = b'{"' + prop.encode() + b'": "\xff\xfe"}'
            r = client.request(
                method,
                _url(path),
                content=raw,
                headers={**headers, "Content-Type": "application/json"},
            )
            _assert_named(r, ["body"])
        for prop in _body_properties(spec, op, "application/x-www-form-urlencoded"):
            r = client.request(
                method,
                _url(path),
                content=f"{prop}=%00".encode(),
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
            _assert_named(r, ["body", prop])
            checked += 1
    assert checked > 100  # the generator found the routes


def test_explicit_null_for_every_body_field_is_never_a_server_error(
    client: SyncClient, world: World, app: Any
) -> None:
    """Each field of each JSON body alone as null, on real ids where the route has one."""
    spec = app.openapi()
    headers = world.headers("admin")
    item_ids = {
        "{id}": str(world.walk.id),
    }
    seen = 0
    for method, path, op in _operations(app):
        for prop in _body_properties(spec, op):
            url = path
            for key, value in item_ids.items():
                url = url.replace(key, value)
            r = client.request(
                method, _url(url), json={prop: None}, headers={**headers, "If-Match": "*"}
            )
            assert r.status_code < 500, (method, path, prop, r.text)
            seen += 1
    assert seen > 20


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param({"owner_type": None}, "owner_type", id="owner-type-null"),
        pytest.param({"title": None}, "title", id="title-null"),
        pytest.param({"status": None}, "status", id="status-null"),
    ],
)
def test_null_in_an_action_item_patch_is_a_422(
    client: SyncClient, world: World, body: dict[str, Any], field: str
) -> None:
    h = world.headers("coordinator")
    obs = client.put(
        f"/api/v1/observations/{uuid.uuid4()}",
        headers=h,
        json={
            "walk_id": str(world.walk.id),
            "category": "lighting",
            "location": {"type": "Point", "coordinates": [5.7352, 58.8517]},
            "recorded_at": (utcnow() - timedelta(minutes=5)).isoformat(),
        },
    )
    item_id = obs.json()["action_item_id"]
    tag = client.get(f"/api/v1/action-items/{item_id}", headers=h).headers["ETag"]
    r = client.patch(f"/api/v1/action-items/{item_id}", headers={**h, "If-Match": tag}, json=body)
    _assert_named(r, ["body", field])
    assert client.get(f"/api/v1/action-items/{item_id}", headers=h).headers["ETag"] == tag


def test_nul_in_sign_in_and_join_is_refused_before_the_database(client: SyncClient) -> None:
    r = client.post(
        "/api/v1/auth/token", data={"username": "admin\x00@example.org", "password": "x"}
    )
    _assert_named(r, ["body", "username"])
    # The same form as multipart/form-data, which the OAuth2 form also accepts.
    r = client.post(
        "/api/v1/auth/token",
        files={"username": (None, "admin\x00@example.org"), "password": (None, "x")},
    )
    _assert_named(r, ["body", "username"])
    r = client.post(
        "/api/v1/auth/token",
        files={"username": (None, "admin@example.org"), "password": (None, b"\xff\xfe")},
    )
    _assert_named(r, ["body", "password"])
    r = client.post("/api/v1/walks/join", json={"code": "AB\x00CD", "group": "youth"})
    _assert_named(r, ["body", "code"])


def test_a_feed_runs_its_query_before_the_response_starts(engine: Any) -> None:
    """A failing feed query raises when the stream is opened, not halfway through a 200."""
    with pytest.raises(Exception, match="no_such_table|does not exist"):
        map_service.stream_collection(
            lambda: engine.connect(), [select(text("x FROM no_such_table"))], {}
        )


# --- a bug keeps the connection usable --------------------------------------------------------


@pytest.fixture
def threaded_server(settings: Any, engine: Any) -> Iterator[str]:
    app = create_app(settings, engine=engine)

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("a bug")

    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="critical", proxy_headers=False)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def _read_response(sock: socket.socket) -> tuple[str, bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(4096)
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        body += sock.recv(4096)
    return head.decode(), body


def test_after_a_500_the_same_connection_answers_the_next_request(threaded_server: str) -> None:
    host, port = threaded_server.split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(b"GET /boom HTTP/1.1\r\nHost: x\r\n\r\n")
        head, body = _read_response(sock)
        assert head.startswith("HTTP/1.1 500")
        problem = json.loads(body)
        assert problem["status"] == 500
        assert "a bug" not in body.decode()
        closing = "connection: close" in head.lower()
        if not closing:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            head, _ = _read_response(sock)
            assert head.startswith("HTTP/1.1 200")


# --- addresses ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("peer", "xff", "trusted", "expected"),
    [
        pytest.param("127.0.0.1", "203.0.113.9", "", "127.0.0.1", id="untrusted-peer"),
        pytest.param("10.0.0.2", "203.0.113.9", "10.0.0.0/8", "203.0.113.9", id="trusted-proxy"),
        pytest.param(
            "10.0.0.2", "198.51.100.1, 203.0.113.9", "10.0.0.0/8", "203.0.113.9", id="spoofed-left"
        ),
        pytest.param(
            "10.0.0.2", "203.0.113.9, 10.0.0.7", "10.0.0.0/8", "203.0.113.9", id="two-proxies"
        ),
        pytest.param("10.0.0.2", "not-an-ip", "10.0.0.0/8", "10.0.0.2", id="garbage"),
        pytest.param("10.0.0.2", None, "10.0.0.0/8", "10.0.0.2", id="no-header"),
    ],
)
def test_client_address(peer: str, xff: str | None, trusted: str, expected: str) -> None:
    assert client_address(peer, xff, parse_trusted(trusted)) == expected


@pytest.mark.parametrize(
    "header",
    [
        pytest.param(b"authorization", id="authorization"),
        pytest.param(b"if-match", id="if-match"),
        pytest.param(b"accept-language", id="accept-language"),
    ],
)
def test_nul_in_a_header_value_is_a_named_422(header: bytes) -> None:
    """HTTP clients refuse to send a NUL in a header, but a raw socket can: test the middleware
    at the ASGI level."""
    import asyncio

    from api.http.middleware import RefuseUnstorableText

    called = []

    async def inner(scope: Any, receive: Any, send: Any) -> None:
        called.append(scope)

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    scope = {
        "type": "http",
        "method": "GET",
        "path": "/api/v1/me",
        "raw_path": b"/api/v1/me",
        "query_string": b"",
        "headers": [(header, b"x\x00y")],
    }
    asyncio.run(RefuseUnstorableText(inner)(scope, receive, send))
    assert not called
    assert sent[0]["status"] == 422
    body = json.loads(sent[1]["body"])
    assert body["errors"][0]["loc"] == ["header", header.decode()]
