"""GEOS's reasons for an invalid polygon, read as a code and a position, for each fault the
catalogues word; a reason they do not know stays GEOS's own, labelled as a technical detail,
and every code has its message in every language with the same placeholders."""

from __future__ import annotations

import string

import pytest
import shapely
from shapely.validation import explain_validity

from api.core.errors import InvalidInput, render
from api.core.i18n import LANGUAGES, has
from api.core.i18n.catalogues import SOURCE_LOCALE_DIR, read_catalog
from geo.geojson import GeometryError, parse_geometry
from geo.validity import CODES, REASONS, explain, parse_reason

# One geometry per fault, as GEOS 3.x explains it.
FAULTS = {
    "self_intersection": "POLYGON((0 0, 2 2, 2 0, 0 2, 0 0))",
    "ring_self_intersection": "POLYGON((0 0, 2 0, 1 1, 2 2, 0 2, 1 1, 0 0))",
    "too_few_points": "POLYGON((0 0, 1 1, 0 0, 0 0))",
    "hole_outside_shell": "POLYGON((0 0, 1 0, 1 1, 0 1, 0 0), (2 2, 3 2, 3 3, 2 3, 2 2))",
    "nested_holes": "POLYGON((0 0, 10 0, 10 10, 0 10, 0 0), (1 1, 9 1, 9 9, 1 9, 1 1),"
    " (2 2, 3 2, 3 3, 2 3, 2 2))",
    "disconnected_interior": "POLYGON((0 0, 4 0, 4 4, 0 4, 0 0), (0 2, 2 0, 4 2, 2 4, 0 2))",
    "nested_shells": "MULTIPOLYGON(((0 0, 4 0, 4 4, 0 4, 0 0)), ((1 1, 2 1, 2 2, 1 2, 1 1)))",
}


@pytest.mark.parametrize(("code", "wkt"), list(FAULTS.items()), ids=list(FAULTS))
def test_each_fault_gets_its_code_and_position(code: str, wkt: str) -> None:
    geom = shapely.from_wkt(wkt)
    fault = explain(geom)
    assert fault is not None
    assert fault.reason == explain_validity(geom)
    assert fault.code == code, fault.reason
    assert fault.lon is not None
    assert fault.lat is not None
    assert fault.key == f"error.geos.{code}"


def test_a_valid_polygon_has_no_fault() -> None:
    assert explain(shapely.from_wkt("POLYGON((0 0, 1 0, 1 1, 0 1, 0 0))")) is None


@pytest.mark.parametrize(
    "reason",
    [
        pytest.param("Something GEOS says one day[1 2]", id="unknown-words"),
        pytest.param("Self-intersection", id="no-position"),
        pytest.param("Self-intersection[nan 2]", id="not-a-number"),
    ],
)
def test_an_unknown_reason_stays_as_a_technical_detail(reason: str) -> None:
    fault = parse_reason(reason)
    assert (fault.code, fault.key) == (None, "error.geos.unknown")
    assert render(fault.key, fault.params, "nb") == f"teknisk detalj: {reason}"
    assert render(fault.key, fault.params, "sv") == f"teknisk detalj: {reason}"


def test_a_refused_polygon_is_a_problem_in_the_readers_words() -> None:
    bow = {
        "type": "Polygon",
        "coordinates": [[[5.7, 58.8], [5.71, 58.8], [5.7, 58.8], [5.7, 58.8]]],
    }
    with pytest.raises(GeometryError) as caught:
        parse_geometry(bow, {"Polygon"})
    exc = caught.value
    error = InvalidInput.at(["body", "geometry"], exc.key, **exc.params)
    assert error.message_in("sv") == (
        "ogiltig polygon som inte kan repareras: en ring har för få olika punkter, "
        "vid latitud 58,8, longitud 5,7"
    )
    assert error.message_in("nb").endswith("ved breddegrad 58,8, lengdegrad 5,7")
    assert error.detail.endswith("at latitude 58.8, longitude 5.7")  # English for the log


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("lang", LANGUAGES, ids=str)
def test_every_code_is_worded_in_every_language(lang: str) -> None:
    messages = {
        m.id: str(m.string)
        for m in read_catalog(lang, "server", SOURCE_LOCALE_DIR)
        if isinstance(m.id, str) and m.id.startswith("error.geos.")
    }
    assert set(REASONS.values()) == CODES
    for code in CODES:
        key = f"error.geos.{code}"
        assert has(key)
        assert messages.get(key), (lang, key)
        assert _placeholders(messages[key]) == {"lat", "lon"}, (lang, key)
    assert _placeholders(messages["error.geos.unknown"]) == {"reason"}
