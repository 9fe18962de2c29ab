"""Reading tiles out of the two single-file tile archives a municipality is likely to hand over:
MBTiles (an SQLite database, rows in TMS order) and PMTiles v3 (a header, Hilbert-ordered
directories and the tile data in one file, read here with plain seeks).

Both readers answer the same questions: what the tiles are (format, zoom range, bounds,
attribution, vector layers) and the bytes of one tile as stored (possibly gzip-compressed,
which the router hands on with ``Content-Encoding``).
"""

from __future__ import annotations

import gzip
import json
import sqlite3
import struct
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from geo.mercator import tile_lonlat_bounds

# The tile formats a basemap may hold, by the extension its tiles are served under.
MEDIA_TYPES = {
    "png": "image/png",
    "jpg": "image/jpeg",
    "webp": "image/webp",
    "pbf": "application/x-protobuf",
}
RASTER = frozenset({"png", "jpg", "webp"})
_FORMAT_NAMES = {
    "png": "png",
    "jpg": "jpg",
    "jpeg": "jpg",
    "webp": "webp",
    "pbf": "pbf",
    "mvt": "pbf",
}
WORLD = (-180.0, -85.0511, 180.0, 85.0511)


class ArchiveError(ValueError):
    """The file is not a tile archive this service can serve; the message says why."""


@dataclass(frozen=True)
class TileSetInfo:
    format: str  # one of MEDIA_TYPES
    minzoom: int
    maxzoom: int
    bounds: tuple[float, float, float, float]
    center: tuple[float, float, int] | None
    name: str = ""
    attribution: str = ""
    vector_layers: list[dict[str, Any]] = field(default_factory=list)

    @property
    def raster(self) -> bool:
        return self.format in RASTER


class TileArchive(Protocol):
    info: TileSetInfo

    def tile(self, z: int, x: int, y: int) -> bytes | None: ...

    def close(self) -> None: ...


def _format(name: str) -> str:
    fmt = _FORMAT_NAMES.get(name.strip().lower())
    if fmt is None:
        raise ArchiveError(f"tile format {name!r} is not one of png, jpg, webp or pbf")
    return fmt


def _sniff(data: bytes) -> str | None:
    """The format of one tile from its first bytes (for files whose metadata does not say)."""
    if data.startswith(b"\x89PNG"):
        return "png"
    if data.startswith(b"\xff\xd8"):
        return "jpg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data.startswith(b"\x1f\x8b") or data[:1] == b"\x1a":
        return "pbf"  # gzip-compressed or a protobuf field 3 (layers)
    return None


def _bounds(value: Any) -> tuple[float, float, float, float]:
    try:
        parts = [float(v) for v in (value.split(",") if isinstance(value, str) else value)]
    except (TypeError, ValueError, AttributeError):
        return WORLD
    if len(parts) != 4 or not (parts[0] < parts[2] and parts[1] < parts[3]):
        return WORLD
    return (parts[0], parts[1], parts[2], parts[3])


# --- MBTiles ----------------------------------------------------------------------------------


