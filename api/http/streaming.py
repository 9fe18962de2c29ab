"""A streamed response that always closes what it streams from.

The feeds stream rows from a server-side cursor on a connection of their own. When the body
is not read to its end (the client went away, or asked HEAD and the body is not wanted, see
``api.middleware.HeadAsGet``), Starlette stops iterating and leaves the iterator to the
garbage collector, with the cursor and the connection open until then. Here the source is
closed as soon as the response is over, however it ended.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping

import anyio
import anyio.to_thread
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send


class ClosingStreamingResponse(StreamingResponse):
    def __init__(
        self,
        content: Generator[bytes],
        *,
        media_type: str,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(content, media_type=media_type, headers=headers)
        self.source = content

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            # Closing runs the source's cleanup (closing a cursor is I/O): in a thread, and
            # shielded, so that a cancelled request still lets go of its connection.
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(self.source.close)
