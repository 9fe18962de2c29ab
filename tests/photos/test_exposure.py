"""Light from the photo: EXIF exposure read before the metadata goes, kept as EV100 and lux."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
from PIL import ExifTags, Image
from PIL.TiffImagePlugin import IFDRational
from sqlalchemy.orm import Session

from tests.factories.assets import make_lamp
from tests.factories.client import SyncClient
from tests.factories.observations import near, obs_body, point
from tests.factories.photos import (
    assert_metadata_free,
    encode,
    get_photo,
    picture,
    put_photo,
    stored_files,
)
from tests.factories.world import World


def night_jpeg(seconds: IFDRational, f_number: IFDRational, iso: int) -> bytes:
    """A night shot as a phone writes it: exposure, aperture and ISO, and a maker and GPS."""
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "NightCam"
    ifd = exif.get_ifd(ExifTags.IFD.Exif)
    ifd[ExifTags.Base.ExposureTime] = seconds
    ifd[ExifTags.Base.FNumber] = f_number
    ifd[ExifTags.Base.ISOSpeedRatings] = iso
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (58, 51, 6.12)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (5, 44, 6.72)
    return encode(picture((160, 120)), "JPEG", exif=exif, quality=90)


def ev(seconds: float, f_number: float, iso: float) -> float:
    return math.log2(f_number**2 / seconds) - math.log2(iso / 100)


def observe_with_photo(
    client: SyncClient, world: World, jpeg: bytes, at: list[float] | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    import uuid

    oid = str(uuid.uuid4())
    res = client.put(
        f"/api/v1/observations/{oid}",
        headers=world.headers("participant"),
        json=obs_body(world, location=point(at or near(0, 0))),
    )
    assert res.status_code == 201, res.text
    photo = put_photo(client, world, oid, jpeg)
    assert photo.status_code == 201, photo.text
    return res.json(), photo.json()


def test_the_exposure_becomes_ev100_and_lux_and_the_stored_file_has_no_metadata(
    client: SyncClient, world: World, settings: Any
) -> None:
    jpeg = night_jpeg(IFDRational(1, 10), IFDRational(18, 10), 1600)
    assert b"NightCam" in jpeg
    obs, photo = observe_with_photo(client, world, jpeg)
    expected = ev(0.1, 1.8, 1600)
    assert photo["exposure_ev100"] == pytest.approx(expected, abs=0.01)
    assert photo["estimated_lux"] == pytest.approx(2.5 * 2**expected, abs=0.01)
    # Not the EXIF itself: no exposure time, aperture, ISO, maker or position is served.
    for leak in ("ExposureTime", "FNumber", "ISO", "NightCam", "58.85"):
        assert leak not in str(photo)
    for size in ("thumb", "display", "original"):
        served = get_photo(client, world, photo["id"], size)
        assert served.status_code == 200
        assert_metadata_free(served.content)
    for path in stored_files(Path(settings.resolved_media_dir)):
        assert b"NightCam" not in path.read_bytes()
        assert_metadata_free(path.read_bytes())
    read = client.get(
        f"/api/v1/observations/{obs['id']}", headers=world.headers("coordinator")
    ).json()
    assert read["estimated_lux"] == photo["estimated_lux"]


def test_items_show_the_median_of_their_photos_against_the_lighting_class(
    client: SyncClient, world: World, session: Session
) -> None:
    make_lamp(session, world.org, "L-1", *near(0, 0))
    session.commit()
    shots = [(IFDRational(1, 4), 2), (IFDRational(1, 15), 2), (IFDRational(1, 2), 2)]
    item_id = None
    luxes = []
    for seconds, f in shots:
        obs, photo = observe_with_photo(client, world, night_jpeg(seconds, IFDRational(f, 1), 800))
        item_id = item_id or obs["action_item_id"]
        assert obs["action_item_id"] == item_id  # one lamp, one item
        luxes.append(photo["estimated_lux"])
    median = sorted(luxes)[1]
    admin = world.headers("admin")
    for cls, below in (("P6", median < 2.0), ("P1", median < 15.0)):
        res = client.patch(
            "/api/v1/organization", json={"lighting_target_class": cls}, headers=admin
        )
        assert res.status_code == 200, res.text
        assert res.json()["lighting_target_class"] == cls
        it = client.get(f"/api/v1/action-items/{item_id}", headers=admin).json()
        assert it["estimated_lux"] == pytest.approx(median, abs=0.01)
        assert it["below_target"] is below
    assert (
        client.patch(
            "/api/v1/organization", json={"lighting_target_class": "P9"}, headers=admin
        ).status_code
        == 422
    )


def test_a_photo_without_exposure_has_no_estimate(client: SyncClient, world: World) -> None:
    _, photo = observe_with_photo(client, world, encode(Image.new("RGB", (40, 40)), "JPEG"))
    assert (photo["exposure_ev100"], photo["estimated_lux"]) == (None, None)
