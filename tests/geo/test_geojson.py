"""GeoJSON validation, repair and RFC 7946 output on plain data."""

from __future__ import annotations

import math

import pytest
import shapely

from geo.geojson import GeometryError, parse_geometry, to_geojson

SQUARE_CW = [[5.73, 58.85], [5.73, 58.86], [5.74, 58.86], [5.74, 58.85], [5.73, 58.85]]


def test_polygon_is_stored_counter_clockwise() -> None:
    geom = parse_geometry({"type": "Polygon", "coordinates": [SQUARE_CW]}, {"Polygon"})
    ring = to_geojson(geom)["coordinates"][0]
    assert shapely.LinearRing(ring).is_ccw


def test_bow_tie_is_repaired_into_a_multipolygon() -> None:
    bow = [[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]
    geom = parse_geometry({"type": "Polygon", "coordinates": [bow]}, {"Polygon", "MultiPolygon"})
    assert geom.is_valid
    assert geom.geom_type == "MultiPolygon"
    assert math.isclose(geom.area, 0.5)


def test_output_has_six_decimals() -> None:
    geom = parse_geometry({"type": "Point", "coordinates": [5.123456789, 58.987654321]}, {"Point"})
    assert to_geojson(geom) == {"type": "Point", "coordinates": [5.123457, 58.987654]}


@pytest.mark.parametrize(
    ("obj", "allowed", "loc"),
    [
        pytest.param({"type": "Point", "coordinates": [181, 10]}, {"Point"}, ("coordinates", 0), id="lon-out-of-range"),
        pytest.param({"type": "Point", "coordinates": [10, -91]}, {"Point"}, ("coordinates", 1), id="lat-out-of-range"),
        pytest.param({"type": "Point", "coordinates": [float("nan"), 1]}, {"Point"}, ("coordinates", 0), id="nan"),
        pytest.param({"type": "Point", "coordinates": [True, 1]}, {"Point"}, ("coordinates", 0), id="bool-coordinate"),
        pytest.param({"type": "Point", "coordinates": [1]}, {"Point"}, ("coordinates",), id="short-position"),
        pytest.param({"type": "LineString", "coordinates": [[1, 1]]}, {"LineString"}, ("coordinates",), id="one-point-line"),
        pytest.param({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1]]]}, {"Polygon"}, ("coordinates", 0), id="open-ring"),
        pytest.param({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [0, 0]]]}, {"Polygon"}, ("coordinates", 0), id="short-ring"),
        pytest.param({"type": "Point", "coordinates": [1, 1]}, {"Polygon"}, ("type",), id="wrong-type"),
        pytest.param({"type": "Circle", "coordinates": [1, 1]}, {"Polygon"}, ("type",), id="unknown-type"),
        pytest.param({"coordinates": [1, 1]}, {"Point"}, ("type",), id="no-type"),
        pytest.param("POINT(1 1)", {"Point"}, (), id="not-an-object"),
    ],
)  # fmt: skip
def test_bad_geometry_is_refused_with_its_location(
    obj: object, allowed: set[str], loc: tuple
) -> None:
    with pytest.raises(GeometryError) as info:
        parse_geometry(obj, allowed)
    assert info.value.loc == loc


def test_degenerate_polygon_is_refused() -> None:
    flat = [[0, 0], [1, 0], [2, 0], [0, 0]]
    with pytest.raises(GeometryError, match="repaired|no area"):
        parse_geometry({"type": "Polygon", "coordinates": [flat]}, {"Polygon"})
