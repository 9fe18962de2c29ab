"""Local azimuthal equidistant projection and geodesic distance."""

import math

import numpy as np
import pytest
from pyproj import Geod
from shapely.geometry import Point

from geo.projection import buffer_m, geodesic_distance_m, local_transformer

GEOD = Geod(ellps="WGS84")
SANDNES = (5.73, 58.85)
TROMSO = (18.96, 69.6)


@pytest.mark.parametrize(
    ("origin", "distance_m"),
    [
        pytest.param(SANDNES, 30.0, id="sandnes-30m"),
        pytest.param(SANDNES, 5_000.0, id="sandnes-5km"),
        pytest.param(TROMSO, 30.0, id="tromso-30m"),
        pytest.param(TROMSO, 5_000.0, id="tromso-5km"),
    ],
)
@pytest.mark.parametrize("azimuth", [0.0, 45.0, 90.0, 135.0, 200.0, 290.0])
def test_projected_distance_matches_geodesic(
    origin: tuple[float, float], distance_m: float, azimuth: float
) -> None:
    # Start 1.5 km off the projection centre so the pair does not sit on its exact point.
    lon_a, lat_a, _ = GEOD.fwd(origin[0], origin[1], 60.0, 1_500.0)
    lon_b, lat_b, _ = GEOD.fwd(lon_a, lat_a, azimuth, distance_m)
    transformer = local_transformer(*origin)
    xs, ys = transformer.forward([lon_a, lon_b], [lat_a, lat_b])
    planar = math.hypot(xs[1] - xs[0], ys[1] - ys[0])
    geodesic = geodesic_distance_m(lon_a, lat_a, lon_b, lat_b)
    assert geodesic == pytest.approx(distance_m, rel=1e-9)
    assert planar == pytest.approx(geodesic, rel=1e-3)


@pytest.mark.parametrize(
    "origin", [pytest.param(SANDNES, id="sandnes"), pytest.param(TROMSO, id="tromso")]
)
def test_forward_inverse_round_trip(origin: tuple[float, float]) -> None:
    rng = np.random.default_rng(7)
    lons = origin[0] + rng.uniform(-0.05, 0.05, 200)
    lats = origin[1] + rng.uniform(-0.03, 0.03, 200)
    transformer = local_transformer(*origin)
    back_lons, back_lats = transformer.inverse(*transformer.forward(lons, lats))
    np.testing.assert_allclose(back_lons, lons, rtol=0, atol=1e-9)
    np.testing.assert_allclose(back_lats, lats, rtol=0, atol=1e-9)


def test_centre_projects_to_origin_and_axes_point_east_north() -> None:
    transformer = local_transformer(*SANDNES)
    lon0, lat0 = transformer.lon0, transformer.lat0  # the snapped centre
    xs, ys = transformer.forward([lon0, lon0 + 0.01, lon0], [lat0, lat0, lat0 + 0.01])
    assert (xs[0], ys[0]) == pytest.approx((0.0, 0.0), abs=1e-6)
    assert xs[1] > 500.0
    assert ys[2] > 1_000.0


def test_forward_accepts_scalars() -> None:
    xs, ys = local_transformer(*SANDNES).forward(5.73, 58.85)
    assert xs.shape == (1,)
    assert ys.shape == (1,)


def test_transformers_are_cached_on_a_rounded_centre() -> None:
    first = local_transformer(5.7312, 58.8512)
    second = local_transformer(5.7288, 58.8491)
    assert first is second
    assert (first.lon0, first.lat0) == (5.75, 58.85)  # the 0.05° grid
    assert local_transformer(5.80, 58.85) is not first


@pytest.mark.parametrize(
    ("lon0", "lat0"),
    [
        pytest.param(181.0, 58.0, id="lon-out-of-range"),
        pytest.param(5.7, 95.0, id="lat-out-of-range"),
        pytest.param(float("nan"), 58.0, id="lon-nan"),
    ],
)
def test_bad_centre_is_rejected(lon0: float, lat0: float) -> None:
    with pytest.raises(ValueError, match="centre"):
        local_transformer(lon0, lat0)


def test_geodesic_distance_known_value() -> None:
    # One arc-minute of latitude at 58.85 N: the meridian radius of curvature
    # M = a(1-e²)/(1-e²sin²φ)^1.5 at the mid-latitude gives 1856.544 m on WGS84.
    meridian_arcmin = geodesic_distance_m(5.73, 58.85, 5.73, 58.85 + 1 / 60)
    assert meridian_arcmin == pytest.approx(1856.544, abs=0.01)
    assert geodesic_distance_m(5.73, 58.85, 5.73, 58.85) == 0.0


def test_bbox_around_contains_the_circle() -> None:
    from geo.units import bbox_around

    lon, lat = 5.7352, 58.8517
    minx, miny, maxx, maxy = bbox_around(lon, lat, 100)
    for east, north in ((100, 0), (-100, 0), (0, 100), (0, -100), (70, 70)):
        # Points 100 m away (by geodesic distance) in several directions stay inside.
        from pyproj import Geod

        az = {(100, 0): 90, (-100, 0): 270, (0, 100): 0, (0, -100): 180, (70, 70): 45}[
            (east, north)
        ]
        x, y, _ = Geod(ellps="WGS84").fwd(lon, lat, az, 99.9)
        assert minx <= x <= maxx
        assert miny <= y <= maxy
    assert maxy - miny < 2 * 100 / 111_000 * 1.01  # and is not much larger


def test_a_buffer_in_metres_is_as_wide_east_west_as_north_south() -> None:
    grown = buffer_m(Point(5.735, 58.852), 100.0)
    minx, miny, maxx, maxy = grown.bounds
    assert abs(geodesic_distance_m(5.735, 58.852, maxx, 58.852) - 100.0) < 0.5
    assert abs(geodesic_distance_m(5.735, 58.852, minx, 58.852) - 100.0) < 0.5
    assert abs(geodesic_distance_m(5.735, 58.852, 5.735, maxy) - 100.0) < 0.5
    assert abs(geodesic_distance_m(5.735, 58.852, 5.735, miny) - 100.0) < 0.5
