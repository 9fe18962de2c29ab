"""The web apps' files as the edge serves them: compressed, and cached for good where the URL
names the release.

Every JS and CSS reference in the apps' HTML and every module import (``from './x.js'``,
``import('./x.js')``) gets ``?v=<release>``, a hash of all the web files: a new release
changes every such URL, so a response for the current ``v`` is ``immutable`` for a year,
and anything else (the pages, images, a URL without ``v``) is revalidated with its ETag.
Text bodies are sent brotli- or gzip-compressed by what the browser accepts, each compressed
once per process and kept.
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import brotli
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
_TEXT = (".js", ".css", ".html", ".svg", ".json", ".webmanifest", ".txt", ".map")
_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".svg": "image/svg+xml",
    ".json": "application/json",
    ".webmanifest": "application/manifest+json",
    ".ico": "image/x-icon",
}
MIN_COMPRESS = 512
# Module specifiers and literal paths of scripts and styles, in JS and HTML.
_JS_IMPORT = re.compile(r"""((?:\bfrom|\bimport)\s*\(?\s*)(['"])([^'"?#]+\.js)\2""")
_JS_VENDOR = re.compile(r"""(['"])(/vendor/[\w.-]+\.(?:js|css))\1""")
_HTML_REF = re.compile(r"""(\b(?:src|href)=)(["'])(?![a-z]+:|//)([^"'?#]+\.(?:js|css))\2""")


_lock = threading.Lock()
_versions: dict[tuple[object, ...], str] = {}


def release_version(*directories: Path, extra: tuple[Path, ...] = ()) -> str:
    """A hash of every file under ``directories`` (and the ``extra`` files): the release. Names
    are taken relative to each directory's parent, so every replica computes the same one."""
    files = [
        (p, p.relative_to(d.parent).as_posix())
        for d in directories
        if d.is_dir()
        for p in sorted(d.rglob("*"))
        if p.is_file()
    ] + [(p, p.name) for p in extra if p.is_file()]
    key = tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p, _ in files)
    with _lock:
        found = _versions.get(key)
    if found is None:
        digest = hashlib.sha256()
        for path, name in files:
            digest.update(name.encode())
            digest.update(path.read_bytes())
        found = digest.hexdigest()[:16]
        with _lock:
            _versions[key] = found
    return found


def versioned(path: str, version: str) -> str:
    """A script's or style's URL as the apps reference it."""
    return f"{path}?v={version}" if path.endswith((".js", ".css")) else path


def stamp(body: bytes, suffix: str, version: str) -> bytes:
    """References in ``body`` rewritten to name the release."""
    if suffix == ".js":
        text = body.decode("utf-8")
        text = _JS_IMPORT.sub(lambda m: f"{m[1]}{m[2]}{m[3]}?v={version}{m[2]}", text)
        text = _JS_VENDOR.sub(lambda m: f"{m[1]}{m[2]}?v={version}{m[1]}", text)
        return text.encode("utf-8")
    if suffix == ".html":
        text = body.decode("utf-8")
        text = _HTML_REF.sub(lambda m: f"{m[1]}{m[2]}{m[3]}?v={version}{m[2]}", text)
        return text.encode("utf-8")
    return body


@dataclass
class _Prepared:
    body: bytes
    etag: str
    media_type: str
    encoded: dict[str, bytes]


_prepared: dict[tuple[str, int, int, str], _Prepared] = {}


def _media_type(path: Path) -> str:
    return (
        _TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    )


def prepare(path: Path, version: str, body: bytes | None = None) -> _Prepared:
    """The file's stamped body and ETag, kept per process until the file changes."""
    stat = path.stat()
    key = (str(path), stat.st_mtime_ns, stat.st_size, version)
    with _lock:
        found = _prepared.get(key)
    if found is None:
        raw = stamp(body if body is not None else path.read_bytes(), path.suffix, version)
        found = _Prepared(
            raw, '"' + hashlib.sha256(raw).hexdigest()[:32] + '"', _media_type(path), {}
        )
        with _lock:
            _prepared[key] = found
    return found


def _encoded(item: _Prepared, encoding: str) -> bytes:
    with _lock:
        done = item.encoded.get(encoding)
    if done is None:
        if encoding == "br":
            # The densest setting costs seconds on the map library (0.7 MB): the first
            # visitor would wait for it. Quality 9 is a tenth of a second and 8 % larger.
            quality = 11 if len(item.body) < 128 * 1024 else 9
            done = brotli.compress(item.body, mode=brotli.MODE_TEXT, quality=quality)
        else:
            done = gzip.compress(item.body, compresslevel=9, mtime=0)
        with _lock:
            item.encoded[encoding] = done
    return done


def _accepted(header: str) -> list[str]:
    offered = {
        part.split(";")[0].strip(): "q=0" not in part.replace(" ", "")
        for part in header.lower().split(",")
    }
    return [e for e in ("br", "gzip") if offered.get(e)]


def file_response(
    path: Path,
    scope: Scope,
    version: str,
    headers: Mapping[str, str],
    *,
    body: bytes | None = None,
) -> Response:
    """``path`` (stamped, compressed as accepted) with caching by the request's ``v``."""
    item = prepare(path, version, body)
    request_headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
    query = scope.get("query_string", b"").decode("latin-1")
    fixed = f"v={version}" in query.split("&")
    out = {
        **headers,
        "ETag": item.etag,
        "Cache-Control": IMMUTABLE if fixed else REVALIDATE,
        "Vary": "Accept-Encoding",
    }
    if item.etag in request_headers.get("if-none-match", ""):
        return Response(status_code=304, headers=out)
    content = item.body
    if path.suffix in _TEXT and len(content) >= MIN_COMPRESS:
        for encoding in _accepted(request_headers.get("accept-encoding", "")):
            content = _encoded(item, encoding)
            out["Content-Encoding"] = encoding
            break
    return Response(content, media_type=item.media_type, headers=out)


class WebFiles:
    """A directory of an app, served through ``file_response``. ``html``: a directory's
    ``index.html`` answers for it. ``names``: only these names, mapped to files (the npm
    packages' few files the maps load)."""

    def __init__(
        self,
        directory: Path,
        version: str,
        headers: Mapping[str, str],
        *,
        html: bool = False,
        names: Mapping[str, str] | None = None,
    ) -> None:
        self.directory = directory.resolve()
        self.version = version
        self.headers = dict(headers)
        self.html = html
        self.names = names

    def find(self, relative: str) -> Path | None:
        if self.names is not None:
            name = self.names.get(relative)
            if name is None:
                return None
            relative = name
        path = (self.directory / relative).resolve()
        if not path.is_relative_to(self.directory):
            return None
        if path.is_dir() and self.html:
            path = path / "index.html"
        return path if path.is_file() else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] not in ("GET", "HEAD"):
            raise HTTPException(405, "read only")
        relative, root = scope["path"], scope.get("root_path", "")
        if root and relative.startswith(root):
            relative = relative[len(root) :]
        relative = relative.lstrip("/")
        path = self.find(relative)
        if path is None:
            if self.names is not None and relative in self.names:
                # A clear 503 beats a map that silently never draws.
                raise HTTPException(503, "web dependencies are not installed (run `make web`)")
            raise HTTPException(404, "no such file")
        response = file_response(path, scope, self.version, self.headers)
        await response(scope, receive, send)
