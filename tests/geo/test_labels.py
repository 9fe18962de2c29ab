"""Numbered labels on printed maps (geo/labels.py): none covers another in a dense cluster,
each stays near its point and inside the map, and a lone label stays on its point."""

from __future__ import annotations

import itertools
import math

import pytest

from geo.labels import place_labels

BOX = (5.0, 5.0, 495.0, 295.0)


def test_a_lone_label_stays_on_its_point() -> None:
    assert place_labels([(100.0, 100.0)], 5.5, BOX) == [(100.0, 100.0)]


@pytest.mark.parametrize("count", [2, 12, 40, 120])
def test_a_cluster_spreads_without_overlap(count: int) -> None:
    anchors = [(250.0 + (i % 3) * 0.4, 150.0 + (i // 3) * 0.3) for i in range(count)]
    spots = place_labels(anchors, 5.5, BOX)
    for a, b in itertools.combinations(spots, 2):
        assert math.dist(a, b) >= 11.0 - 1e-6
    for (ax, ay), (x, y) in zip(anchors, spots, strict=True):
        assert BOX[0] <= x <= BOX[2]
        assert BOX[1] <= y <= BOX[3]
        assert math.dist((ax, ay), (x, y)) < 12 * 11.5  # within the rings


def test_labels_near_the_edge_stay_inside() -> None:
    anchors = [(496.0, 296.0)] * 10
    spots = place_labels(anchors, 5.5, BOX)
    assert all(BOX[0] <= x <= BOX[2] and BOX[1] <= y <= BOX[3] for x, y in spots)
    for a, b in itertools.combinations(spots, 2):
        assert math.dist(a, b) >= 11.0 - 1e-6


def test_far_apart_labels_do_not_move() -> None:
    anchors = [(50.0, 50.0), (200.0, 100.0), (400.0, 250.0)]
    assert place_labels(anchors, 5.5, BOX) == anchors


def test_more_labels_than_twelve_rings_hold_still_do_not_overlap() -> None:
    # 600 labels on one point: the rings go on outwards until each has a free place.
    anchors = [(250.0, 150.0)] * 600
    spots = place_labels(anchors, 2.8, BOX)
    spacing = 2 * 2.8 + 0.5
    for a, b in itertools.combinations(spots, 2):
        assert math.dist(a, b) >= spacing - 1e-6
    assert all(BOX[0] <= x <= BOX[2] and BOX[1] <= y <= BOX[3] for x, y in spots)
