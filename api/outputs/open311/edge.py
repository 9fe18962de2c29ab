"""Every error under ``/open311/`` as GeoReport v2 writes errors, never as problem details.

Open311 clients read ``[{"code": 404, "description": "..."}]`` (JSON) or
``<errors><error><code>404</code><description>...`` (XML), whatever went wrong: a path
without ``.json`` or ``.xml``, a method the path does not serve, an unknown parameter, text
that cannot be stored, a bug. All of those are answered as problem details by the one error
handler (``api/core/errors.py``) and the edge middlewares, and are rewritten here, once, on their
way out: the format is the one the path names (JSON when it names none or an unknown one),
the status is kept (but 422, which GeoReport does not know, is its 400), headers such as
``Allow`` and ``Retry-After`` are kept.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.core.errors import PROBLEM_JSON
from api.outputs.open311 import formats

PREFIX = "/open311/"


def _is_problem(start: Message) -> bool:
    for name, value in start.get("headers", []):
        if name.lower() == b"content-type":
            return bool(value.split(b";")[0].strip().lower() == PROBLEM_JSON.encode())
    return False


def _description(raw: bytes, status: int) -> str:
    try:
        problem: Any = json.loads(raw)
    except ValueError:
        return f"error {status}"
    if not isinstance(problem, dict):
        return f"error {status}"
    return str(problem.get("detail") or problem.get("title") or f"error {status}")


class GeoReportErrors:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not str(scope["path"]).startswith(PREFIX):
            await self.app(scope, receive, send)
            return
        held: Message | None = None
        body = b""

        async def rewriting(message: Message) -> None:
            nonlocal held, body
            if message["type"] == "http.response.start" and _is_problem(message):
                held = message  # sent once the whole problem is read
                return
            if held is None or message["type"] != "http.response.body":
                await send(message)
                return
            body += message.get("body", b"")
            if message.get("more_body", False):
                return
            status = 400 if held["status"] == 422 else int(held["status"])
            raw, media = formats.error_body(
                formats.path_format(str(scope["path"])), status, _description(body, status)
            )
            headers = [
                (k, v)
                for k, v in held.get("headers", [])
                if k.lower() not in (b"content-type", b"content-length")
            ]
            headers += [(b"content-type", media.encode()), (b"content-length", b"%d" % len(raw))]
            await send({**held, "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": raw})

        await self.app(scope, receive, rewriting)
