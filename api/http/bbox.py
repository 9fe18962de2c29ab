"""The ``bbox`` query parameter of the API's lists and map feeds, in WGS 84 degrees."""

from __future__ import annotations

from api.core.errors import InvalidInput


def parse_bbox(bbox: str | None) -> tuple[float, float, float, float] | None:
    if bbox is None:
        return None
    try:
        parts = [float(p) for p in bbox.split(",")]
    except ValueError as exc:
        raise InvalidInput.at(["query", "bbox"], "error.bbox_format") from exc
    if len(parts) != 4 or any(p != p or p in (float("inf"), float("-inf")) for p in parts):
        raise InvalidInput.at(["query", "bbox"], "error.bbox_numbers")
    minx, miny, maxx, maxy = parts
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise InvalidInput.at(["query", "bbox"], "error.bbox_range")
    return minx, miny, maxx, maxy