class MBTiles:
    """An MBTiles file, opened read-only. Rows are in TMS order (y counted from the south)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        # One connection per thread: the routes run in a thread pool.
        self._local = threading.local()
        try:
            meta = dict(self._db().execute("SELECT name, value FROM metadata").fetchall())
            zooms = self._db().execute("SELECT min(zoom_level), max(zoom_level) FROM tiles")
            zmin, zmax = zooms.fetchone()
            first = self._db().execute("SELECT tile_data FROM tiles LIMIT 1").fetchone()
        except sqlite3.DatabaseError as exc:
            raise ArchiveError(f"{path.name} is not an MBTiles file ({exc})") from exc
        if zmin is None or first is None:
            raise ArchiveError(f"{path.name} holds no tiles")
        fmt = meta.get("format") or _sniff(bytes(first[0])) or ""
        layers: list[dict[str, Any]] = []
        if meta.get("json"):
            try:
                layers = list(json.loads(meta["json"]).get("vector_layers") or [])
            except (ValueError, AttributeError):
                layers = []
        center = None
        try:
            lon, lat, zoom = (float(v) for v in str(meta["center"]).split(","))
            center = (lon, lat, int(zoom))
        except (KeyError, ValueError):
            pass
        bounds = _bounds(meta.get("bounds"))
        if bounds == WORLD:
            # No bounds said: those of the tiles at the deepest zoom.
            x0, x1, r0, r1 = (
                self._db()
                .execute(
                    "SELECT min(tile_column), max(tile_column), min(tile_row), max(tile_row) "
                    "FROM tiles WHERE zoom_level = ?",
                    (zmax,),
                )
                .fetchone()
            )
            top = (1 << zmax) - 1
            west, _, _, north = tile_lonlat_bounds(zmax, x0, top - r1)
            _, south, east, _ = tile_lonlat_bounds(zmax, x1, top - r0)
            bounds = (west, south, east, north)
        self.info = TileSetInfo(
            format=_format(fmt),
            minzoom=int(meta.get("minzoom", zmin)),
            maxzoom=int(meta.get("maxzoom", zmax)),
            bounds=bounds,
            center=center,
            name=str(meta.get("name", "")),
            attribution=str(meta.get("attribution", "")),
            vector_layers=layers,
        )

    def _db(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            uri = f"{self.path.resolve().as_uri()}?mode=ro&immutable=1"
            db = self._local.db = sqlite3.connect(uri, uri=True, check_same_thread=False)
        return db

    def tile(self, z: int, x: int, y: int) -> bytes | None:
        row = (
            self._db()
            .execute(
                "SELECT tile_data FROM tiles WHERE zoom_level = ? AND tile_column = ? AND tile_row = ?",
                (z, x, (1 << z) - 1 - y),
            )
            .fetchone()
        )
        return bytes(row[0]) if row else None

    def close(self) -> None:
        db = getattr(self._local, "db", None)
        if db is not None:
            db.close()


# --- PMTiles v3 -------------------------------------------------------------------------------

PMTILES_MAGIC = b"PMTiles"
HEADER_SIZE = 127
# Header: seven pairs of offsets and lengths and counts, flags, zooms, bounds, centre.
_HEADER = struct.Struct("<7s B 11Q B B B B B B i i i i B i i")
# Compression codes of the spec; only what the standard library can undo is served.
_NONE, _GZIP = 1, 2
_TILE_TYPES = {1: "pbf", 2: "png", 3: "jpg", 4: "webp"}
_MAX_DEPTH = 4  # root and at most three levels of leaves


def zxy_to_tile_id(z: int, x: int, y: int) -> int:
    """The tile's position on the series of Hilbert curves, one per zoom level from 0."""
    n = 1 << z
    if not (0 <= x < n and 0 <= y < n):
        raise ValueError("tile outside its zoom level")
    d = 0
    s = n >> 1
    while s:
        rx = 1 if x & s else 0
        ry = 1 if y & s else 0
        d += s * s * ((3 * rx) ^ ry)
        if ry == 0:
            if rx == 1:
                x, y = n - 1 - x, n - 1 - y
            x, y = y, x
        s >>= 1
    return ((1 << (2 * z)) - 1) // 3 + d


@dataclass(frozen=True)
class Entry:
    tile_id: int
    offset: int
    length: int
    run_length: int  # 0: a leaf directory, not a tile


def read_varint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if pos >= len(data) or shift > 63:
            raise ArchiveError("a PMTiles directory ends inside a number")
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
        shift += 7


def parse_directory(data: bytes) -> list[Entry]:
    """A directory: the count, then columns of tile-id deltas, run lengths, lengths, offsets
    (0: just after the previous entry, else offset + 1)."""
    count, pos = read_varint(data, 0)
    columns: list[list[int]] = []
    for _ in range(4):
        column = []
        for _ in range(count):
            value, pos = read_varint(data, pos)
            column.append(value)
        columns.append(column)
    deltas, runs, lengths, offsets = columns
    entries: list[Entry] = []
    tile_id = 0
    for i in range(count):
        tile_id += deltas[i]
        if offsets[i] == 0 and i > 0:
            offset = entries[-1].offset + entries[-1].length
        else:
            offset = offsets[i] - 1
        entries.append(Entry(tile_id, offset, lengths[i], runs[i]))
    return entries


def find_entry(entries: list[Entry], tile_id: int) -> Entry | None:
    """The entry covering ``tile_id``: a tile (within its run) or the leaf that may hold it."""
    lo, hi = 0, len(entries) - 1
    while lo <= hi:
        mid = (lo + hi) // 2
        if entries[mid].tile_id < tile_id:
            lo = mid + 1
        elif entries[mid].tile_id > tile_id:
            hi = mid - 1
        else:
            return entries[mid]
    if hi >= 0:
        e = entries[hi]
        if e.run_length == 0 or tile_id - e.tile_id < e.run_length:
            return e
    return None


