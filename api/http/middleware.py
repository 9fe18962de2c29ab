"""The edge: what every request passes before any router sees it.

- ``RefuseUnstorableText``: a NUL character or bytes that are not UTF-8 cannot be stored in
  PostgreSQL text (SQLite takes them and PostgreSQL fails with a 500), and no person types them.
  They are refused here, once for every route, as a 422 problem naming the field: in the path,
  the query, header values, JSON bodies (including lone surrogates, which are not UTF-8 either)
  and form bodies.
- ``ClientAddress``: the client's address is the socket's, unless the socket is a proxy the
  operator trusts (``SAFEWALK_TRUSTED_PROXIES``); only then does ``X-Forwarded-For`` count. A
  header any client can set must not decide which throttle bucket it falls in.
- ``CatchUnexpected``: a bug becomes a complete 500 problem and the connection stays usable.
  (Starlette's outermost error middleware re-raises after answering, and the server then drops
  the keep-alive connection under the client's next request.)
- ``HeadAsGet``: every GET route answers HEAD (GDAL's ``/vsicurl/`` asks HEAD first, as do
  link checkers and caches): the request is served as the GET it stands for, with the same
  status and headers (Content-Type, Content-Length where the GET has one, ETag), and no body.
  A streamed body is stopped as soon as the headers are out instead of being generated and
  thrown away.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import unquote_to_bytes

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.core.errors import PROBLEM_BASE, PROBLEM_JSON
from api.core.logs import current_request_id
from api.http.asgi import HttpMiddleware

log = logging.getLogger("safewalk")

# Bodies we read as text. Photos and other binary bodies pass through untouched.
_TEXT_BODIES = ("application/json", "application/problem+json", "application/geo+json")
_FORM = "application/x-www-form-urlencoded"
_MULTIPART = "multipart/form-data"
_PART_NAME = re.compile(rb'name="([^"]*)"')


def _problem(status: int, title: str, detail: str, **extra: Any) -> tuple[bytes, list[Any]]:
    body = {
        "type": PROBLEM_BASE + "validation-error" if status == 422 else "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
        **extra,
    }
    rid = current_request_id()
    if rid:
        body["request_id"] = rid
    raw = json.dumps(body).encode()
    headers = [
        (b"content-type", PROBLEM_JSON.encode()),
        (b"content-length", str(len(raw)).encode()),
    ]
    return raw, headers


async def _send_problem(send: Send, status: int, raw: bytes, headers: list[Any]) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": raw})


# --- text that cannot be stored ---------------------------------------------------------------


def _bad_text(value: str) -> str | None:
    """Why ``value`` cannot be stored as text, or None."""
    if "\x00" in value:
        return "contains a NUL character"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "is not valid UTF-8 (a lone surrogate)"
    return None


def _bad_bytes(value: bytes) -> str | None:
    try:
        text = value.decode("utf-8")
    except UnicodeDecodeError:
        return "is not valid UTF-8"
    return _bad_text(text)


def _check_pairs(raw: bytes, where: str) -> tuple[list[str | int], str] | None:
    """``a=1&b=%00`` style pairs: each name and each value, percent-decoded to bytes."""
    for part in raw.split(b"&"):
        if not part:
            continue
        name, _, value = part.partition(b"=")
        name_b = unquote_to_bytes(name.replace(b"+", b" "))
        value_b = unquote_to_bytes(value.replace(b"+", b" "))
        shown = name_b.decode("utf-8", "replace").replace("\x00", "\\0")
        why = _bad_bytes(name_b)
        if why:
            return [where, shown], f"the parameter name {why}"
        why = _bad_bytes(value_b)
        if why:
            return [where, shown], why
    return None


def _check_multipart(raw: bytes, boundary: bytes) -> tuple[list[str | int], str] | None:
    """The text fields of a multipart form (parts without a filename); files pass untouched."""
    for part in raw.split(b"--" + boundary):
        head, sep, value = part.partition(b"\r\n\r\n")
        if not sep or b"filename=" in head:
            continue
        found = _PART_NAME.search(head)
        name = found.group(1).decode("utf-8", "replace") if found else "?"
        why = _bad_bytes(value.removesuffix(b"\r\n"))
        if why:
            return ["body", name], why
    return None


def _walk_json(value: Any, loc: list[str | int]) -> tuple[list[str | int], str] | None:
    if isinstance(value, str):
        why = _bad_text(value)
        return (loc, why) if why else None
    if isinstance(value, dict):
        for k, v in value.items():
            why = _bad_text(k)
            if why:
                return [*loc, k.replace("\x00", "\\0")], f"the field name {why}"
            found = _walk_json(v, [*loc, k])
            if found:
                return found
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found = _walk_json(v, [*loc, i])
            if found:
                return found
    return None


def _check_json(raw: bytes) -> tuple[list[str | int], str] | None:
    why = _bad_bytes(raw) if b"\x00" in raw else None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return ["body"], "is not valid UTF-8"
    if why:
        return ["body"], why
    if "\\u" not in text:
        return None  # without an escape, valid UTF-8 JSON cannot hold a NUL or a surrogate
    try:
        parsed = json.loads(text)
    except ValueError:
        return None  # malformed JSON is the validator's to report
    return _walk_json(parsed, ["body"])


def _check_headers(headers: Iterable[tuple[bytes, bytes]]) -> tuple[list[str | int], str] | None:
    for name, value in headers:
        if b"\x00" in value:
            return ["header", name.decode("latin-1")], "contains a NUL character"
    return None


class RefuseUnstorableText(HttpMiddleware):
    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        found: tuple[list[str | int], str] | None = None
        raw_path = scope.get("raw_path") or scope["path"].encode("utf-8", "surrogateescape")
        why = _bad_bytes(unquote_to_bytes(raw_path))
        if why:
            found = (["path"], why)
        found = found or _check_pairs(scope.get("query_string", b""), "query")
        found = found or _check_headers(scope.get("headers", []))
        content_type = ""
        boundary = b""
        for name, value in scope.get("headers", []):
            if name == b"content-type":
                content_type = value.decode("latin-1").split(";")[0].strip().lower()
                match = re.search(rb'boundary="?([^";]+)"?', value)
                boundary = match.group(1) if match else b""
        replay: list[Message] = []
        multipart = content_type == _MULTIPART and bool(boundary)
        if found is None and (content_type in _TEXT_BODIES or content_type == _FORM or multipart):
            body = b""
            while True:
                message = await receive()
                replay.append(message)
                if message["type"] != "http.request":
                    break
                body += message.get("body", b"")
                if not message.get("more_body", False):
                    break
            if content_type == _FORM:
                found = _check_pairs(body, "body")
            elif multipart:
                found = _check_multipart(body, boundary)
            else:
                found = _check_json(body)
        if found is not None:
            loc, msg = found
            where = ".".join(str(p) for p in loc)
            raw, headers = _problem(
                422, "Invalid input", f"{where}: {msg}", errors=[{"loc": loc, "msg": msg}]
            )
            await _send_problem(send, 422, raw, headers)
            return
        if not replay:
            await self.app(scope, receive, send)
            return

        async def replayed() -> Message:
            if replay:
                return replay.pop(0)
            return await receive()

        await self.app(scope, replayed, send)


# --- the client's address -----------------------------------------------------------------------

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_trusted(spec: str) -> list[Network]:
    """``"10.0.0.0/8, 192.168.1.5"`` → networks. An invalid entry stops the service at start."""
    nets: list[Network] = []
    for part in spec.replace(" ", ",").split(","):
        if part.strip():
            nets.append(ipaddress.ip_network(part.strip(), strict=False))
    return nets


def _trusted(address: str, nets: list[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in n for n in nets)


def client_address(peer: str, forwarded_for: str | None, nets: list[Network]) -> str:
    """The socket's address; behind trusted proxies, the nearest untrusted hop they reported."""
    if not nets or forwarded_for is None or not _trusted(peer, nets):
        return peer
    hops = [h.strip() for h in forwarded_for.split(",") if h.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, nets):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return peer  # garbage from a client behind the proxy: keep the proxy's view
    return hops[0] if hops else peer


