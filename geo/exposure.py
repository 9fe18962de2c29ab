"""Light from a photo's exposure: EV at ISO 100 and the illuminance an incident meter with the
same reading would report.

EV100 = log2(N²/t) − log2(S/100), for f-number N, exposure time t (s) and ISO S. An incident
meter's calibration constant C = 250 (lx·s) gives E = 2.5 · 2^EV100 lux. A phone camera meters
reflected light and its auto exposure aims at mid-grey, so the figure is a rough estimate of the
light falling on the scene (docs/street-lights.md says what it can and cannot tell).
"""

from __future__ import annotations

import math

__all__ = ["LIGHTING_CLASSES", "ev100", "lux_from_ev100"]

# NS-EN 13201-2 P classes: the maintained average horizontal illuminance (lux) of each.
LIGHTING_CLASSES: dict[str, float] = {
    "P1": 15.0,
    "P2": 10.0,
    "P3": 7.5,
    "P4": 5.0,
    "P5": 3.0,
    "P6": 2.0,
}

# Outside these the EXIF values are garbage, not a night street (1/100000 s … 30 min; f/0.5 …
# f/128; ISO 1 … 10 000 000).
_TIME_S = (1e-5, 1800.0)
_F_NUMBER = (0.5, 128.0)
_ISO = (1.0, 1e7)


def _within(value: float | None, bounds: tuple[float, float]) -> bool:
    return value is not None and math.isfinite(value) and bounds[0] <= value <= bounds[1]


def ev100(exposure_time_s: float | None, f_number: float | None, iso: float | None) -> float | None:
    """EV at ISO 100 of an exposure, or None where a value is missing or implausible."""
    if exposure_time_s is None or f_number is None or iso is None:
        return None
    if not (
        _within(exposure_time_s, _TIME_S) and _within(f_number, _F_NUMBER) and _within(iso, _ISO)
    ):
        return None
    return math.log2(f_number**2 / exposure_time_s) - math.log2(iso / 100.0)


def lux_from_ev100(ev: float) -> float:
    """Illuminance (lux) of EV100 by the incident-meter calibration C = 250."""
    return float(2.5 * 2.0**ev)
