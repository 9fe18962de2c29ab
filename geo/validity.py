"""Why GEOS finds a geometry invalid, as a code and a position.

GEOS explains an invalid polygon in English, with the position where it found the fault
("Self-intersection[5.735 58.855]"). Every output words the code in the reader's language,
with the position as a number of that language; a reason this table does not know keeps
GEOS's own words, shown as a technical detail.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from shapely.geometry.base import BaseGeometry
from shapely.validation import explain_validity

# GEOS's reasons (IsValidOp's TopologyValidationError) -> the code the catalogues word.
REASONS: dict[str, str] = {
    "Self-intersection": "self_intersection",
    "Ring Self-intersection": "ring_self_intersection",
    "Too few points in geometry component": "too_few_points",
    "Too few distinct points in geometry component": "too_few_points",
    "Hole lies outside shell": "hole_outside_shell",
    "Holes are nested": "nested_holes",
    "Interior is disconnected": "disconnected_interior",
    "Nested shells": "nested_shells",
    "Duplicate Rings": "duplicate_rings",
}
CODES = frozenset(REASONS.values())
_REASON = re.compile(
    r"^\s*(?P<what>[^\[]*?)\s*(?:\[(?P<x>[^\s\]]+)\s+(?P<y>[^\s\]]+)[^\]]*\])?\s*$"
)


@dataclass(frozen=True)
class Invalidity:
    """A fault GEOS found, where it found it. ``code`` (and the position) is None for a reason
    this module does not know or one without a position: then only GEOS's ``reason`` is left.
    ``key`` and ``params`` name the message in the server's catalogues (``error.geos.<code>``,
    or ``error.geos.unknown`` with the reason as a technical detail), as a ``GeometryError``
    does."""

    reason: str
    code: str | None = None
    lon: float | None = None
    lat: float | None = None
    params: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def key(self) -> str:
        return f"error.geos.{self.code or 'unknown'}"


def _number(text: str | None) -> float | None:
    try:
        value = float(text) if text is not None else None
    except ValueError:
        return None
    return value if value is not None and math.isfinite(value) else None


def parse_reason(reason: str) -> Invalidity:
    """GEOS's ``explain_validity`` text as a code and a position."""
    m = _REASON.match(reason)
    code = REASONS.get(m["what"]) if m else None
    lon, lat = (_number(m["x"]), _number(m["y"])) if m else (None, None)
    if code is None or lon is None or lat is None:
        return Invalidity(reason=reason, params={"reason": reason})
    return Invalidity(reason=reason, code=code, lon=lon, lat=lat, params={"lon": lon, "lat": lat})


def explain(geom: BaseGeometry) -> Invalidity | None:
    """Why ``geom`` is invalid, or None when it is valid."""
    if geom.is_valid:
        return None
    return parse_reason(explain_validity(geom))
