"""Pictures for tests (plain, and a phone photo with EXIF) and their upload."""

from __future__ import annotations

import io
import uuid
from pathlib import Path
from typing import Any

import httpx
from PIL import ExifTags, Image

from tests.factories.client import SyncClient
from tests.factories.observations import obs_body
from tests.factories.world import World

MAKE = "SafeCamMaker"
MODEL = "Snapper 9000"


def picture(size: tuple[int, int]) -> Image.Image:
    """A gradient with a red block in its top-left corner, so rotation can be seen."""
    img = Image.linear_gradient("L").resize(size).convert("RGB")
    img.paste((255, 0, 0), (0, 0, size[0] // 5, size[1] // 5))
    return img


def encode(img: Image.Image, fmt: str, **params: Any) -> bytes:
    out = io.BytesIO()
    img.save(out, fmt, **params)
    return out.getvalue()


def camera_jpeg(size: tuple[int, int] = (300, 200), *, orientation: int = 6) -> bytes:
    """A phone photo: GPS at 58.8517 N 5.7352 E, make, model, capture time and orientation."""
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = MAKE
    exif[ExifTags.Base.Model] = MODEL
    exif[ExifTags.Base.Orientation] = orientation
    exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.DateTimeOriginal] = "2021:06:01 12:00:00"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (58, 51, 6.12)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (5, 44, 6.72)
    return encode(picture(size), "JPEG", exif=exif, quality=90)


def plain_jpeg(size: tuple[int, int] = (120, 80), colour: str = "navy") -> bytes:
    return encode(Image.new("RGB", size, colour), "JPEG")


def stored_files(media_dir: Path) -> list[Path]:
    return sorted(p for p in media_dir.rglob("*") if p.is_file()) if media_dir.exists() else []


def new_observation(client: SyncClient, world: World, who: str = "participant", **kw: Any) -> str:
    oid = str(uuid.uuid4())
    r = client.put(
        f"/api/v1/observations/{oid}", headers=world.headers(who), json=obs_body(world, **kw)
    )
    assert r.status_code == 201, r.text
    return oid


def put_photo(
    client: SyncClient,
    world: World,
    obs_id: str,
    data: Any,
    *,
    who: str = "participant",
    photo_id: str | None = None,
    content_type: str = "image/jpeg",
) -> httpx.Response:
    photo_id = photo_id or str(uuid.uuid4())
    headers = {**world.headers(who), "Content-Type": content_type}
    return client.put(
        f"/api/v1/observations/{obs_id}/photos/{photo_id}", headers=headers, content=data
    )


def opened(blob: bytes) -> Image.Image:
    img = Image.open(io.BytesIO(blob))
    img.load()
    return img


def get_photo(
    client: SyncClient,
    world: World,
    photo_id: str,
    size: str = "display",
    who: str = "participant",
    if_none_match: str | None = None,
) -> httpx.Response:
    headers = world.headers(who)
    if if_none_match is not None:
        headers["If-None-Match"] = if_none_match
    return client.get(f"/api/v1/photos/{photo_id}", params={"size": size}, headers=headers)


def assert_metadata_free(blob: bytes) -> Image.Image:
    img = opened(blob)
    assert len(img.getexif()) == 0
    assert b"Exif" not in blob
    assert MAKE.encode() not in blob
    assert MODEL.encode() not in blob
    return img
