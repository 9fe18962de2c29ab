"""Which basemap a map gets, and the MapLibre style and TileJSON that describe it.

An imported file wins: the organization's (``--org``), else the service's own. Then the
remote source of ``SAFEWALK_BASEMAP_URL``. Else a plain background, marked ``none`` in the
style's metadata so the staff maps can say that no basemap is set up.

Files live under ``<data dir>/basemap/`` as ``<org slug>.mbtiles|pmtiles`` or
``default.mbtiles|pmtiles``. A basemap holds no organization data (it is the municipality's
street map), so its tiles are served to anyone, and shared caches may keep them.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from api.core.errors import NotFound
from api.outputs.basemap.archive import (
    MEDIA_TYPES,
    ArchiveError,
    TileArchive,
    TileSetInfo,
    open_archive,
)

DEFAULT = "default"
SUFFIXES = (".pmtiles", ".mbtiles")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
BACKGROUND = "#eef1f4"


class BasemapError(ValueError):
    """An import that cannot become a basemap; the message says why."""


@dataclass(frozen=True)
class Basemap:
    path: Path
    version: str  # changes whenever the file is replaced: part of every tile URL
    archive: TileArchive

    @property
    def info(self) -> TileSetInfo:
        return self.archive.info

    @property
    def owner(self) -> str | None:
        """The organization whose own file this is; None for the service's."""
        name = self.path.stem
        return None if name == DEFAULT else name


_open: dict[Path, Basemap] = {}
_open_lock = threading.Lock()


def basemap_dir(data_dir: Path) -> Path:
    return data_dir / "basemap"


def _name(org: str | None) -> str:
    if org is None:
        return DEFAULT
    if not _SLUG.match(org):
        raise NotFound(
            key="error.no_such_organization",
            errors=[{"loc": ["query", "org"], "key": "error.unknown_value"}],
        )
    return org


def _file(data_dir: Path, name: str) -> Path | None:
    for suffix in SUFFIXES:
        path = basemap_dir(data_dir) / f"{name}{suffix}"
        if path.is_file():
            return path
    return None


def _version(path: Path) -> str:
    stat = path.stat()
    key = f"{path.name}:{stat.st_size}:{stat.st_mtime_ns}:{stat.st_ino}"
    return hashlib.sha256(key.encode()).hexdigest()[:12]


def find(data_dir: Path, org: str | None) -> Basemap | None:
    """The imported basemap for ``org`` (falling back to the service's own), opened once and
    reopened when the file is replaced."""
    names = [_name(org), DEFAULT] if org else [DEFAULT]
    for name in names:
        path = _file(data_dir, name)
        if path is None:
            continue
        version = _version(path)
        with _open_lock:
            current = _open.get(path)
            if current is None or current.version != version:
                if current is not None:
                    current.archive.close()
                current = _open[path] = Basemap(path, version, open_archive(path))
        return current
    return None


def import_file(source: Path, data_dir: Path, org: str | None = None) -> tuple[Path, TileSetInfo]:
    """Check that ``source`` is a tile archive we can serve, then copy it into the data dir
    (atomically: a map being drawn never sees half a file)."""
    if not source.is_file():
        raise BasemapError(f"{source} is not a file")
    try:
        archive = open_archive(source)
    except (ArchiveError, OSError) as exc:
        raise BasemapError(str(exc)) from exc
    info = archive.info
    archive.close()
    with source.open("rb") as f:
        suffix = ".pmtiles" if f.read(7) == b"PMTiles" else ".mbtiles"
    name = _name(org)
    target_dir = basemap_dir(data_dir)
    target_dir.mkdir(parents=True, exist_ok=True)
    target = target_dir / f"{name}{suffix}"
    partial = target_dir / f".{name}{suffix}.partial"
    shutil.copyfile(source, partial)
    os.replace(partial, target)
    for other in SUFFIXES:
        if other != suffix:
            (target_dir / f"{name}{other}").unlink(missing_ok=True)
    return target, info


def tile(basemap: Basemap, z: int, x: int, y: int, ext: str) -> bytes | None:
    if ext != basemap.info.format or ext not in MEDIA_TYPES:
        raise NotFound(
            key="error.basemap_format",
            params={"format": basemap.info.format},
            loc=["path", "ext"],
        )
    if not (basemap.info.minzoom <= z <= basemap.info.maxzoom) or not (
        0 <= x < (1 << z) and 0 <= y < (1 << z)
    ):
        return None
    return basemap.archive.tile(z, x, y)


# --- the style every map starts from ---------------------------------------------------------


