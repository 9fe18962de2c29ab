"""A small raster basemap drawn from lines and polygons (streets, water, parks), for places
that have no tile file yet: the demo draws its own town this way, so that ``make run`` shows
streets without fetching anything."""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from api.outputs.basemap.archive import write_mbtiles
from geo.mercator import TILE_PIXELS, tiles_covering, world_pixel

LonLat = tuple[float, float]
LAND = (242, 239, 233)
WATER = (170, 211, 223)
PARK = (205, 235, 176)
STREET = (255, 255, 255)
CASING = (190, 182, 170)
TEXT = (60, 60, 60)


@dataclass
class Sketch:
    """What to draw, in longitude/latitude."""

    streets: Sequence[tuple[str, Sequence[LonLat]]] = field(default_factory=list)
    rivers: Sequence[Sequence[LonLat]] = field(default_factory=list)
    parks: Sequence[Sequence[LonLat]] = field(default_factory=list)

    def bbox(self, margin: float = 0.004) -> tuple[float, float, float, float]:
        points = [p for _, line in self.streets for p in line]
        points += [p for line in self.rivers for p in line]
        points += [p for ring in self.parks for p in ring]
        lons = [p[0] for p in points]
        lats = [p[1] for p in points]
        return (min(lons) - margin, min(lats) - margin, max(lons) + margin, max(lats) + margin)


def _street_width(z: int) -> int:
    return max(1, int(round(2.0 ** (z - 13))))  # 2 px at z14, 16 at z17


def _font(z: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=10 + 2 * max(0, z - 15))


def _label(img: Image.Image, text: str, at: tuple[float, float], angle: float, z: int) -> None:
    font = _font(z)
    left, top, right, bottom = font.getbbox(text)
    size = (int(right - left) + 4, int(bottom - top) + 4)
    label = Image.new("RGBA", size, (0, 0, 0, 0))
    ImageDraw.Draw(label).text((2 - left, 2 - top), text, font=font, fill=TEXT + (255,))
    # Upright text along the street, never upside down.
    if angle > 90:
        angle -= 180
    elif angle < -90:
        angle += 180
    label = label.rotate(angle, expand=True, resample=Image.Resampling.BICUBIC)
    img.paste(label, (round(at[0] - label.width / 2), round(at[1] - label.height / 2)), label)


def _tile(sketch: Sketch, z: int, x: int, y: int) -> bytes:
    img = Image.new("RGB", (TILE_PIXELS, TILE_PIXELS), LAND)
    draw = ImageDraw.Draw(img)
    ox, oy = x * TILE_PIXELS, y * TILE_PIXELS

    def px(points: Sequence[LonLat]) -> list[tuple[float, float]]:
        out = []
        for lon, lat in points:
            wx, wy = world_pixel(lon, lat, z)
            out.append((wx - ox, wy - oy))
        return out

    for ring in sketch.parks:
        draw.polygon(px(ring), fill=PARK)
    for line in sketch.rivers:
        draw.line(px(line), fill=WATER, width=_street_width(z) * 2 + 2, joint="curve")
    width = _street_width(z)
    for _, line in sketch.streets:
        draw.line(px(line), fill=CASING, width=width + 2, joint="curve")
    for _, line in sketch.streets:
        draw.line(px(line), fill=STREET, width=width, joint="curve")
    if z >= 15:
        font = _font(z)
        for name, line in sketch.streets:
            points = px(line)
            room = font.getlength(name) + 40
            # On the middle of every stretch long enough to hold the name.
            for a, b in zip(points, points[1:], strict=False):
                mid = ((a[0] + b[0]) / 2, (a[1] + b[1]) / 2)
                near = -room < mid[0] < TILE_PIXELS + room and -room < mid[1] < TILE_PIXELS + room
                if near and math.dist(a, b) >= room:
                    angle = -math.degrees(math.atan2(b[1] - a[1], b[0] - a[0]))
                    _label(img, name, mid, angle, z)
    out = io.BytesIO()
    img.save(out, format="PNG")
    return out.getvalue()


def write_sketch(
    path: Path, sketch: Sketch, *, name: str, attribution: str, zooms: range = range(12, 18)
) -> int:
    """Draw ``sketch`` as a raster MBTiles at ``path``; the number of tiles."""
    bbox = sketch.bbox()
    tiles = {
        (z, x, y): _tile(sketch, z, x, y) for z in zooms for (_, x, y) in tiles_covering(bbox, z)
    }
    centre = ((bbox[0] + bbox[2]) / 2, (bbox[1] + bbox[3]) / 2)
    write_mbtiles(
        path,
        tiles,
        {
            "name": name,
            "format": "png",
            "type": "baselayer",
            "minzoom": str(zooms.start),
            "maxzoom": str(zooms.stop - 1),
            "bounds": ",".join(f"{v:.6f}" for v in bbox),
            "center": f"{centre[0]:.6f},{centre[1]:.6f},{zooms.stop - 2}",
            "attribution": attribution,
        },
    )
    return len(tiles)
