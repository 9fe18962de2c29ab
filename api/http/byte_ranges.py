"""Generated documents served whole or by byte range (RFC 9110, section 14).

GDAL's ``/vsicurl/``, which QGIS uses for "Add vector layer" over HTTP(S), reads a remote file
the way it reads a disk: it asks for the length first (Content-Length) and then for pieces
(``Range``, answered 206); a server that answers a range with the whole body is refused. A map
feed is generated per request, so its document is rendered once into an anonymous temporary
file (Python holds one chunk at a time, and the database connection is free as soon as the
rows are read) and kept for ``RANGE_TTL`` seconds under the caller and the URL: the ranges of
one read then come from the same bytes even when the data changes meanwhile. A request without
``Range`` always renders the document anew, so it is never older than the request.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import Response, StreamingResponse

from api.http.problems import problem

RANGE_TTL = 60.0  # seconds a rendered document answers range requests
MAX_DOCUMENTS = 16  # per process; the oldest goes first
BLOCK = 64 * 1024  # bytes read and sent at a time
_RANGE = re.compile(r"bytes=(\d*)-(\d*)")
# For a route's OpenAPI ``responses``.
RESPONSES: dict[int | str, dict[str, Any]] = {
    206: {"description": "The byte range asked for with `Range` (RFC 9110)"},
    416: {"description": "The range starts past the end of the document"},
}


@dataclass
class Document:
    """A rendered document in an unlinked temporary file; ``fd`` is owned by its holder."""

    fd: int
    size: int
    etag: str
    made: float

    def copy(self) -> Document:
        return Document(os.dup(self.fd), self.size, self.etag, self.made)

    def close(self) -> None:
        os.close(self.fd)


def render(chunks: Iterable[bytes], clock: Callable[[], float] = time.monotonic) -> Document:
    digest = hashlib.sha256()
    size = 0
    with tempfile.TemporaryFile() as f:
        for chunk in chunks:
            f.write(chunk)
            digest.update(chunk)
            size += len(chunk)
        f.flush()
        fd = os.dup(f.fileno())  # outlives the file object; the file has no name to unlink
    return Document(fd, size, f'"{digest.hexdigest()[:32]}"', clock())


class DocumentStore:
    """The documents rendered lately, by key, for the range requests that follow them."""

    def __init__(
        self,
        ttl: float = RANGE_TTL,
        capacity: int = MAX_DOCUMENTS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl, self.capacity, self.clock = ttl, capacity, clock
        self._lock = threading.Lock()
        self._docs: OrderedDict[Hashable, Document] = OrderedDict()

    def take(self, key: Hashable) -> Document | None:
        """A copy (the caller closes it) of the document under ``key``, if still fresh."""
        with self._lock:
            self._expire()
            doc = self._docs.get(key)
            return doc.copy() if doc is not None else None

    def put(self, key: Hashable, doc: Document) -> None:
        """Keep a copy of ``doc`` under ``key`` (the caller keeps its own)."""
        with self._lock:
            old = self._docs.pop(key, None)
            if old is not None:
                old.close()
            self._docs[key] = doc.copy()
            while len(self._docs) > self.capacity:
                self._docs.popitem(last=False)[1].close()
            self._expire()

    def _expire(self) -> None:
        now = self.clock()
        for key in [k for k, d in self._docs.items() if now - d.made > self.ttl]:
            self._docs.pop(key).close()


def _blocks(doc: Document, start: int, end: int) -> Iterator[bytes]:
    """Bytes ``start`` to ``end`` (exclusive) of ``doc``; closes it when done."""
    try:
        pos = start
        while pos < end:
            data = os.pread(doc.fd, min(BLOCK, end - pos), pos)
            if not data:
                break
            yield data
            pos += len(data)
    finally:
        doc.close()


def _wanted(request: Request, doc: Document) -> tuple[int, int] | None:
    """The one byte range asked for, as (start, end exclusive); None for the whole document.
    Several ranges, or a stale ``If-Range``, get the whole document, as RFC 9110 allows.
    Raises ``ValueError`` for a range that starts past the end (416)."""
    header = request.headers.get("range")
    if header is None:
        return None
    if_range = request.headers.get("if-range")
    if if_range is not None and if_range != doc.etag:
        return None
    match = _RANGE.fullmatch(header.replace(" ", ""))
    if match is None or match.group(1) == match.group(2) == "":
        return None
    first, last = match.groups()
    if first == "":  # the last N bytes
        n = int(last)
        if n == 0:
            raise ValueError(header)
        return max(0, doc.size - n), doc.size
    start = int(first)
    end = doc.size if last == "" else min(doc.size, int(last) + 1)
    if start >= doc.size or end <= start:
        raise ValueError(header)
    return start, end


def serve(
    request: Request,
    store: DocumentStore,
    key: Hashable,
    chunks: Callable[[], Iterable[bytes]],
    *,
    media_type: str,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """The document ``chunks()`` renders, whole (200) or the range asked for (206, or 416).
    ``key`` names the caller and the URL: a document is never served to anyone else."""
    doc = store.take(key) if "range" in request.headers else None
    if doc is None:
        doc = render(chunks(), store.clock)
        store.put(key, doc)
    out = {**(headers or {}), "Accept-Ranges": "bytes", "ETag": doc.etag}
    try:
        wanted = _wanted(request, doc)
    except ValueError:
        doc.close()
        return problem(
            416,
            "Range not satisfiable",
            f"the document has {doc.size} bytes",
            slug="range-not-satisfiable",
            instance=request.url.path,
            headers={**out, "Content-Range": f"bytes */{doc.size}"},
        )
    if wanted is None:
        out["Content-Length"] = str(doc.size)
        return StreamingResponse(_blocks(doc, 0, doc.size), media_type=media_type, headers=out)
    start, end = wanted
    out["Content-Length"] = str(end - start)
    out["Content-Range"] = f"bytes {start}-{end - 1}/{doc.size}"
    return StreamingResponse(
        _blocks(doc, start, end), status_code=206, media_type=media_type, headers=out
    )
