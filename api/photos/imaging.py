"""Intake of participant photos: validate, read location and time, strip metadata, resize.

Participants (possibly minors) upload photos straight from their phones. Such files carry the
exact GPS position where the photo was taken, the capture time, the device make, model and
serial number, owner names, editing history (XMP), IPTC captions and PNG text chunks. The privacy
design is: read GPS and time first (to place an observation that has no location yet), then store
pixels only.

This module is pure: bytes in, bytes out, no web framework and no database. The photo service
maps :class:`ImageRejected` onto an HTTP error response and stores the three renditions of
:class:`ProcessedImage`.

Hostile input is expected. The type is sniffed from the bytes (never from the client's header),
byte and pixel limits are enforced before any pixel data is decoded, and only the decoder of the
sniffed format is ever run on the data.
"""

from __future__ import annotations

import io
import math
import numbers
import re
import struct
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import cache
from typing import IO, Any, Final

from PIL import ExifTags, Image, ImageCms, ImageFile, ImageOps
from PIL.JpegImagePlugin import JpegImageFile
from PIL.PngImagePlugin import PngImageFile
from PIL.WebPImagePlugin import WebPImageFile

from geo.exposure import ev100

__all__ = [
    "DISPLAY_PX",
    "THUMB_PX",
    "ImageMeta",
    "ImageRejected",
    "ProcessedImage",
    "process_image",
    "sniff_media_type",
]

DISPLAY_PX: Final = 2048
THUMB_PX: Final = 512

_JPEG_QUALITY: Final = 88
_WEBP_QUALITY: Final = 85

_PNG_SIGNATURE: Final = b"\x89PNG\r\n\x1a\n"
# ISO-BMFF "ftyp" brands. HEVC-coded HEIF is what iPhones produce; mif1/msf1 are the generic
# HEIF brands, which AVIF files also carry, so AVIF brands are checked for explicitly.
_HEIC_BRANDS: Final = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx"})
_HEIF_BRANDS: Final = frozenset({b"mif1", b"msf1", b"mif2"})
_AVIF_BRANDS: Final = frozenset({b"avif", b"avis"})
_MAX_FTYP_BOX: Final = 4096

# HEIC/HEIF is stored as JPEG: browsers cannot show it.
_PIL_FORMAT: Final = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}

# What a corrupt or truncated file can make Pillow's parsers and decoders raise.
_DECODE_ERRORS: Final = (OSError, SyntaxError, ValueError, EOFError, struct.error, IndexError)
# What junk metadata can make EXIF parsing raise. Junk metadata never rejects a photo: it is
# dropped anyway, we only lose the location/time hint.
_METADATA_ERRORS: Final = (
    ValueError,
    TypeError,
    KeyError,
    IndexError,
    OSError,
    SyntaxError,
    EOFError,
    struct.error,
    ZeroDivisionError,
    OverflowError,
)

_OFFSET_RE: Final = re.compile(r"([+-])(\d{2}):(\d{2})")

_Opener = Callable[[IO[bytes]], ImageFile.ImageFile]


class ImageRejected(Exception):
    """The upload is not an acceptable image; ``status`` is the HTTP status to answer with.

    413: too large (``too_large`` for bytes, ``too_many_pixels`` for dimensions);
    415: not a supported image type (``unsupported_type``);
    422: empty, corrupt, truncated or undecodable (``empty_image``, ``corrupt_image``).
    """

    def __init__(
        self, status: int, code: str, detail: str, *, key: str | None = None, **params: Any
    ) -> None:
        super().__init__(f"{status} {code}: {detail}")
        self.status = status
        self.code = code
        self.detail = detail  # English
        # The same in the server's catalogues, for the uploader's language.
        self.key = key
        self.params = params


@dataclass(frozen=True, slots=True)
class ImageMeta:
    """Metadata read from the upload before it is stripped."""

    gps_lat: float | None
    gps_lon: float | None
    # EXIF DateTimeOriginal; timezone-aware only when OffsetTimeOriginal is present.
    taken_at: datetime | None
    # EV at ISO 100 of the exposure (ExposureTime, FNumber, ISO): how much light there was.
    exposure_ev100: float | None = None


