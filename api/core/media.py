"""Private file storage for photos, addressed by content.

Files live under ``settings.resolved_media_dir``, which is never served statically: every read
goes through the photo route and its visibility check. A key is
``<sha[:2]>/<sha[2:4]>/<sha>.<variant>.<ext>``, where ``sha`` is the sha256 of the stored
original, so identical photos share their files and a key never changes its content (a file that
exists is never rewritten). Only this small class touches the file system, so an S3-compatible
store can replace it behind the same methods.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import BinaryIO, Final

__all__ = ["MediaFile", "MediaKeyError", "MediaStore", "PhotoSize", "extension"]

FILE_MODE: Final = 0o640
DIR_MODE: Final = 0o750

_DIGEST_RE: Final = re.compile(r"[0-9a-f]{64}")
_SUFFIX_RE: Final = re.compile(r"[a-z0-9]+\.[a-z0-9]+")
# Keys come from our own database; checking their shape anyway keeps a bad key from ever
# naming a path outside the root.
_KEY_RE: Final = re.compile(r"[0-9a-f]{2}/[0-9a-f]{2}/[0-9a-f]{64}\.[a-z0-9]+\.[a-z0-9]+")


class PhotoSize(StrEnum):
    """The renditions stored of every photo: the ``<variant>`` of its keys."""

    thumb = "thumb"
    display = "display"
    original = "original"


_EXTENSIONS: Final = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}


def extension(media_type: str) -> str:
    """The ``<ext>`` of a stored rendition's key."""
    return _EXTENSIONS[media_type]


class MediaKeyError(ValueError):
    """A key or suffix that this store would never have produced."""


@dataclass(frozen=True)
class MediaFile:
    """A file found in the store: ``key`` is None for a temporary file an interrupted write
    left behind."""

    key: str | None
    path: Path
    mtime: float

    @property
    def digest(self) -> str | None:
        return self.key.rsplit("/", 1)[-1].split(".", 1)[0] if self.key else None


class MediaStore:
    """Content-addressed files under one root directory."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @staticmethod
    def key_for(digest: str, suffix: str) -> str:
        """The key of the file ``<digest>.<suffix>``; ``suffix`` is ``<variant>.<ext>``."""
        if not _DIGEST_RE.fullmatch(digest):
            raise MediaKeyError(f"not a sha256 hex digest: {digest!r}")
        if not _SUFFIX_RE.fullmatch(suffix):
            raise MediaKeyError(f"not a '<variant>.<ext>' suffix: {suffix!r}")
        return f"{digest[:2]}/{digest[2:4]}/{digest}.{suffix}"

    def path(self, key: str) -> Path:
        if not _KEY_RE.fullmatch(key):
            raise MediaKeyError(f"not a media key: {key!r}")
        return self.root.joinpath(*key.split("/"))

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def put(self, data: bytes, suffix: str, *, digest: str | None = None) -> str:
        """Store ``data`` and return its key.

        ``digest`` names the content the file belongs to (the stored original's sha256 for its
        renditions) and defaults to the sha256 of ``data``. An existing file is left as it is:
        same key, same content. The write is atomic (a temporary file in the target directory,
        then ``os.replace``), so readers never see half a file.
        """
        key = self.key_for(digest or hashlib.sha256(data).hexdigest(), suffix)
        target = self.path(key)
        if target.is_file():
            return key
        target.parent.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(tmp, FILE_MODE)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        _fsync_dir(target.parent)
        return key

    def open(self, key: str) -> BinaryIO:
        """Open the file for reading; ``FileNotFoundError`` when it is missing."""
        return self.path(key).open("rb")

    def read(self, key: str) -> bytes:
        """The file's bytes; ``FileNotFoundError`` when it is missing."""
        return self.path(key).read_bytes()

    def delete(self, key: str) -> None:
        """Remove the file if it is there (directories are left for the next photo)."""
        self.path(key).unlink(missing_ok=True)

    def touch(self, key: str) -> None:
        """Mark an existing file as just used (its modification time), so the orphan sweep's
        grace period also protects a file a new upload shares before its row is committed."""
        try:
            os.utime(self.path(key))
        except FileNotFoundError:
            pass

    def files(self) -> Iterator[MediaFile]:
        """Every stored file and leftover temporary file; anything else under the root (not
        ours) is not listed, so it is never swept."""
        if not self.root.is_dir():
            return
        for path in self.root.rglob("*"):
            try:
                if not path.is_file():
                    continue
                mtime = path.stat().st_mtime
            except FileNotFoundError:
                continue  # removed while we looked
            rel = path.relative_to(self.root).as_posix()
            if _KEY_RE.fullmatch(rel):
                yield MediaFile(rel, path, mtime)
            elif path.name.startswith(".") and path.name.endswith(".tmp"):
                yield MediaFile(None, path, mtime)

    def remove(self, found: MediaFile) -> None:
        """Remove a file :meth:`files` listed."""
        found.path.unlink(missing_ok=True)


def _fsync_dir(directory: Path) -> None:
    # Makes the rename durable; not possible on every platform, and only a durability hint.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
