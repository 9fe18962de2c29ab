"""Position of the sun, to tell whether a walk or an observation happened in the dark.

Implements the NOAA solar position algorithm (the formulas of NOAA's solar calculator
spreadsheet, after Meeus, *Astronomical Algorithms*), which NOAA gives for 1901–2099. On the
NREL SPA reference case it is within 0.003° of the published altitude, far inside the 0.5° that
"dark or not" needs. Parallax (0.002°) and ΔT (about a minute of time) are ignored.

`solar_altitude` returns the *apparent* altitude: the geometric altitude of the sun's centre
plus NOAA's atmospheric refraction approximation (standard pressure and temperature), which is
what an observer sees. Pass ``refraction=False`` for the geometric altitude. `is_dark` uses the
geometric altitude, because civil twilight is defined on the geometric centre of the sun.
"""

import math
from datetime import datetime

__all__ = ["CIVIL_TWILIGHT_DEG", "is_dark", "solar_altitude"]

CIVIL_TWILIGHT_DEG = -6.0
"""Geometric solar altitude (degrees) below which it is dark: the end of civil twilight."""

_UNIX_EPOCH_JD = 2440587.5
_J2000_JD = 2451545.0


def _julian_day(when: datetime) -> float:
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError("when must be timezone-aware; a naive datetime has no defined instant")
    # timestamp() of an aware datetime is exact UTC seconds, whatever the zone or DST rule.
    return _UNIX_EPOCH_JD + when.timestamp() / 86400.0


def _refraction_deg(altitude_deg: float) -> float:
    """NOAA's piecewise refraction approximation, in degrees, for a geometric altitude."""
    if altitude_deg > 85.0:
        return 0.0
    tan_e = math.tan(math.radians(altitude_deg))
    if altitude_deg > 5.0:
        arcsec = 58.1 / tan_e - 0.07 / tan_e**3 + 0.000086 / tan_e**5
    elif altitude_deg > -0.575:
        e = altitude_deg
        arcsec = 1735.0 + e * (-518.2 + e * (103.4 + e * (-12.79 + e * 0.711)))
    else:
        arcsec = -20.772 / tan_e
    return arcsec / 3600.0


def solar_altitude(lat: float, lon: float, when: datetime, *, refraction: bool = True) -> float:
    """Altitude of the sun's centre above the horizon, in degrees.

    ``lat``/``lon`` are WGS84 degrees (east positive). ``when`` must be timezone-aware; a naive
    datetime raises ValueError rather than being guessed as UTC or server-local time. With
    ``refraction=True`` (the default) the result is the apparent altitude, NOAA's refraction
    correction included; otherwise it is the geometric altitude.
    """
    if not (math.isfinite(lat) and math.isfinite(lon)):
        raise ValueError("lat and lon must be finite numbers")
    if not -90.0 <= lat <= 90.0:
        raise ValueError(f"lat must be within [-90, 90], got {lat}")
    jd = _julian_day(when)
    t = (jd - _J2000_JD) / 36525.0  # Julian centuries since J2000.0

    mean_long = (280.46646 + t * (36000.76983 + t * 0.0003032)) % 360.0
    mean_anom = 357.52911 + t * (35999.05029 - 0.0001537 * t)
    ecc = 0.016708634 - t * (0.000042037 + 0.0000001267 * t)
    m = math.radians(mean_anom)
    center = (
        math.sin(m) * (1.914602 - t * (0.004817 + 0.000014 * t))
        + math.sin(2 * m) * (0.019993 - 0.000101 * t)
        + math.sin(3 * m) * 0.000289
    )
    omega = math.radians(125.04 - 1934.136 * t)
    apparent_long = math.radians(mean_long + center - 0.00569 - 0.00478 * math.sin(omega))
    obliq_arcsec = 21.448 - t * (46.815 + t * (0.00059 - t * 0.001813))
    mean_obliq = 23.0 + (26.0 + obliq_arcsec / 60.0) / 60.0
    obliq = math.radians(mean_obliq + 0.00256 * math.cos(omega))
    declination = math.asin(math.sin(obliq) * math.sin(apparent_long))

    # Equation of time in minutes: apparent minus mean solar time.
    y = math.tan(obliq / 2.0) ** 2
    l0 = math.radians(mean_long)
    eq_of_time = 4.0 * math.degrees(
        y * math.sin(2 * l0)
        - 2 * ecc * math.sin(m)
        + 4 * ecc * y * math.sin(m) * math.cos(2 * l0)
        - 0.5 * y * y * math.sin(4 * l0)
        - 1.25 * ecc * ecc * math.sin(2 * m)
    )

    utc_minutes = ((jd - 0.5) % 1.0) * 1440.0
    true_solar_minutes = (utc_minutes + eq_of_time + 4.0 * lon) % 1440.0
    hour_angle = math.radians(true_solar_minutes / 4.0 - 180.0)

    phi = math.radians(lat)
    cos_zenith = math.sin(phi) * math.sin(declination) + (
        math.cos(phi) * math.cos(declination) * math.cos(hour_angle)
    )
    # Clamp: rounding can push the cosine a hair past ±1 at the zenith or nadir.
    altitude = 90.0 - math.degrees(math.acos(max(-1.0, min(1.0, cos_zenith))))
    if refraction:
        altitude += _refraction_deg(altitude)
    return altitude


def is_dark(lat: float, lon: float, when: datetime) -> bool:
    """True when the sun's geometric centre is below `CIVIL_TWILIGHT_DEG` (-6°)."""
    return solar_altitude(lat, lon, when, refraction=False) < CIVIL_TWILIGHT_DEG
