"""A synchronous test client over httpx's ASGI transport (no network, no server)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractContextManager
from typing import Any

import anyio.from_thread
import httpx


class SyncClient:
    """Calls the app through ``httpx.ASGITransport`` from plain (sync) tests.

    ``gather`` sends several requests at once, for concurrency tests.
    """

    def __init__(self, app: Any, headers: dict[str, str] | None = None) -> None:
        self._app = app
        self._headers = headers or {}
        self._portal_cm: AbstractContextManager[Any] | None = None

    def __enter__(self) -> SyncClient:
        self._portal_cm = anyio.from_thread.start_blocking_portal()
        self.portal = self._portal_cm.__enter__()
        transport = httpx.ASGITransport(app=self._app, raise_app_exceptions=False)
        self._client = httpx.AsyncClient(
            transport=transport, base_url="http://testserver", headers=self._headers
        )
        return self

    def __exit__(self, *exc: object) -> None:
        self.portal.call(self._client.aclose)
        assert self._portal_cm is not None
        self._portal_cm.__exit__(None, None, None)

    def request(self, method: str, url: str, **kw: Any) -> httpx.Response:
        return self.portal.call(lambda: self._client.request(method, url, **kw))

    def get(self, url: str, **kw: Any) -> httpx.Response:
        return self.request("GET", url, **kw)

    def post(self, url: str, **kw: Any) -> httpx.Response:
        return self.request("POST", url, **kw)

    def put(self, url: str, **kw: Any) -> httpx.Response:
        return self.request("PUT", url, **kw)

    def patch(self, url: str, **kw: Any) -> httpx.Response:
        return self.request("PATCH", url, **kw)

    def delete(self, url: str, **kw: Any) -> httpx.Response:
        return self.request("DELETE", url, **kw)

    def gather(self, calls: Sequence[tuple[str, str, dict[str, Any]]]) -> list[httpx.Response]:
        """Send the requests concurrently and return the responses in order."""

        async def run() -> list[httpx.Response]:
            results: list[httpx.Response | None] = [None] * len(calls)

            async def one(i: int, method: str, url: str, kw: dict[str, Any]) -> None:
                results[i] = await self._client.request(method, url, **kw)

            async with anyio.create_task_group() as tg:
                for i, (method, url, kw) in enumerate(calls):
                    tg.start_soon(one, i, method, url, kw)
            return [r for r in results if r is not None]

        run_fn: Callable[[], Awaitable[list[httpx.Response]]] = run
        return self.portal.call(run_fn)
