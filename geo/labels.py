"""Where numbered markers go on a printed map so that none covers another: each at its point
if there is room, else at the nearest free place on rings around it (a leader line then
shows where it belongs). Greedy, in the order given, with a grid so dense clusters stay fast."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence

Point = tuple[float, float]


def _candidates(
    x: float, y: float, step: float, box: tuple[float, float, float, float], rings: int
) -> Iterator[Point]:
    minx, miny, maxx, maxy = box

    def inside(px: float, py: float) -> Point:
        return (min(maxx, max(minx, px)), min(maxy, max(miny, py)))

    yield inside(x, y)
    for ring in range(1, rings + 1):
        count = 6 * ring
        for k in range(count):
            angle = math.pi / 2 + 2 * math.pi * k / count  # above first: labels read upwards
            yield inside(x + ring * step * math.cos(angle), y + ring * step * math.sin(angle))


def place_labels(
    anchors: Sequence[Point],
    radius: float,
    box: tuple[float, float, float, float],
    *,
    gap: float = 0.5,
    rings: int | None = None,
) -> list[Point]:
    """Centres for round labels of ``radius`` at ``anchors`` inside ``box`` (minx, miny, maxx,
    maxy), no two closer than ``2 * radius + gap`` where the rings leave room for it. The rings
    go on outwards as far as the box reaches unless ``rings`` caps them: hundreds of items on
    one block still get a place each, where a fixed dozen rings ran out and stacked them."""
    spacing = 2 * radius + gap
    if rings is None:
        rings = max(1, math.ceil(math.hypot(box[2] - box[0], box[3] - box[1]) / spacing))
    grid: dict[tuple[int, int], list[Point]] = {}
    placed: list[Point] = []

    def free(p: Point) -> bool:
        cx, cy = int(p[0] // spacing), int(p[1] // spacing)
        for gx in (cx - 1, cx, cx + 1):
            for gy in (cy - 1, cy, cy + 1):
                for q in grid.get((gx, gy), ()):
                    if (p[0] - q[0]) ** 2 + (p[1] - q[1]) ** 2 < spacing * spacing - 1e-9:
                        return False
        return True

    for x, y in anchors:
        choice = None
        for candidate in _candidates(x, y, spacing, box, rings):
            if free(candidate):
                choice = candidate
                break
        if choice is None:  # no room within the rings: on its point, as before
            choice = (min(box[2], max(box[0], x)), min(box[3], max(box[1], y)))
        placed.append(choice)
        cell = (int(choice[0] // spacing), int(choice[1] // spacing))
        grid.setdefault(cell, []).append(choice)
    return placed