@dataclass(frozen=True, slots=True)
class ProcessedImage:
    """Metadata-free renditions of an upload, all in ``media_type``."""

    media_type: str
    width: int
    height: int
    original: bytes
    display: bytes
    thumb: bytes
    meta: ImageMeta


def sniff_media_type(data: bytes) -> str | None:
    """Return the media type indicated by the magic bytes of ``data``, or ``None``.

    Recognises JPEG, PNG, WebP, ``image/heic`` (HEVC brands) and ``image/heif`` (generic HEIF
    brands without an AVIF brand). Everything else, including GIF, SVG, HTML and PDF, is ``None``.
    """
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(_PNG_SIGNATURE):
        return "image/png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return _sniff_heif(data)


def _sniff_heif(data: bytes) -> str | None:
    # Layout: box size (u32 BE), b"ftyp", major brand, minor version, compatible brands...
    if len(data) < 16 or data[4:8] != b"ftyp":
        return None
    box_size = int.from_bytes(data[:4], "big")
    if not 16 <= box_size <= _MAX_FTYP_BOX:
        return None
    box = data[:box_size]
    brands = {box[8:12]} | {box[i : i + 4] for i in range(16, len(box) - 3, 4)}
    if brands & _HEIC_BRANDS:
        return "image/heic"
    if brands & _HEIF_BRANDS and not brands & _AVIF_BRANDS:
        return "image/heif"
    return None


def process_image(
    data: bytes, *, max_bytes: int = 15_000_000, max_pixels: int = 40_000_000
) -> ProcessedImage:
    """Validate an upload and return metadata-free renditions of it plus its GPS/time metadata.

    Raises :class:`ImageRejected` for anything that is not an acceptable image. JPEG, PNG and
    WebP keep their format; HEIC/HEIF is converted to JPEG because browsers cannot show it.
    Multi-frame images (animated WebP/PNG, bursts) keep their first frame only.
    """
    if len(data) > max_bytes:
        raise ImageRejected(
            413,
            "too_large",
            f"the image is {len(data)} bytes; the limit is {max_bytes}",
            key="error.image_too_large",
            size=len(data),
            limit=max_bytes,
        )
    if not data:
        # An empty body is a broken upload, not an unsupported format.
        raise ImageRejected(422, "empty_image", "the upload is empty", key="error.image_empty")

    media_type = sniff_media_type(data)
    if media_type is None:
        raise ImageRejected(
            415,
            "unsupported_type",
            "only JPEG, PNG, WebP and HEIC are accepted",
            key="error.image_type",
        )
    opener = _opener_for(media_type)
    if opener is None:
        raise ImageRejected(
            415,
            "unsupported_type",
            "HEIC photos cannot be read here; please upload a JPEG",
            key="error.image_heic",
        )

    with io.BytesIO(data) as buffer, _open(opener, buffer) as img:
        # Image.open is bypassed on purpose (see _open), so this is the only pixel limit; the
        # size comes from the header and nothing has been decoded yet.
        width, height = img.size
        if width * height > max_pixels:
            raise ImageRejected(
                413,
                "too_many_pixels",
                f"the image is {width}x{height} pixels; the limit is {max_pixels} pixels",
                key="error.image_pixels",
                width=width,
                height=height,
                limit=max_pixels,
            )
        try:
            img.load()
        except _DECODE_ERRORS as exc:
            raise ImageRejected(
                422, "corrupt_image", "the image data is corrupt", key="error.image_corrupt"
            ) from exc

        meta = _read_meta(img)
        stored_type = "image/jpeg" if media_type in ("image/heic", "image/heif") else media_type
        clean = _pixels_only(img, stored_type)

    pil_format = _PIL_FORMAT[stored_type]
    display = _fit(clean, DISPLAY_PX)
    thumb = _fit(display, THUMB_PX)
    # A rendition that needed no resizing is the same image: encode it once.
    original_bytes = _encode(clean, pil_format)
    display_bytes = original_bytes if display is clean else _encode(display, pil_format)
    thumb_bytes = display_bytes if thumb is display else _encode(thumb, pil_format)
    return ProcessedImage(
        media_type=stored_type,
        width=clean.width,
        height=clean.height,
        original=original_bytes,
        display=display_bytes,
        thumb=thumb_bytes,
        meta=meta,
    )


