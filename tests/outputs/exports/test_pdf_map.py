"""The printed map of the action list and walk report PDFs (api/outputs/exports/pdf.py): in a
dense cluster no item number covers another; moved numbers are tied to their spot."""

from __future__ import annotations

import itertools
import math

from reportlab.graphics.shapes import Circle, Line, String
from shapely.geometry import box

from api.outputs.exports.pdf import draw_map

AREA = box(5.728, 58.848, 5.742, 58.856)


def _labels(drawing: object, radius: float) -> list[Circle]:
    return [s for s in drawing.contents if isinstance(s, Circle) and s.r == radius]  # type: ignore[attr-defined]


def test_numbers_in_a_dense_cluster_do_not_overlap() -> None:
    # Twenty-five items within a few metres of one lamp post, and two far apart.
    points = [(n, 5.7352 + (n % 5) * 0.00001, 58.8517 + (n // 5) * 0.000005, n % 3 == 0)
              for n in range(1, 26)]  # fmt: skip
    points += [(26, 5.7300, 58.8490, False), (27, 5.7400, 58.8550, True)]
    drawing = draw_map(700, 300, AREA, None, points)
    labels = _labels(drawing, 5.5)
    assert len(labels) == len(points)
    for a, b in itertools.combinations(labels, 2):
        assert math.dist((a.cx, a.cy), (b.cx, b.cy)) >= 2 * 5.5, "two numbers overlap"
    numbers = sorted(
        int(s.text) for s in drawing.contents if isinstance(s, String) and s.text.isdigit()
    )
    assert numbers == list(range(1, 28))
    leaders = [s for s in drawing.contents if isinstance(s, Line) and s.strokeWidth == 0.4]
    assert 20 <= len(leaders) < 25  # the cluster's, and not the lone ones
    assert all(0 <= c.cx <= 700 and 0 <= c.cy <= 300 for c in labels)


def test_a_sparse_map_keeps_every_number_on_its_spot() -> None:
    points = [(1, 5.730, 58.849, False), (2, 5.740, 58.855, False)]
    drawing = draw_map(700, 300, AREA, None, points)
    assert not [s for s in drawing.contents if isinstance(s, Line) and s.strokeWidth == 0.4]


def test_hundreds_of_numbers_on_one_spot_still_do_not_overlap() -> None:
    # An area's whole action list on one block: 400 items (the smallest labels), none hidden
    # under another, each inside the map.
    points = [(n, 5.7352 + (n % 20) * 0.000002, 58.8517 + (n // 20) * 0.000001, n % 4 == 0)
              for n in range(1, 401)]  # fmt: skip
    drawing = draw_map(700, 300, AREA, None, points)
    labels = _labels(drawing, 2.8)
    assert len(labels) == 400
    for a, b in itertools.combinations(labels, 2):
        assert math.dist((a.cx, a.cy), (b.cx, b.cy)) >= 2 * 2.8, "two numbers overlap"
    assert all(0 <= c.cx <= 700 and 0 <= c.cy <= 300 for c in labels)
