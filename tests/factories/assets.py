"""Lamp registers for tests: the same lamps as GeoJSON, GeoPackage or CSV, in any CRS."""

from __future__ import annotations

import csv
import io
import json
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from pyproj import Transformer
from sqlalchemy.orm import Session

from api.core import spatial
from models import Asset, AssetOwner, AssetStatus, Organization
from models.assets import STREET_LIGHT

Lamp = tuple[str, float, float, str]  # (lamp number, lon, lat, owner text)


def projected(lamps: Sequence[Lamp], crs: str) -> list[tuple[str, float, float, str]]:
    """The lamps with their coordinates in ``crs`` (x/y, easting/northing)."""
    t = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    out = []
    for number, lon, lat, owner in lamps:
        x, y = t.transform(lon, lat)
        out.append((number, float(x), float(y), owner))
    return out


def geojson_file(lamps: Sequence[Lamp], crs: str | None = None) -> bytes:
    rows = projected(lamps, crs) if crs else list(lamps)
    doc: dict[str, Any] = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [x, y]},
                "properties": {"lampenummer": n, "eier": owner, "armatur": "LED 24W"},
            }
            for n, x, y, owner in rows
        ],
    }
    if crs:
        doc["crs"] = {"type": "name", "properties": {"name": crs}}
    return json.dumps(doc).encode()


def csv_file(lamps: Sequence[Lamp], crs: str | None = None, delimiter: str = ";") -> bytes:
    rows = projected(lamps, crs) if crs else list(lamps)
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter)
    writer.writerow(["lampenummer", "east" if crs else "lon", "north" if crs else "lat", "eier"])
    for n, x, y, owner in rows:
        writer.writerow(
            [n, f"{x:.3f}" if crs else f"{x:.7f}", f"{y:.3f}" if crs else f"{y:.7f}", owner]
        )
    return out.getvalue().encode()


def gpkg_file(lamps: Sequence[Lamp], crs: str = "EPSG:4326") -> bytes:
    import pyogrio

    rows = projected(lamps, crs)
    geometry = np.array([shapely.to_wkb(shapely.Point(x, y)) for _, x, y, _ in rows], dtype=object)
    fields = [
        np.array([n for n, *_ in rows], dtype=object),
        np.array([owner for *_, owner in rows], dtype=object),
    ]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "lamps.gpkg"
        pyogrio.raw.write(
            path, geometry, fields, fields=["lampenummer", "eier"], crs=crs, driver="GPKG",
            geometry_type="Point",
        )  # fmt: skip
        return path.read_bytes()


def make_lamp(
    session: Session,
    org: Organization,
    number: str,
    lon: float,
    lat: float,
    *,
    owner: AssetOwner = AssetOwner.municipality,
    owner_name: str | None = None,
    status: AssetStatus = AssetStatus.in_service,
    **kw: Any,
) -> Asset:
    asset = Asset(
        **kw,
        organization_id=org.id, kind=STREET_LIGHT, external_id=number, owner=owner,
        owner_name=owner_name, status=status, location=spatial.to_db(spatial.point(lon, lat)),
    )  # fmt: skip
    session.add(asset)
    session.flush()
    return asset
