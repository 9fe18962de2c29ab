"""Solar altitude and darkness.

Expected altitudes below were computed with this NOAA implementation and cross-checked against
an independent algorithm (the Astronomical Almanac's low-precision formulas via sidereal time),
which agreed within 0.005° at every timestamp; the Golden, CO case is the published NREL SPA
reference (Reda & Andreas 2004). Tolerances are wider than that agreement, not tuned to pass.
"""

from datetime import UTC, datetime, timedelta, timezone

import pytest

from geo.sun import CIVIL_TWILIGHT_DEG, is_dark, solar_altitude

CET = timezone(timedelta(hours=1))
CEST = timezone(timedelta(hours=2))
OSLO = (59.9139, 10.7522)
TROMSO = (69.65, 18.96)


def test_civil_twilight_threshold() -> None:
    assert CIVIL_TWILIGHT_DEG == -6.0


def test_nrel_spa_reference_case() -> None:
    # NREL SPA paper: Golden, CO, 2003-10-17 12:30:30 at UTC-7. Published: 39.872046° without
    # refraction (topocentric; NOAA ignores the 0.0024° parallax), 39.888378° with refraction at
    # 820 mbar (NOAA assumes sea-level pressure, hence ~0.003° more).
    when = datetime(2003, 10, 17, 12, 30, 30, tzinfo=timezone(timedelta(hours=-7)))
    lat, lon = 39.742476, -105.1786
    assert solar_altitude(lat, lon, when, refraction=False) == pytest.approx(39.872046, abs=0.01)
    assert solar_altitude(lat, lon, when) == pytest.approx(39.888378, abs=0.01)


def test_oslo_winter_evening_is_dark() -> None:
    when = datetime(2026, 12, 15, 18, 0, tzinfo=CET)
    assert solar_altitude(*OSLO, when) == pytest.approx(-18.50, abs=0.1)
    assert is_dark(*OSLO, when)


def test_oslo_midsummer_noon_is_light_and_high() -> None:
    # Upper culmination is 90 - 59.91 + 23.44 = 53.5°; 13:00 CEST is 19 min before solar noon.
    when = datetime(2026, 6, 21, 13, 0, tzinfo=CEST)
    assert solar_altitude(*OSLO, when) == pytest.approx(53.5, abs=1.0)
    assert not is_dark(*OSLO, when)


def test_oslo_midsummer_late_evening_is_not_dark() -> None:
    # Geometric altitude -5.06° at 23:59 CEST: below the horizon, still civil twilight.
    when = datetime(2026, 6, 21, 23, 59, tzinfo=CEST)
    assert solar_altitude(*OSLO, when, refraction=False) == pytest.approx(-5.06, abs=0.1)
    assert not is_dark(*OSLO, when)


def test_oslo_midsummer_solar_midnight_is_just_dark() -> None:
    # Lower culmination is 59.91 + 23.44 - 90 = -6.65° at about 01:19 CEST, so Oslo (unlike
    # Tromsø) does get a short civil-dark spell, roughly 00:29-02:10 CEST.
    when = datetime(2026, 6, 22, 1, 20, tzinfo=CEST)
    assert solar_altitude(*OSLO, when, refraction=False) == pytest.approx(-6.65, abs=0.1)
    assert is_dark(*OSLO, when)


def test_tromso_polar_night_noon_below_horizon() -> None:
    when = datetime(2026, 12, 21, 12, 0, tzinfo=CET)
    altitude = solar_altitude(*TROMSO, when)
    assert altitude < 0.0
    assert altitude == pytest.approx(-3.04, abs=0.1)
    # Below the horizon but above -6°: polar night at noon is twilight, not dark.
    assert not is_dark(*TROMSO, when)


def test_tromso_midnight_sun_above_horizon() -> None:
    when = datetime(2026, 6, 21, 0, 0, tzinfo=CEST)
    altitude = solar_altitude(*TROMSO, when)
    assert altitude > 0.0
    assert altitude == pytest.approx(3.66, abs=0.1)


def test_refraction_lifts_the_sun_near_the_horizon() -> None:
    # Oslo, 22:30 CEST on midsummer: geometric 0.20°, apparent 0.66° (about half a degree of
    # refraction at the horizon, as expected).
    when = datetime(2026, 6, 21, 22, 30, tzinfo=CEST)
    geometric = solar_altitude(*OSLO, when, refraction=False)
    apparent = solar_altitude(*OSLO, when)
    assert geometric == pytest.approx(0.20, abs=0.1)
    assert apparent - geometric == pytest.approx(0.45, abs=0.05)


def test_same_instant_in_any_zone_gives_same_altitude() -> None:
    when = datetime(2026, 3, 20, 12, 0, tzinfo=CET)
    assert solar_altitude(*OSLO, when) == solar_altitude(*OSLO, when.astimezone(UTC))


def test_naive_datetime_is_rejected() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        solar_altitude(*OSLO, datetime(2026, 12, 15, 18, 0))
    with pytest.raises(ValueError, match="timezone-aware"):
        is_dark(*OSLO, datetime(2026, 12, 15, 18, 0))


@pytest.mark.parametrize(
    ("lat", "lon"),
    [
        pytest.param(90.5, 10.0, id="lat-above-90"),
        pytest.param(-91.0, 10.0, id="lat-below-minus-90"),
        pytest.param(float("nan"), 10.0, id="lat-nan"),
        pytest.param(59.9, float("inf"), id="lon-inf"),
    ],
)
def test_bad_coordinates_are_rejected(lat: float, lon: float) -> None:
    with pytest.raises(ValueError, match="lat"):
        solar_altitude(lat, lon, datetime(2026, 6, 21, 12, 0, tzinfo=UTC))


@pytest.mark.parametrize(
    ("lat", "lon", "when", "expected_geometric", "dark"),
    [
        pytest.param(
            58.85,
            5.73,
            datetime(2026, 12, 15, 16, 0, tzinfo=CET),
            -2.60,
            False,
            id="sandnes-december-1600-twilight",
        ),
        pytest.param(
            58.85,
            5.73,
            datetime(2026, 9, 22, 21, 0, tzinfo=CEST),
            -11.38,
            True,
            id="sandnes-september-2100-dark",
        ),
        pytest.param(
            59.9139,
            10.7522,
            datetime(2026, 6, 21, 22, 30, tzinfo=CEST),
            0.20,
            False,
            id="oslo-midsummer-2230-sunset",
        ),
        pytest.param(
            69.65,
            18.96,
            datetime(2026, 6, 22, 0, 0, tzinfo=CEST),
            3.46,
            False,
            id="tromso-midsummer-midnight",
        ),
        pytest.param(
            39.742476,
            -105.1786,
            datetime(2003, 10, 18, 19, 30, 30, tzinfo=UTC),
            39.505,
            False,
            id="golden-nrel-second-day",
        ),
    ],
)
def test_altitude_table(
    lat: float, lon: float, when: datetime, expected_geometric: float, dark: bool
) -> None:
    assert solar_altitude(lat, lon, when, refraction=False) == pytest.approx(
        expected_geometric, abs=0.05
    )
    assert is_dark(lat, lon, when) is dark
