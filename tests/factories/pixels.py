"""What a screenshot of a map says about its basemap: how much of it is the test tiles'
stripes, and how much the pixels vary (a plain background hardly does)."""

from __future__ import annotations

from io import BytesIO

from PIL import Image, ImageStat

from tests.factories.tilesets import STRIPES


def stripe_share(png: bytes) -> float:
    """The share of pixels in (nearly) one of the stripes' two colours."""
    img = Image.open(BytesIO(png)).convert("RGB").resize((160, 120))
    pixels = list(img.get_flattened_data())

    def near(p: tuple[int, int, int]) -> bool:
        return any(sum(abs(a - b) for a, b in zip(p, c, strict=True)) < 60 for c in STRIPES)

    return sum(1 for p in pixels if near(p)) / len(pixels)


def variance(png: bytes) -> float:
    """The mean variance of the three channels."""
    img = Image.open(BytesIO(png)).convert("RGB")
    return sum(ImageStat.Stat(img).var) / 3