def _opener_for(media_type: str) -> _Opener | None:
    if media_type == "image/jpeg":
        return JpegImageFile
    if media_type == "image/png":
        return PngImageFile
    if media_type == "image/webp":
        return WebPImageFile
    return _heif_opener()


@cache
def _heif_opener() -> _Opener | None:
    # pillow-heif is optional: without it HEIC is refused with 415 instead of breaking imports.
    # Its plugin class is used directly rather than via register_heif_opener(), which would
    # change Pillow's global format registry for the whole process.
    try:
        from pillow_heif.as_plugin import HeifImageFile
    except ImportError:
        return None
    opener: _Opener = HeifImageFile
    return opener


def _open(opener: _Opener, buffer: IO[bytes]) -> ImageFile.ImageFile:
    # The plugin class of the sniffed format is instantiated directly instead of Image.open():
    # no other decoder ever sees the bytes, and Image.open's own decompression-bomb check (a
    # process-global limit that warns, and whose warning can only be silenced through the
    # non-thread-safe warnings filters) is replaced by our explicit per-call limit.
    try:
        return opener(buffer)
    except Image.DecompressionBombError as exc:  # some plugins check Pillow's limit in headers
        raise ImageRejected(
            413, "too_many_pixels", "the image has too many pixels", key="error.image_bomb"
        ) from exc
    except _DECODE_ERRORS as exc:
        raise ImageRejected(
            422, "corrupt_image", "the image header is corrupt", key="error.image_corrupt"
        ) from exc


def _read_meta(img: Image.Image) -> ImageMeta:
    try:
        exif = img.getexif()
        gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
        exif_ifd = exif.get_ifd(ExifTags.IFD.Exif)
    except _METADATA_ERRORS:
        return ImageMeta(gps_lat=None, gps_lon=None, taken_at=None)
    lat, lon = _gps_position(gps)
    taken_at = _taken_at(
        exif_ifd.get(ExifTags.Base.DateTimeOriginal), exif_ifd.get(ExifTags.Base.OffsetTimeOriginal)
    )
    exposure = ev100(
        _real(exif_ifd.get(ExifTags.Base.ExposureTime)),
        _real(exif_ifd.get(ExifTags.Base.FNumber)),
        _real(exif_ifd.get(ExifTags.Base.ISOSpeedRatings)),
    )
    return ImageMeta(gps_lat=lat, gps_lon=lon, taken_at=taken_at, exposure_ev100=exposure)


def _real(value: object) -> float | None:
    """An EXIF number (a rational, an int, or the first of a list of ISO values), or None."""
    if isinstance(value, tuple | list):
        value = value[0] if value else None
    return _finite(value)


def _finite(value: object) -> float | None:
    """A finite real number (EXIF rationals are IFDRationals, a numbers.Rational), or None."""
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (OverflowError, ValueError, ZeroDivisionError):
        return None
    return number if math.isfinite(number) else None


def _gps_position(gps: dict[int, object]) -> tuple[float | None, float | None]:
    # "V" means the receiver had no fix; the coordinates are then stale or garbage.
    if _ascii(gps.get(ExifTags.GPS.GPSStatus)) == "V":
        return None, None
    lat = _gps_coordinate(
        gps.get(ExifTags.GPS.GPSLatitude), gps.get(ExifTags.GPS.GPSLatitudeRef), "N", "S", 90.0
    )
    lon = _gps_coordinate(
        gps.get(ExifTags.GPS.GPSLongitude), gps.get(ExifTags.GPS.GPSLongitudeRef), "E", "W", 180.0
    )
    # Half a position is useless, and 0,0 is what devices without a fix tend to write.
    if lat is None or lon is None or (lat == 0.0 and lon == 0.0):
        return None, None
    return lat, lon


def _gps_coordinate(
    value: object, ref: object, positive: str, negative: str, limit: float
) -> float | None:
    parts = value if isinstance(value, tuple | list) else (value,)
    if not 1 <= len(parts) <= 3:
        return None
    values: list[float] = []
    for part in parts:
        number = _finite(part)
        if number is None or number < 0:
            return None
        values.append(number)
    degrees, minutes, seconds = (*values, 0.0, 0.0)[:3]
    if minutes >= 60 or seconds >= 60:
        return None
    decimal = degrees + minutes / 60 + seconds / 3600
    if decimal > limit:
        return None
    # Without a hemisphere the sign is a guess; a pin on the wrong continent is worse than none.
    hemisphere = _ascii(ref)
    if hemisphere == positive:
        return decimal
    if hemisphere == negative:
        return -decimal
    return None