class PMTiles:
    """A PMTiles v3 file. Directories are read (and decompressed) when first needed, and kept."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._file: BinaryIO = path.open("rb")
        self._leaves: dict[tuple[int, int], list[Entry]] = {}
        try:
            head = self._file.read(HEADER_SIZE)
            if len(head) < HEADER_SIZE or not head.startswith(PMTILES_MAGIC):
                raise ArchiveError(f"{path.name} is not a PMTiles file")
            (_, version, root_off, root_len, meta_off, meta_len, leaf_off, _leaf_len,
             data_off, _data_len, _addressed, _entries, _contents, _clustered,
             self.internal, self.compression, tile_type, minzoom, maxzoom,
             w, s, e, n, czoom, clon, clat) = _HEADER.unpack(head)  # fmt: skip
            if version != 3:
                raise ArchiveError(f"{path.name} is PMTiles version {version}; version 3 is read")
            if self.internal not in (_NONE, _GZIP) or self.compression not in (0, _NONE, _GZIP):
                raise ArchiveError(
                    f"{path.name} is compressed with other than gzip; convert it with "
                    "`pmtiles convert` or make it again with gzip"
                )
            self.leaf_offset = leaf_off
            self.data_offset = data_off
            self.root = parse_directory(self._section(root_off, root_len))
            meta: dict[str, Any] = {}
            if meta_len:
                try:
                    meta = dict(json.loads(self._section(meta_off, meta_len) or b"{}"))
                except (ValueError, TypeError):
                    meta = {}
            fmt = _TILE_TYPES.get(tile_type) or _format(str(meta.get("format", "")))

            def deg(v: int) -> float:
                return v / 10_000_000

            bounds = _bounds((deg(w), deg(s), deg(e), deg(n)))
            self.info = TileSetInfo(
                format=fmt,
                minzoom=minzoom,
                maxzoom=maxzoom,
                bounds=bounds,
                center=(deg(clon), deg(clat), czoom) if bounds != WORLD else None,
                name=str(meta.get("name", "")),
                attribution=str(meta.get("attribution", "")),
                vector_layers=list(meta.get("vector_layers") or []),
            )
        except (struct.error, OSError, EOFError) as exc:
            self._file.close()
            raise ArchiveError(f"{path.name} is not a readable PMTiles file ({exc})") from exc
        except ArchiveError:
            self._file.close()
            raise

    def _read(self, offset: int, length: int) -> bytes:
        with self._lock:
            self._file.seek(offset)
            data = self._file.read(length)
        if len(data) != length:
            raise ArchiveError(f"{self.path.name} is cut short")
        return data

    def _section(self, offset: int, length: int) -> bytes:
        data = self._read(offset, length)
        return gzip.decompress(data) if self.internal == _GZIP else data

    def tile(self, z: int, x: int, y: int) -> bytes | None:
        try:
            tile_id = zxy_to_tile_id(z, x, y)
        except ValueError:
            return None
        entries = self.root
        for depth in range(_MAX_DEPTH):
            entry = find_entry(entries, tile_id)
            if entry is None:
                return None
            if entry.run_length > 0:
                return self._read(self.data_offset + entry.offset, entry.length)
            key = (entry.offset, entry.length)
            if key not in self._leaves:
                self._leaves[key] = parse_directory(
                    self._section(self.leaf_offset + entry.offset, entry.length)
                )
            entries = self._leaves[key]
            if depth == _MAX_DEPTH - 1:
                break
        return None

    def close(self) -> None:
        self._file.close()


def open_archive(path: Path) -> TileArchive:
    """The archive at ``path``, by its first bytes (not its name)."""
    with path.open("rb") as f:
        head = f.read(16)
    if head.startswith(PMTILES_MAGIC):
        return PMTiles(path)
    if head.startswith(b"SQLite format 3"):
        return MBTiles(path)
    raise ArchiveError(f"{path.name} is neither an MBTiles nor a PMTiles file")


def decompressed(data: bytes) -> bytes:
    """A tile as the client wants it when it did not offer gzip."""
    return gzip.decompress(data) if data.startswith(b"\x1f\x8b") else data


def write_mbtiles(
    path: Path, tiles: dict[tuple[int, int, int], bytes], metadata: dict[str, str]
) -> None:
    """An MBTiles file of ``tiles`` keyed by XYZ (z, x, y), replacing ``path``."""
    path.unlink(missing_ok=True)
    db = sqlite3.connect(path)
    try:
        db.executescript(
            "CREATE TABLE metadata (name TEXT, value TEXT);"
            "CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER,"
            " tile_data BLOB);"
            "CREATE UNIQUE INDEX tile_index ON tiles (zoom_level, tile_column, tile_row);"
        )
        db.executemany("INSERT INTO metadata VALUES (?, ?)", sorted(metadata.items()))
        db.executemany(
            "INSERT INTO tiles VALUES (?, ?, ?, ?)",
            [(z, x, (1 << z) - 1 - y, data) for (z, x, y), data in sorted(tiles.items())],
        )
        db.commit()
    finally:
        db.close()
