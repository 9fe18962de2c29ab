"""The action list as a GeoPackage for QGIS and ArcGIS: layers ``observations``,
``action_items`` and ``areas``, EPSG:4326, typed fields (integers, reals, dates, booleans) and
datetimes written as UTC (GDAL's time zone flag 100), written by pyogrio.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyogrio.raw
from shapely import to_wkb
from shapely.geometry import MultiPolygon, Point
from shapely.geometry.base import BaseGeometry

from api.action_items import features as item_features
from api.core.features import Property
from api.observations import features as observation_features
from api.outputs.exports.data import Listing

GDAL_UTC = 100  # OGR's time zone flag for GMT/UTC
# GeoPackage 1.2, which every GDAL since 2.2 (QGIS 3, ArcGIS Pro) reads without a word: GDAL
# before 3.7 warns that a 1.4 file "may only be partially supported", and in 1.2 GDAL writes
# every datetime with milliseconds, as the specification's DATETIME format requires (a
# whole-second "...:02Z" is read with a "non-conformant content" warning).
GPKG_VERSION = "1.2"


def _utc_ms(values: Sequence[datetime | None]) -> np.ndarray[Any, Any]:
    return np.array(
        [
            np.datetime64(v.astimezone(UTC).replace(tzinfo=None), "ms")
            if v is not None
            else np.datetime64("NaT", "ms")
            for v in values
        ],
        dtype="datetime64[ms]",
    )


def _days(values: Sequence[date | None]) -> np.ndarray[Any, Any]:
    return np.array(
        [np.datetime64(v, "D") if v is not None else np.datetime64("NaT", "D") for v in values],
        dtype="datetime64[D]",
    )


def _text(values: Sequence[str | None]) -> np.ndarray[Any, Any]:
    return np.array(list(values), dtype=object)


def _ints(values: Sequence[int | None]) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    data = np.array([v if v is not None else 0 for v in values], dtype=np.int32)
    mask = np.array([v is None for v in values], dtype=bool)
    return data, mask


class _Layer:
    def __init__(self, name: str, geometry_type: str) -> None:
        self.name = name
        self.geometry_type = geometry_type
        self.fields: list[str] = []
        self.data: list[np.ndarray[Any, Any]] = []
        self.masks: list[np.ndarray[Any, Any] | None] = []
        self.tz: dict[str, np.ndarray[Any, Any]] = {}

    def add(
        self, name: str, data: np.ndarray[Any, Any], mask: np.ndarray[Any, Any] | None = None
    ) -> None:
        self.fields.append(name)
        self.data.append(data)
        self.masks.append(mask)

    def add_utc(self, name: str, values: Sequence[datetime | None]) -> None:
        self.add(name, _utc_ms(values))
        self.tz[name] = np.full(len(values), GDAL_UTC, dtype=np.int32)

    def add_properties(self, props: Sequence[Property], rows: Sequence[Any]) -> None:
        """The domain's feature properties (``features.py``), typed as its queryables are."""
        for p in props:
            values = [getattr(r, p.name) for r in rows]
            if p.type == "timestamp":
                self.add_utc(p.name, values)
            elif p.type == "date":
                self.add(p.name, _days(values))
            elif p.type == "integer":
                self.add(p.name, *_ints(values))
            elif p.type == "number":
                self.add(p.name, np.array(values, dtype=np.float64))
            elif p.type == "boolean":
                nulls = np.array([v is None for v in values], dtype=bool)
                self.add(p.name, np.array([bool(v) for v in values], dtype=bool), nulls)
            else:
                self.add(p.name, _text([str(v) if v is not None else None for v in values]))

    def write(self, path: Path, geometries: list[BaseGeometry]) -> None:
        append = path.exists()
        masks = self.masks if any(m is not None for m in self.masks) else None
        if masks is not None:
            masks = [m if m is not None else np.zeros(len(geometries), dtype=bool) for m in masks]
        pyogrio.raw.write(
            str(path),
            np.array([to_wkb(g) for g in geometries], dtype=object),
            self.data,
            self.fields,
            field_mask=masks,
            layer=self.name,
            driver="GPKG",
            geometry_type=self.geometry_type,
            crs="EPSG:4326",
            encoding="UTF-8",
            append=append,
            gdal_tz_offsets=self.tz,
            # Dataset options only apply when the file is created (the first layer).
            dataset_options=None if append else {"VERSION": GPKG_VERSION},
        )


def _multi(geom: BaseGeometry) -> BaseGeometry:
    return MultiPolygon([geom]) if geom.geom_type == "Polygon" else geom


def action_list_gpkg(listing: Listing) -> bytes:
    with tempfile.TemporaryDirectory(prefix="safewalk-gpkg-") as tmp:
        path = Path(tmp) / "export.gpkg"

        obs = [o for o in listing.observations if o.lon is not None and o.lat is not None]
        layer = _Layer("observations", "Point")
        nrs, _ = _ints([o.nr for o in obs])
        layer.add("nr", nrs)
        layer.add("id", _text([str(o.id) for o in obs]))
        layer.add_properties(observation_features.properties(), obs)
        layer.add("category_label", _text([o.category_label for o in obs]))
        layer.add("action_item_nr", *_ints([o.item_nr for o in obs]))
        layer.write(path, [Point(o.lon, o.lat) for o in obs])

        items = listing.items
        layer = _Layer("action_items", "Point")
        layer.add("nr", _ints([i.nr for i in items])[0])
        layer.add("id", _text([str(i.id) for i in items]))
        layer.add_properties(item_features.properties(), items)
        layer.add("category_label", _text([i.category_label for i in items]))
        layer.add("area", _text([i.area_name for i in items]))
        layer.add("observations", _ints([i.observation_count for i in items])[0])
        layer.add("notes", _text(["\n".join(i.notes) or None for i in items]))
        layer.add("status_label", _text([i.status_label for i in items]))
        layer.add("comment", _text([i.comment for i in items]))
        layer.add_utc("updated_at", [i.updated_at for i in items])
        layer.add_utc("resolved_at", [i.resolved_at for i in items])
        layer.write(path, [Point(i.lon, i.lat) for i in items])

        layer = _Layer("areas", "MultiPolygon")
        areas = (
            [listing.area] if listing.area is not None and listing.area_geometry is not None else []
        )
        layer.add("id", _text([str(a.id) for a in areas]))
        layer.add("name", _text([a.name for a in areas]))
        layer.add("code", _text([a.code for a in areas]))
        layer.add("kind", _text([str(a.kind) for a in areas]))
        geoms = (
            [_multi(listing.area_geometry)] if areas and listing.area_geometry is not None else []
        )
        layer.write(path, geoms)
        return path.read_bytes()