def tile_url(base: str, basemap: Basemap) -> str:
    """The file's tiles, under its version (and its organization, where it is one's own: the
    service's tiles have one URL for everybody, so caches share them)."""
    owner = f"org={basemap.owner}&" if basemap.owner else ""
    return f"{base}/basemap/{{z}}/{{x}}/{{y}}.{basemap.info.format}?{owner}v={basemap.version}"


def _tiles(base: str, basemap: Basemap) -> dict[str, Any]:
    """Where the file's tiles are and what they cover: a TileJSON's and a style source's."""
    info = basemap.info
    return {
        "tiles": [tile_url(base, basemap)],
        "minzoom": info.minzoom,
        "maxzoom": info.maxzoom,
        "bounds": list(info.bounds),
        "attribution": info.attribution,
    }


def tilejson(base: str, basemap: Basemap) -> dict[str, Any]:
    info = basemap.info
    out: dict[str, Any] = {
        "tilejson": "3.0.0",
        "name": info.name or "basemap",
        "scheme": "xyz",
        **_tiles(base, basemap),
    }
    if info.center:
        out["center"] = list(info.center)
    if not info.raster:
        out["vector_layers"] = info.vector_layers
    return out


# Vector layers are drawn by what their names suggest (the OpenMapTiles and Protomaps schemas,
# and Kartverket's N50 names), in quiet colours, so the walk's own layers stand out on top.
_FILLS = (
    (("water", "ocean", "lake", "hav", "innsjo"), "#b9d3e6"),
    (("park", "landcover", "landuse", "grass", "wood", "forest", "skog"), "#dcead2"),
    (("building", "bygning"), "#d9d0c7"),
)
_LINE_COLOUR = "#ffffff"
_LINE_CASING = "#b8b2a7"


def _fill_colour(layer: str) -> str:
    lower = layer.lower()
    for words, colour in _FILLS:
        if any(w in lower for w in words):
            return colour
    return "#e8e4dc"


def _vector_layers(layer_ids: list[str]) -> list[dict[str, Any]]:
    polygons = ["==", ["geometry-type"], "Polygon"]
    lines = ["==", ["geometry-type"], "LineString"]
    width = ["interpolate", ["linear"], ["zoom"], 12, 0.5, 16, 4, 18, 10]
    out: list[dict[str, Any]] = []
    for layer in layer_ids:
        common = {"source": "basemap", "source-layer": layer}
        out.append({"id": f"{layer}-fill", "type": "fill", **common, "filter": polygons,
                    "paint": {"fill-color": _fill_colour(layer)}})  # fmt: skip
    for layer in layer_ids:
        common = {"source": "basemap", "source-layer": layer}
        out.append({"id": f"{layer}-casing", "type": "line", **common, "filter": lines,
                    "paint": {"line-color": _LINE_CASING,
                              "line-width": ["+", 1, width]}})  # fmt: skip
    for layer in layer_ids:
        common = {"source": "basemap", "source-layer": layer}
        out.append({"id": f"{layer}-line", "type": "line", **common, "filter": lines,
                    "paint": {"line-color": _LINE_COLOUR, "line-width": width}})  # fmt: skip
    return out


def style(
    base: str,
    basemap: Basemap | None,
    *,
    remote_url: str = "",
    remote_attribution: str = "",
) -> dict[str, Any]:
    """A MapLibre style (version 8). A remote style URL is not wrapped: the router redirects."""
    layers: list[dict[str, Any]] = [
        {"id": "background", "type": "background", "paint": {"background-color": BACKGROUND}}
    ]
    sources: dict[str, Any] = {}
    if basemap is not None:
        info = basemap.info
        kind = "file"
        source = _tiles(base, basemap)
        if info.raster:
            sources["basemap"] = {"type": "raster", "tileSize": 256, **source}
            layers.append({"id": "basemap", "type": "raster", "source": "basemap"})
        else:
            sources["basemap"] = {"type": "vector", **source}
            ids = [str(v.get("id")) for v in info.vector_layers if v.get("id")]
            layers += _vector_layers(ids)
    elif remote_url:
        kind = "remote"
        sources["basemap"] = {
            "type": "raster",
            "tiles": [remote_url],
            "tileSize": 256,
            "attribution": remote_attribution,
        }
        layers.append({"id": "basemap", "type": "raster", "source": "basemap"})
    else:
        kind = "none"
    return {
        "version": 8,
        "name": "safewalk",
        "metadata": {"safewalk:basemap": kind},
        "sources": sources,
        "layers": layers,
    }


def is_style_url(url: str) -> bool:
    """A remote basemap is a raster XYZ template unless it names no ``{z}``: a style URL."""
    return bool(url) and "{z}" not in url
