"""Small tile archives made by the tests themselves: MBTiles through SQLite, PMTiles v3 by a
minimal writer of the spec (header, gzip-compressed directories, optional leaf directories,
run-length entries), and tiles that a screenshot can tell from a plain background."""

from __future__ import annotations

import gzip
import io
import json
import sqlite3
import struct
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path

from PIL import Image, ImageDraw

from api.outputs.basemap.archive import zxy_to_tile_id
from geo.mercator import tiles_covering

# Sandnes sentrum, where the test worlds are.
SANDNES = (5.720, 58.840, 5.760, 58.860)
STRIPES = ((214, 40, 40), (40, 90, 214))


# Cached: drawing and compressing a tile is 3 ms, and each browser module and backend asks
# for the same few hundred again.
@cache
def striped_png(z: int, x: int, y: int) -> bytes:
    """A tile of thick diagonal stripes in two strong colours, nothing like a background."""
    img = Image.new("RGB", (256, 256), STRIPES[0])
    draw = ImageDraw.Draw(img)
    for k in range(-256, 512, 64):
        draw.polygon([(k, 0), (k + 32, 0), (k + 32 + 256, 256), (k + 256, 256)], fill=STRIPES[1])
    draw.text((8, 8), f"{z}/{x}/{y}", fill=(255, 255, 255))
    out = io.BytesIO()
    img.save(out, format="PNG")
    return out.getvalue()


def area_tiles(
    zooms: Iterable[int] = range(10, 17), bbox: tuple[float, float, float, float] = SANDNES
) -> dict[tuple[int, int, int], bytes]:
    return {(z, x, y): striped_png(z, x, y) for z in zooms for (_, x, y) in tiles_covering(bbox, z)}


def make_mbtiles(
    path: Path,
    tiles: Mapping[tuple[int, int, int], bytes],
    *,
    fmt: str | None = "png",
    metadata: Mapping[str, str] | None = None,
) -> Path:
    """An MBTiles file (TMS rows) of ``tiles`` keyed by XYZ."""
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE metadata (name TEXT, value TEXT)")
    db.execute(
        "CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, "
        "tile_data BLOB)"
    )
    meta = {"name": "test", "attribution": "© Test Kart", **(metadata or {})}
    if fmt:
        meta["format"] = fmt
    db.executemany("INSERT INTO metadata VALUES (?, ?)", list(meta.items()))
    db.executemany(
        "INSERT INTO tiles VALUES (?, ?, ?, ?)",
        [(z, x, (1 << z) - 1 - y, data) for (z, x, y), data in tiles.items()],
    )
    db.commit()
    db.close()
    return path


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _directory(entries: list[tuple[int, int, int, int]]) -> bytes:
    """(tile_id, offset, length, run_length) entries, serialised as the spec says."""
    out = bytearray(_varint(len(entries)))
    last = 0
    for tile_id, *_ in entries:
        out += _varint(tile_id - last)
        last = tile_id
    for *_, run in entries:
        out += _varint(run)
    for _, _, length, _ in entries:
        out += _varint(length)
    for i, (_, offset, _, _) in enumerate(entries):
        previous = entries[i - 1] if i else None
        contiguous = previous is not None and offset == previous[1] + previous[2]
        out += _varint(0 if contiguous else offset + 1)
    return gzip.compress(bytes(out))


def make_pmtiles(
    path: Path,
    tiles: Mapping[tuple[int, int, int], bytes],
    *,
    tile_type: int = 2,  # 1 MVT, 2 PNG, 3 JPEG, 4 WebP
    tile_compression: int = 1,  # 1 none, 2 gzip
    leaf_size: int | None = None,
    metadata: Mapping[str, object] | None = None,
    bounds: tuple[float, float, float, float] = SANDNES,
) -> Path:
    """A PMTiles v3 archive. Identical consecutive tiles share one entry (a run); with
    ``leaf_size`` the entries go into leaf directories of that many, under a root of leaves."""
    by_id = sorted((zxy_to_tile_id(z, x, y), data) for (z, x, y), data in tiles.items())
    data_section = bytearray()
    entries: list[tuple[int, int, int, int]] = []
    stored: dict[bytes, int] = {}
    for tile_id, data in by_id:
        last = entries[-1] if entries else None
        if (
            last is not None
            and tile_id == last[0] + last[3]
            and data_section[last[1] : last[1] + last[2]] == data
        ):
            entries[-1] = (last[0], last[1], last[2], last[3] + 1)
            continue
        if data not in stored:  # identical tiles are stored once
            stored[data] = len(data_section)
            data_section += data
        entries.append((tile_id, stored[data], len(data), 1))
    leaves = b""
    if leaf_size:
        root_entries = []
        for start in range(0, len(entries), leaf_size):
            chunk = _directory(entries[start : start + leaf_size])
            root_entries.append((entries[start][0], len(leaves), len(chunk), 0))
            leaves += chunk
        root = _directory(root_entries)
    else:
        root = _directory(entries)
    meta = gzip.compress(json.dumps({"name": "test", "attribution": "© Test Kart",
                                     **(metadata or {})}).encode())  # fmt: skip
    zooms = [z for z, _, _ in tiles]
    root_off = 127
    meta_off = root_off + len(root)
    leaf_off = meta_off + len(meta)
    data_off = leaf_off + len(leaves)
    e7 = [round(v * 10_000_000) for v in bounds]
    header = struct.pack(
        "<7sB11QBBBBBBiiiiBii",
        b"PMTiles", 3,
        root_off, len(root), meta_off, len(meta), leaf_off, len(leaves),
        data_off, len(data_section), len(tiles), len(entries), len(stored),
        1, 2, tile_compression, tile_type, min(zooms), max(zooms),
        *e7, max(zooms),
        (e7[0] + e7[2]) // 2, (e7[1] + e7[3]) // 2,
    )  # fmt: skip
    assert len(header) == 127
    path.write_bytes(header + root + meta + leaves + bytes(data_section))
    return path
