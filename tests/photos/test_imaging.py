"""Tests for api.photos.imaging: type sniffing, limits, metadata reading and stripping."""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from PIL import ExifTags, Image, ImageCms, ImageFile
from PIL.PngImagePlugin import PngInfo
from PIL.TiffImagePlugin import IFDRational

from api.photos import imaging
from api.photos.imaging import (
    DISPLAY_PX,
    THUMB_PX,
    ImageMeta,
    ImageRejected,
    ProcessedImage,
    process_image,
    sniff_media_type,
)

NAME = "Kari Nordmann"
MAKE = "AcmePhone"
MODEL = "Model X9"
# Keys under which Pillow exposes metadata it found in a file.
METADATA_KEYS = {
    "exif",
    "xmp",
    "XML:com.adobe.xmp",
    "icc_profile",
    "comment",
    "photoshop",
    "Author",
    "Comment",
    "Secret",
}


# --- helpers -------------------------------------------------------------------------------


def picture(size: tuple[int, int], mode: str = "RGB") -> Image.Image:
    """A non-uniform picture with a red block in its top-left corner (to check rotation)."""
    img = Image.linear_gradient("L").resize(size).convert("RGB")
    img.paste((255, 0, 0), (0, 0, max(1, size[0] // 6), max(1, size[1] // 6)))
    return img.convert(mode)


def encode(img: Image.Image, fmt: str, **params: Any) -> bytes:
    out = io.BytesIO()
    img.save(out, fmt, **params)
    return out.getvalue()


def camera_exif(
    *,
    lat: object = (58, 51, 6.12),  # 58.8517 N
    lat_ref: object = "N",
    lon: object = (5, 44, 6.72),  # 5.7352 E
    lon_ref: object = "E",
    taken: object = "2024:05:17 14:03:21",
    offset: object = None,
    orientation: int = 1,
    status: str | None = None,
) -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = MAKE
    exif[ExifTags.Base.Model] = MODEL
    exif[ExifTags.Base.Artist] = NAME
    exif[ExifTags.Base.Orientation] = orientation
    sub = exif.get_ifd(ExifTags.IFD.Exif)
    if taken is not None:
        sub[ExifTags.Base.DateTimeOriginal] = taken
    if offset is not None:
        sub[ExifTags.Base.OffsetTimeOriginal] = offset
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    for tag, value in (
        (ExifTags.GPS.GPSLatitude, lat),
        (ExifTags.GPS.GPSLatitudeRef, lat_ref),
        (ExifTags.GPS.GPSLongitude, lon),
        (ExifTags.GPS.GPSLongitudeRef, lon_ref),
        (ExifTags.GPS.GPSStatus, status),
    ):
        if value is not None:
            gps[tag] = value
    return exif


def with_iptc(jpeg: bytes, by_line: str) -> bytes:
    """Insert a Photoshop APP13 segment holding an IIM (IPTC) By-line record after SOI."""
    text = by_line.encode()
    iim = b"\x1c\x02\x50" + struct.pack(">H", len(text)) + text
    resource = b"8BIM\x04\x04\x00\x00" + struct.pack(">I", len(iim)) + iim
    payload = b"Photoshop 3.0\x00" + resource
    return jpeg[:2] + b"\xff\xed" + struct.pack(">H", len(payload) + 2) + payload + jpeg[2:]


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_declaring(width: int, height: int) -> bytes:
    """A valid PNG header for a 1-bit image of the given size, with a tiny IDAT."""
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 4096, 9)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", idat)
        + png_chunk(b"IEND", b"")
    )


def jpeg_declaring(width: int, height: int) -> bytes:
    """A small baseline JPEG whose SOF0 header is patched to claim the given size."""
    data = bytearray(encode(picture((16, 16)), "JPEG"))
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def ftyp(major: bytes, *compatible: bytes) -> bytes:
    body = b"ftyp" + major + b"\x00\x00\x00\x00" + b"".join(compatible)
    return struct.pack(">I", len(body) + 4) + body + b"\x00\x00\x00\x08free"


def opened(blob: bytes) -> Image.Image:
    img = Image.open(io.BytesIO(blob))
    img.load()
    return img


def assert_no_metadata(blob: bytes, *secrets: bytes) -> None:
    img = opened(blob)
    assert len(img.getexif()) == 0
    assert not METADATA_KEYS & img.info.keys(), img.info.keys()
    assert b"Exif" not in blob
    assert b"tEXt" not in blob
    assert b"iTXt" not in blob
    assert b"zTXt" not in blob
    assert b"eXIf" not in blob
    for secret in secrets:
        assert secret not in blob


def all_renditions(result: ProcessedImage) -> Iterator[bytes]:
    yield result.original
    yield result.display
    yield result.thumb


@pytest.fixture
def no_decoding(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Fail the test if any pixel data gets decoded."""
    calls: list[str] = []

    def refuse(self: ImageFile.ImageFile) -> None:
        calls.append(type(self).__name__)
        raise AssertionError("pixel data was decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", refuse)
    return calls


# --- sniffing ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        pytest.param(b"\xff\xd8\xff\xe0\x00\x10JFIF", "image/jpeg", id="jpeg"),
        pytest.param(b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR", "image/png", id="png"),
        pytest.param(b"RIFF\x24\x00\x00\x00WEBPVP8 ", "image/webp", id="webp"),
        pytest.param(ftyp(b"heic", b"mif1", b"heic"), "image/heic", id="heic"),
        pytest.param(ftyp(b"heix", b"mif1"), "image/heic", id="heix"),
        pytest.param(ftyp(b"mif1", b"mif1", b"heic", b"miaf"), "image/heic", id="mif1-heic"),
        pytest.param(ftyp(b"mif1", b"mif1", b"miaf"), "image/heif", id="mif1-generic"),
        pytest.param(ftyp(b"avif", b"mif1", b"miaf"), None, id="avif"),
        pytest.param(ftyp(b"mif1", b"avif", b"mif1"), None, id="mif1-avif"),
        pytest.param(ftyp(b"isom", b"mp41"), None, id="mp4-video"),
        pytest.param(b"\x00\x00\x00\x08ftypheic", None, id="ftyp-box-too-small"),
        pytest.param(b"GIF89a\x01\x00\x01\x00", None, id="gif"),
        pytest.param(b"<svg xmlns='http://www.w3.org/2000/svg'/>", None, id="svg"),
        pytest.param(b"<!DOCTYPE html><html></html>", None, id="html"),
        pytest.param(b"%PDF-1.7\n", None, id="pdf"),
        pytest.param(b"RIFF\x24\x00\x00\x00WAVEfmt ", None, id="riff-wave"),
        pytest.param(b"\xff\xd8", None, id="jpeg-prefix-only"),
        pytest.param(b"\x89PNG\r\n", None, id="png-prefix-only"),
        pytest.param(b"", None, id="empty"),
    ],
)
def test_sniff_media_type(data: bytes, expected: str | None) -> None:
    assert sniff_media_type(data) == expected


def test_sniff_ignores_what_follows_the_magic() -> None:
    assert sniff_media_type(encode(picture((8, 8)), "JPEG")) == "image/jpeg"
    assert sniff_media_type(encode(picture((8, 8)), "PNG")) == "image/png"
    assert sniff_media_type(encode(picture((8, 8)), "WEBP")) == "image/webp"


# --- JPEG: metadata read, then stripped ----------------------------------------------------


def test_jpeg_gps_time_and_orientation_are_read_then_everything_is_stripped() -> None:
    xmp = f'<x:xmpmeta xmlns:x="adobe:ns:meta/"><dc:creator>{NAME}</dc:creator></x:xmpmeta>'
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    jpeg = encode(
        picture((300, 200)),
        "JPEG",
        exif=camera_exif(orientation=6),
        xmp=xmp.encode(),
        comment=f"photo by {NAME}".encode(),
        icc_profile=icc,
    )
    data = with_iptc(jpeg, f"{NAME} (IPTC)")
    assert "photoshop" in Image.open(io.BytesIO(data)).info
    # The fixture really carries what must disappear.
    assert MAKE.encode() in data
    assert NAME.encode() in data

    result = process_image(data)

    assert result.media_type == "image/jpeg"
    assert result.meta.gps_lat == pytest.approx(58.8517, abs=1e-5)
    assert result.meta.gps_lon == pytest.approx(5.7352, abs=1e-5)
    assert result.meta.taken_at == datetime(2024, 5, 17, 14, 3, 21)
    # Orientation 6: stored sideways, shown rotated 90 degrees clockwise.
    assert (result.width, result.height) == (200, 300)
    for blob in all_renditions(result):
        assert opened(blob).format == "JPEG"
        assert_no_metadata(
            blob, MAKE.encode(), MODEL.encode(), NAME.encode(), b"xmpmeta", b"Photoshop", b"8BIM"
        )
    original = opened(result.original)
    assert original.size == (200, 300)
    # The red top-left block is now top-right.
    pixel = original.getpixel((190, 10))
    assert isinstance(pixel, tuple)
    red, green, blue = pixel
    assert red > 200
    assert max(green, blue) < 60


def test_offset_time_makes_taken_at_aware() -> None:
    data = encode(picture((40, 30)), "JPEG", exif=camera_exif(offset="+02:00"))

    taken_at = process_image(data).meta.taken_at

    assert taken_at == datetime(2024, 5, 17, 14, 3, 21, tzinfo=timezone(timedelta(hours=2)))
    assert taken_at is not None
    assert taken_at.utcoffset() == timedelta(hours=2)


def test_southern_and_western_hemispheres_are_negative() -> None:
    exif = camera_exif(lat=(33, 52, 4.0), lat_ref="S", lon=(151, 12, 36.0), lon_ref="W")

    meta = process_image(encode(picture((40, 30)), "JPEG", exif=exif)).meta

    assert meta.gps_lat == pytest.approx(-(33 + 52 / 60 + 4 / 3600), abs=1e-6)
    assert meta.gps_lon == pytest.approx(-(151 + 12 / 60 + 36 / 3600), abs=1e-6)


def test_photo_without_exif_has_empty_meta() -> None:
    result = process_image(encode(picture((40, 30)), "JPEG"))

    assert result.meta == ImageMeta(gps_lat=None, gps_lon=None, taken_at=None)


@pytest.mark.parametrize(
    "exif",
    [
        pytest.param(camera_exif(lat_ref=None), id="missing-latitude-ref"),
        pytest.param(camera_exif(lon_ref="Q"), id="unknown-longitude-ref"),
        pytest.param(camera_exif(lat=(91, 0, 0)), id="latitude-over-90"),
        pytest.param(camera_exif(lon=(181, 0, 0)), id="longitude-over-180"),
        pytest.param(camera_exif(lat=(58, 75, 0)), id="minutes-over-60"),
        pytest.param(camera_exif(lon=(5, 44, 61.5)), id="seconds-over-60"),
        pytest.param(camera_exif(lat=(IFDRational(58, 0), 51, 6)), id="zero-denominator"),
        pytest.param(camera_exif(lon=None), id="latitude-without-longitude"),
        pytest.param(camera_exif(lat=(0, 0, 0), lon=(0, 0, 0)), id="null-island"),
        pytest.param(camera_exif(status="V"), id="receiver-had-no-fix"),
        pytest.param(camera_exif(lat=(58, 51, 6, 1)), id="four-components"),
    ],
)
def test_junk_gps_is_ignored(exif: Image.Exif) -> None:
    result = process_image(encode(picture((40, 30)), "JPEG", exif=exif))

    assert (result.meta.gps_lat, result.meta.gps_lon) == (None, None)
    assert result.meta.taken_at == datetime(2024, 5, 17, 14, 3, 21)
    assert_no_metadata(result.original, MAKE.encode())


@pytest.mark.parametrize(
    ("taken", "offset", "expected"),
    [
        pytest.param("0000:00:00 00:00:00", None, None, id="zeroes"),
        pytest.param("    :  :     :  :  ", None, None, id="blanks"),
        pytest.param("2024-05-17T14:03:21", None, None, id="not-exif-format"),
        pytest.param(
            "2024:05:17 14:03:21", "+25:00", datetime(2024, 5, 17, 14, 3, 21), id="bad-offset"
        ),
        pytest.param(
            "2024:05:17 14:03:21", "garbage", datetime(2024, 5, 17, 14, 3, 21), id="junk-offset"
        ),
        pytest.param(
            "2024:05:17 14:03:21",
            "-05:30",
            datetime(2024, 5, 17, 14, 3, 21, tzinfo=timezone(-timedelta(hours=5, minutes=30))),
            id="negative-offset",
        ),
    ],
)
def test_taken_at_parsing(taken: str, offset: str | None, expected: datetime | None) -> None:
    exif = camera_exif(taken=taken, offset=offset)

    assert process_image(encode(picture((40, 30)), "JPEG", exif=exif)).meta.taken_at == expected


@pytest.mark.filterwarnings("ignore::UserWarning:PIL.TiffImagePlugin")
def test_corrupt_exif_block_does_not_reject_the_photo() -> None:
    # Pillow warns about corrupt EXIF (a logged warning in production); the photo is still fine.
    exif = b"Exif\x00\x00MM\x00*\x00\x00\x00\x08\x00\x03\x01\x0f\x00\x02\x00\x00\xff\xff\x00\x00"

    result = process_image(encode(picture((40, 30)), "JPEG", exif=exif))

    assert result.meta == ImageMeta(gps_lat=None, gps_lon=None, taken_at=None)
    assert_no_metadata(result.original)


def test_cmyk_jpeg_is_stored_as_rgb() -> None:
    result = process_image(encode(picture((40, 30), "CMYK"), "JPEG"))

    assert opened(result.original).mode == "RGB"


# --- PNG -----------------------------------------------------------------------------------


def test_png_text_chunks_are_removed_and_alpha_kept() -> None:
    img = picture((64, 48), "RGBA")
    img.putpixel((63, 47), (0, 0, 0, 0))
    text = PngInfo()
    text.add_text("Author", NAME)
    text.add_itxt("Comment", f"{NAME}, 14, lives at Storgata 1", lang="no", tkey="Kommentar")
    text.add_text("Secret", f"{NAME} Storgata 1", zip=True)
    data = encode(img, "PNG", pnginfo=text, exif=camera_exif())
    assert NAME.encode() in data

    result = process_image(data)

    assert result.media_type == "image/png"
    assert result.meta.gps_lat == pytest.approx(58.8517, abs=1e-5)  # from the eXIf chunk
    for blob in all_renditions(result):
        stored = opened(blob)
        assert stored.format == "PNG"
        assert stored.mode == "RGBA"
        assert_no_metadata(blob, NAME.encode(), b"Storgata", b"Kommentar", MAKE.encode())
    original = opened(result.original)
    assert original.getpixel((63, 47)) == (0, 0, 0, 0)
    assert original.getpixel((0, 0)) == (255, 0, 0, 255)


def test_palette_png_with_transparency_keeps_alpha() -> None:
    img = Image.new("P", (20, 10))
    img.putpalette([0, 0, 0, 255, 0, 0])
    img.paste(1, (0, 0, 10, 10))
    data = encode(img, "PNG", transparency=0)

    original = opened(process_image(data).original)

    assert original.mode == "RGBA"
    assert original.getpixel((15, 5)) == (0, 0, 0, 0)
    assert original.getpixel((5, 5)) == (255, 0, 0, 255)


def test_greyscale_png_with_colour_key_keeps_transparency() -> None:
    img = Image.new("L", (20, 10), 0)
    img.paste(200, (0, 0, 10, 10))
    data = encode(img, "PNG", transparency=0)

    original = opened(process_image(data).original)

    assert original.mode == "LA"
    assert original.getpixel((5, 5)) == (200, 255)
    assert original.getpixel((15, 5)) == (0, 0)


def test_sixteen_bit_greyscale_png_is_scaled_not_clipped() -> None:
    img = Image.new("I;16", (4, 4), 32896)  # 128 * 257

    original = opened(process_image(encode(img, "PNG")).original)

    assert original.mode == "L"
    assert original.getpixel((0, 0)) == 128


# --- WebP ----------------------------------------------------------------------------------


def test_webp_round_trip_strips_metadata() -> None:
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    img = picture((120, 80), "RGBA")
    img.paste((0, 0, 0, 0), (100, 60, 120, 80))
    data = encode(
        img,
        "WEBP",
        exif=camera_exif(orientation=8),
        xmp=f"<x:xmpmeta>{NAME}</x:xmpmeta>".encode(),
        icc_profile=icc,
    )

    result = process_image(data)

    assert result.media_type == "image/webp"
    assert (result.width, result.height) == (80, 120)
    assert result.meta.gps_lon == pytest.approx(5.7352, abs=1e-5)
    for blob in all_renditions(result):
        stored = opened(blob)
        assert stored.format == "WEBP"
        assert stored.mode == "RGBA"
        assert_no_metadata(blob, NAME.encode(), MAKE.encode(), b"EXIF", b"XMP ", b"ICCP")
    # Orientation 8 turns the transparent bottom-right block into the top-right one.
    alpha = opened(result.original).getchannel("A")
    assert alpha.getpixel((75, 5)) == 0
    assert alpha.getpixel((5, 5)) == 255


def test_lossy_webp_without_alpha_stays_rgb() -> None:
    result = process_image(encode(picture((120, 80)), "WEBP", quality=80))

    assert opened(result.original).mode == "RGB"
    assert (result.width, result.height) == (120, 80)


# --- HEIC ----------------------------------------------------------------------------------


def test_heic_is_read_and_stored_as_jpeg() -> None:
    pillow_heif = pytest.importorskip("pillow_heif")
    out = io.BytesIO()
    heif = pillow_heif.from_pillow(picture((300, 200)))
    heif.save(out, exif=camera_exif(orientation=6).tobytes(), quality=90)
    data = out.getvalue()
    assert sniff_media_type(data) == "image/heic"

    result = process_image(data)

    assert result.media_type == "image/jpeg"
    assert (result.width, result.height) == (200, 300)
    assert result.meta.gps_lat == pytest.approx(58.8517, abs=1e-5)
    assert result.meta.taken_at == datetime(2024, 5, 17, 14, 3, 21)
    for blob in all_renditions(result):
        assert opened(blob).format == "JPEG"
        assert_no_metadata(blob, MAKE.encode(), NAME.encode())


def test_heic_without_decoder_is_unsupported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(imaging, "_heif_opener", lambda: None)

    with pytest.raises(ImageRejected) as caught:
        process_image(ftyp(b"heic", b"mif1", b"heic"))

    assert (caught.value.status, caught.value.code) == (415, "unsupported_type")
    assert "HEIC" in caught.value.detail


# --- sizes ---------------------------------------------------------------------------------


def test_large_photo_gets_display_and_thumbnail_sizes() -> None:
    result = process_image(encode(picture((4000, 3000)), "JPEG", quality=80))

    assert (result.width, result.height) == (4000, 3000)
    assert opened(result.original).size == (4000, 3000)
    assert opened(result.display).size == (DISPLAY_PX, 1536)
    assert opened(result.thumb).size == (THUMB_PX, 384)


def test_small_photo_is_not_upscaled() -> None:
    result = process_image(encode(picture((300, 500)), "PNG"))

    for blob in all_renditions(result):
        assert opened(blob).size == (300, 500)


def test_pixel_limit_is_inclusive() -> None:
    data = encode(picture((100, 100)), "PNG")

    assert process_image(data, max_pixels=10_000).width == 100
    with pytest.raises(ImageRejected) as caught:
        process_image(data, max_pixels=9_999)
    assert (caught.value.status, caught.value.code) == (413, "too_many_pixels")


# --- rejections ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(png_declaring(100_000, 100_000), id="png-100k-square"),
        # Above Pillow's own warning and error thresholds: neither may surface.
        pytest.param(png_declaring(10_000, 10_000), id="png-over-pillow-warning-limit"),
        pytest.param(png_declaring(20_000, 20_000), id="png-over-pillow-error-limit"),
        pytest.param(png_declaring(2**31 - 1, 2**31 - 1), id="png-max-dimensions"),
        pytest.param(png_declaring(40_000_001, 1), id="png-one-long-row"),
        pytest.param(jpeg_declaring(65_000, 65_000), id="jpeg-65k-square"),
    ],
)
def test_decompression_bomb_is_refused_before_decoding(data: bytes, no_decoding: list[str]) -> None:
    assert len(data) < 10_000

    with pytest.raises(ImageRejected) as caught:
        process_image(data)

    assert (caught.value.status, caught.value.code) == (413, "too_many_pixels")
    assert no_decoding == []


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"<svg xmlns='http://www.w3.org/2000/svg'><script/></svg>", id="svg"),
        pytest.param(b"<!DOCTYPE html><html><body>hi</body></html>", id="html"),
        pytest.param(encode(picture((8, 8)), "GIF"), id="gif"),
        pytest.param(encode(picture((8, 8)), "BMP"), id="bmp"),
        pytest.param(encode(picture((8, 8)), "TIFF"), id="tiff"),
        pytest.param(b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n", id="pdf"),
        pytest.param(b"just some text", id="text"),
        pytest.param(ftyp(b"avif", b"mif1", b"miaf"), id="avif"),
    ],
)
def test_unsupported_types_are_refused(data: bytes) -> None:
    with pytest.raises(ImageRejected) as caught:
        process_image(data)

    assert (caught.value.status, caught.value.code) == (415, "unsupported_type")


def test_empty_body_is_unprocessable() -> None:
    # Empty is a broken upload rather than a wrong type, hence 422 and not 415.
    with pytest.raises(ImageRejected) as caught:
        process_image(b"")

    assert (caught.value.status, caught.value.code) == (422, "empty_image")


def _truncated(data: bytes) -> bytes:
    return data[: len(data) // 2]


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(_truncated(encode(picture((200, 150)), "JPEG")), id="jpeg-cut-in-half"),
        pytest.param(_truncated(encode(picture((200, 150)), "PNG")), id="png-cut-in-half"),
        pytest.param(_truncated(encode(picture((200, 150)), "WEBP")), id="webp-cut-in-half"),
        pytest.param(b"\xff\xd8\xff" + b"\x00" * 64, id="jpeg-magic-then-zeros"),
        pytest.param(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, id="png-magic-then-zeros"),
        pytest.param(b"RIFF\x00\x00\x00\x00WEBPjunk", id="webp-magic-then-junk"),
        # A polyglot: only the decoder of the sniffed type may run, so PNG data behind JPEG
        # magic is corrupt rather than silently accepted.
        pytest.param(b"\xff\xd8\xff" + encode(picture((8, 8)), "PNG"), id="png-behind-jpeg-magic"),
        pytest.param(
            png_declaring(64, 64)[:29] + b"\x00\x00\x00\x00" + png_declaring(64, 64)[33:],
            id="png-bad-header-crc",
        ),
    ],
)
def test_corrupt_images_are_unprocessable(data: bytes) -> None:
    with pytest.raises(ImageRejected) as caught:
        process_image(data)

    assert (caught.value.status, caught.value.code) == (422, "corrupt_image")


def test_truncated_heic_is_unprocessable() -> None:
    pillow_heif = pytest.importorskip("pillow_heif")
    out = io.BytesIO()
    pillow_heif.from_pillow(picture((200, 150))).save(out)

    with pytest.raises(ImageRejected) as caught:
        process_image(_truncated(out.getvalue()))

    assert (caught.value.status, caught.value.code) == (422, "corrupt_image")


def test_byte_limit_is_checked_first() -> None:
    data = encode(picture((64, 64)), "JPEG")

    assert process_image(data, max_bytes=len(data)).width == 64
    for too_big in (data, b"<svg/>" * 100):
        with pytest.raises(ImageRejected) as caught:
            process_image(too_big, max_bytes=len(too_big) - 1)
        assert (caught.value.status, caught.value.code) == (413, "too_large")


def test_rejection_carries_status_code_and_detail() -> None:
    error = ImageRejected(415, "unsupported_type", "only images")

    assert (error.status, error.code, error.detail) == (415, "unsupported_type", "only images")
    assert "unsupported_type" in str(error)