def _taken_at(value: object, offset: object) -> datetime | None:
    text = _ascii(value)
    if text is None:
        return None
    try:
        taken = datetime.strptime(text, "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None
    match = _OFFSET_RE.fullmatch(_ascii(offset) or "")
    if match is None:
        return taken
    sign = -1 if match[1] == "-" else 1
    try:
        tz = timezone(sign * timedelta(hours=int(match[2]), minutes=int(match[3])))
    except ValueError:
        return taken
    return taken.replace(tzinfo=tz)


def _ascii(value: object) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("ascii", errors="replace")
    if not isinstance(value, str):
        return None
    return value.strip("\x00 ").upper() or None


def _pixels_only(img: ImageFile.ImageFile, stored_type: str) -> Image.Image:
    """Return a new image holding only the oriented, sRGB pixels of ``img``: no ``info`` at all."""
    icc_profile = img.info.get("icc_profile")
    try:
        ImageOps.exif_transpose(img, in_place=True)
    except _METADATA_ERRORS:
        pass  # unreadable orientation: keep the pixels as stored
    work: Image.Image = img
    if isinstance(icc_profile, bytes) and icc_profile:
        work = _to_srgb(work, icc_profile)
    work = _convert_mode(work, stored_type)
    # Image.new starts with empty info, so no EXIF, XMP, ICC, comment or PNG text chunk can be
    # carried into the encoder (several Pillow encoders fall back to im.info for these).
    clean = Image.new(work.mode, work.size)
    clean.paste(work)
    return clean


def _to_srgb(img: Image.Image, icc_profile: bytes) -> Image.Image:
    # The profile is stripped with the rest of the metadata, so the pixels are converted to sRGB
    # first; otherwise Display P3 phone photos or CMYK JPEGs would show wrong colours.
    output_mode = "RGBA" if _has_alpha(img) else "RGB"
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
        converted = ImageCms.profileToProfile(
            img, source, ImageCms.createProfile("sRGB"), outputMode=output_mode
        )
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return img  # broken or mismatching profile: keep the pixels as they are
    return img if converted is None else converted


def _has_alpha(img: Image.Image) -> bool:
    return img.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in img.info


def _convert_mode(img: Image.Image, stored_type: str) -> Image.Image:
    if img.mode.startswith("I"):
        # 16-bit greyscale: scale to 8 bits, a plain convert("L") would clip everything above 255.
        img = img.convert("I").point(lambda value: value * (1 / 257)).convert("L")
    if stored_type == "image/jpeg":
        if _has_alpha(img):
            # JPEG has no alpha; flatten onto white rather than onto whatever hides under it.
            rgba = img.convert("RGBA")
            flat = Image.new("RGB", rgba.size, "white")
            flat.paste(rgba, mask=rgba.getchannel("A"))
            return flat
        return img if img.mode in ("RGB", "L") else img.convert("RGB")
    alpha = _has_alpha(img)
    if stored_type == "image/png" and img.mode in ("L", "LA"):
        target = "LA" if alpha else "L"
    else:
        target = "RGBA" if alpha else "RGB"
    # convert() turns a tRNS colour key ("transparency" in info) into a real alpha channel.
    return img if img.mode == target else img.convert(target)


def _fit(img: Image.Image, max_side: int) -> Image.Image:
    # Like Image.thumbnail, but returns a new image instead of resizing a full-size copy in place.
    width, height = img.size
    if max(width, height) <= max_side:
        return img
    scale = max_side / max(width, height)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return img.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)


def _encode(img: Image.Image, pil_format: str) -> bytes:
    out = io.BytesIO()
    if pil_format == "JPEG":
        img.save(out, "JPEG", quality=_JPEG_QUALITY, optimize=True)
    elif pil_format == "WEBP":
        img.save(out, "WEBP", quality=_WEBP_QUALITY)
    else:
        img.save(out, "PNG")
    return out.getvalue()