class ClientAddress:
    def __init__(self, app: ASGIApp, trusted: list[Network]) -> None:
        self.app = app
        self.trusted = trusted

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            client = scope.get("client")
            peer = client[0] if client else "unknown"
            forwarded = None
            for name, value in scope.get("headers", []):
                if name == b"x-forwarded-for":
                    forwarded = value.decode("latin-1")
            address = client_address(peer, forwarded, self.trusted)
            scope = {**scope, "client": (address, client[1] if client else 0)}
        await self.app(scope, receive, send)


# --- bugs ---------------------------------------------------------------------------------------


class CatchUnexpected(HttpMiddleware):
    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            log.exception("unhandled error on %s %s", scope.get("method"), scope.get("path"))
            if started:
                raise  # half a body is out: only closing the connection tells the client
            raw, headers = _problem(
                500,
                "Internal server error",
                "Something went wrong on our side; the request was not applied.",
                instance=scope.get("path"),
            )
            await _send_problem(send, 500, raw, headers)


# --- HEAD ---------------------------------------------------------------------------------------


class HeadAsGet:
    """HEAD served as GET, in one place for every route (FastAPI registers GET routes without
    HEAD). Placed inside the request log, so that the log and metrics still say HEAD."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return
        # Below ASGI spec 2.4 Starlette's streamed and file responses listen for the client's
        # disconnect and stop generating the body when it comes; the disconnect is told below.
        asgi = {**scope.get("asgi", {}), "spec_version": "2.3"}
        inner = {**scope, "method": "GET", "asgi": asgi}
        answered = anyio.Event()
        request_read = False

        async def receive_until_answered() -> Message:
            nonlocal request_read
            if not request_read:
                message = await receive()
                request_read = message["type"] != "http.request" or not message.get(
                    "more_body", False
                )
                return message
            # Nothing more comes from a client that sent HEAD; once the headers are out, the
            # body is not wanted: to the app this is a client that went away.
            await answered.wait()
            return {"type": "http.disconnect"}

        async def headers_only(message: Message) -> None:
            if message["type"] == "http.response.start":
                await send(message)
                await send({"type": "http.response.body", "body": b"", "more_body": False})
                answered.set()
            elif not answered.is_set() and not message["type"].startswith("http.response."):
                await send(message)
            # The GET's body (and anything after the response) is not sent.

        await self.app(inner, receive_until_answered, headers_only)
