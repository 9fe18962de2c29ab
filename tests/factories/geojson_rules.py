"""An RFC 7946 validator for the feeds: the rules QGIS, GDAL and web maps rely on."""

from __future__ import annotations

import json
import math
from typing import Any

from shapely.geometry import LinearRing

GEOMETRY_TYPES = {"Point", "LineString", "Polygon", "MultiPoint", "MultiLineString", "MultiPolygon"}


def _decimals(x: float) -> int:
    text = repr(float(x))
    if "e" in text or "E" in text:
        return 0 if abs(x) >= 1 else 99
    return len(text.split(".")[1].rstrip("0")) if "." in text else 0


def _position(p: Any, where: str) -> list[str]:
    errors = []
    if (
        not isinstance(p, list)
        or len(p) not in (2, 3)
        or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in p)
    ):
        return [f"{where}: a position is [lon, lat]"]
    lon, lat = p[0], p[1]
    if not (math.isfinite(lon) and math.isfinite(lat)):
        errors.append(f"{where}: not finite")
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        errors.append(f"{where}: [{lon}, {lat}] is not lon/lat in range (axis order?)")
    if _decimals(lon) > 6 or _decimals(lat) > 6:
        errors.append(f"{where}: more than 6 decimals")
    return errors


def _ring(ring: Any, where: str, exterior: bool) -> list[str]:
    if not isinstance(ring, list) or len(ring) < 4:
        return [f"{where}: a ring needs 4 or more positions"]
    errors = [e for i, p in enumerate(ring) for e in _position(p, f"{where}[{i}]")]
    if errors:
        return errors
    if ring[0] != ring[-1]:
        errors.append(f"{where}: ring not closed")
    ccw = LinearRing([tuple(p[:2]) for p in ring]).is_ccw
    if exterior and not ccw:
        errors.append(f"{where}: exterior ring must be counter-clockwise")
    if not exterior and ccw:
        errors.append(f"{where}: hole must be clockwise")
    return errors


def geometry_errors(g: Any, where: str = "geometry") -> list[str]:
    if g is None:
        return []
    if not isinstance(g, dict) or g.get("type") not in GEOMETRY_TYPES:
        return [f"{where}: unknown geometry type"]
    c = g.get("coordinates")
    t = g["type"]
    if t == "Point":
        return _position(c, where)
    if t in ("LineString", "MultiPoint"):
        if not isinstance(c, list) or (t == "LineString" and len(c) < 2):
            return [f"{where}: too few positions"]
        return [e for i, p in enumerate(c) for e in _position(p, f"{where}[{i}]")]
    if t == "Polygon":
        return [e for i, r in enumerate(c) for e in _ring(r, f"{where}[{i}]", i == 0)]
    if t == "MultiPolygon":
        return [
            e
            for j, poly in enumerate(c)
            for i, r in enumerate(poly)
            for e in _ring(r, f"{where}[{j}][{i}]", i == 0)
        ]
    return []


def collection_errors(doc: Any) -> list[str]:
    """Every RFC 7946 rule our feeds promise that this document breaks (empty when valid)."""
    if isinstance(doc, bytes | str):
        doc = json.loads(doc)
    errors = []
    if doc.get("type") != "FeatureCollection":
        errors.append("type must be FeatureCollection")
    if "crs" in doc:
        errors.append("RFC 7946 has no crs member")
    feats = doc.get("features")
    if not isinstance(feats, list):
        return [*errors, "features must be an array"]
    for i, f in enumerate(feats):
        where = f"features[{i}]"
        if f.get("type") != "Feature":
            errors.append(f"{where}: type must be Feature")
        if "id" in f and not isinstance(f["id"], str):
            errors.append(f"{where}: id must be a string")
        if "crs" in f:
            errors.append(f"{where}: no crs member")
        if not isinstance(f.get("properties"), dict | None):
            errors.append(f"{where}: properties must be an object or null")
        errors += geometry_errors(f.get("geometry"), f"{where}.geometry")
    return errors
