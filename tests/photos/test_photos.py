"""Photos: idempotent upload, metadata stripping, placement from GPS, serving and access."""

from __future__ import annotations

import hashlib
import stat
import struct
import uuid
import zlib
from collections import Counter
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from PIL.PngImagePlugin import PngInfo
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlmodel import col

from api.core.media import MediaStore
from api.photos import imaging
from api.settings import Settings
from models import Participant, ParticipantGroup, Photo, Role, utcnow
from tests.factories import make_user, make_walk
from tests.factories.client import SyncClient
from tests.factories.observations import obs_body
from tests.factories.photos import (
    assert_metadata_free,
    camera_jpeg,
    encode,
    get_photo,
    new_observation,
    opened,
    picture,
    plain_jpeg,
    put_photo,
    stored_files,
)
from tests.factories.world import World, participant_token, staff_token

AUTHOR = "Kari Nordmann"
SIZES = ("thumb", "display", "original")


# --- images --------------------------------------------------------------------------------


def png_with_text() -> bytes:
    info = PngInfo()
    info.add_text("Author", AUTHOR)
    info.add_text("Comment", "taken outside the school gate")
    return encode(picture((64, 48)), "PNG", pnginfo=info)


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def bomb_png(side: int = 10_000) -> bytes:
    """A real decompression bomb: a valid 1-bit PNG of side x side pixels in a few kilobytes."""
    row = b"\x00" + b"\x00" * ((side + 7) // 8)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0))
        + _png_chunk(b"IDAT", zlib.compress(row * side, 9))
        + _png_chunk(b"IEND", b"")
    )


# --- helpers -------------------------------------------------------------------------------


@pytest.fixture
def media_dir(settings: Settings) -> Path:
    return settings.resolved_media_dir


def photo_rows(session: Session, photo_id: str | None = None) -> int:
    stmt = select(func.count()).select_from(Photo)
    if photo_id is not None:
        stmt = stmt.where(col(Photo.id) == uuid.UUID(photo_id))
    return int(session.scalar(stmt) or 0)


def uploaded(client: SyncClient, world: World, data: bytes | None = None, **kw: Any) -> str:
    """An observation by the participant with one photo; returns the photo id."""
    oid = new_observation(client, world, **kw)
    r = put_photo(client, world, oid, data if data is not None else plain_jpeg())
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def _is_red(pixel: Any) -> bool:
    red, green, blue = pixel
    return bool(red > 200 and green < 60 and blue < 60)


# --- upload --------------------------------------------------------------------------------


def test_gps_places_the_observation_and_every_size_is_metadata_free(
    client: SyncClient, world: World
) -> None:
    recorded_at = obs_body(world)["recorded_at"]
    oid = new_observation(client, world, location=None, recorded_at=recorded_at)
    before = client.get(f"/api/v1/observations/{oid}", headers=world.headers("participant"))
    assert (before.json()["location"], before.json()["action_item_id"]) == (None, None)
    r = put_photo(client, world, oid, camera_jpeg((300, 200), orientation=6))
    assert r.status_code == 201, r.text
    photo = r.json()
    pid = photo["id"]
    assert set(photo) == {
        "id",
        "observation_id",
        "media_type",
        "width",
        "height",
        "size_bytes",
        "created_at",
        "urls",
        "action_item_id",  # null: an observation's photo, not a fix photo
        "signed_urls",
        "exposure_ev100",  # null: this camera wrote no exposure
        "estimated_lux",
    }
    assert (photo["observation_id"], photo["media_type"]) == (oid, "image/jpeg")
    assert (photo["width"], photo["height"]) == (200, 300)  # Orientation 6: turned upright
    assert photo["urls"] == {s: f"/api/v1/photos/{pid}?size={s}" for s in SIZES}
    assert "58.85" not in r.text
    assert "5.735" not in r.text

    obs = client.get(f"/api/v1/observations/{oid}", headers=world.headers("participant")).json()
    assert obs["location"]["coordinates"] == pytest.approx([5.7352, 58.8517], abs=1e-6)
    assert obs["area_id"] == str(world.objects["area"].id)
    assert obs["is_dark"] is not None
    assert obs["action_item_id"] is not None  # grouped once it had a place
    assert obs["photo_ids"] == [pid]
    # Only the position is taken from the photo: the phone's time stays (the EXIF says 2021).
    assert datetime.fromisoformat(obs["recorded_at"]) == datetime.fromisoformat(recorded_at)

    for size in SIZES:
        served = get_photo(client, world, pid, size)
        assert served.status_code == 200, (size, served.text)
        assert served.headers["content-type"] == "image/jpeg"
        img = assert_metadata_free(served.content)
        assert img.size == (200, 300)
        # The red block of the top-left corner is now top-right: the pixels were rotated.
        assert _is_red(img.getpixel((195, 5))), size
        assert not _is_red(img.getpixel((5, 5))), size


def test_photo_gps_never_moves_an_observation_that_has_a_location(
    client: SyncClient, world: World
) -> None:
    here = [5.7300, 58.8500]
    oid = new_observation(client, world, location={"type": "Point", "coordinates": here})
    assert put_photo(client, world, oid, camera_jpeg()).status_code == 201
    obs = client.get(f"/api/v1/observations/{oid}", headers=world.headers("participant")).json()
    assert obs["location"]["coordinates"] == pytest.approx(here)


def test_png_text_chunks_are_removed(client: SyncClient, world: World) -> None:
    pid = uploaded(client, world, png_with_text())
    served = get_photo(client, world, pid, "original")
    assert served.headers["content-type"] == "image/png"
    img = opened(served.content)
    assert getattr(img, "text", {}) == {}
    assert "Author" not in img.info
    assert AUTHOR.encode() not in served.content
    assert b"tEXt" not in served.content


def test_same_bytes_replay_other_bytes_conflict(
    client: SyncClient, world: World, session: Session
) -> None:
    oid = new_observation(client, world)
    pid = str(uuid.uuid4())
    first = put_photo(client, world, oid, plain_jpeg(), photo_id=pid)
    assert first.status_code == 201, first.text
    again = put_photo(client, world, oid, plain_jpeg(), photo_id=pid)
    assert again.status_code == 200, again.text
    # Signed links carry their own expiry (time-bucketed); everything else is the stored record.
    signed = {k: v.split("?")[0] for k, v in again.json()["signed_urls"].items()}
    assert signed == {k: v.split("?")[0] for k, v in first.json()["signed_urls"].items()}
    assert again.json() | {"signed_urls": None} == first.json() | {"signed_urls": None}
    assert photo_rows(session, pid) == 1

    other = put_photo(client, world, oid, plain_jpeg(colour="olive"), photo_id=pid)
    assert other.status_code == 409
    assert other.headers["content-type"] == "application/problem+json"

    elsewhere = new_observation(client, world)
    moved = put_photo(client, world, elsewhere, plain_jpeg(), photo_id=pid)
    assert moved.status_code == 409
    assert photo_rows(session, pid) == 1


def test_a_photo_id_of_another_organization_answers_404(
    client: SyncClient, world: World, app: Any, session: Session
) -> None:
    walk = make_walk(session, world.other_org)
    foreign = make_user(session, world.other_org, Role.coordinator)
    session.commit()
    foreign_h = {"Authorization": f"Bearer {staff_token(app, foreign)}"}
    foreign_obs = str(uuid.uuid4())
    r = client.put(
        f"/api/v1/observations/{foreign_obs}",
        headers=foreign_h,
        json=obs_body(world, walk_id=str(walk.id)),
    )
    assert r.status_code == 201, r.text
    pid = str(uuid.uuid4())
    r = client.put(
        f"/api/v1/observations/{foreign_obs}/photos/{pid}",
        headers={**foreign_h, "Content-Type": "image/jpeg"},
        content=plain_jpeg(),
    )
    assert r.status_code == 201, r.text

    mine = new_observation(client, world)
    assert put_photo(client, world, mine, plain_jpeg(), photo_id=pid).status_code == 404


def test_identical_pictures_share_their_files(
    client: SyncClient, world: World, media_dir: Path
) -> None:
    data = plain_jpeg()
    a = uploaded(client, world, data)
    b = uploaded(client, world, data)
    assert a != b
    files = stored_files(media_dir)
    assert len(files) == 3
    original = get_photo(client, world, a, "original")
    sha = hashlib.sha256(original.content).hexdigest()
    assert original.headers["etag"] == f'"{sha}"'
    assert {f.relative_to(media_dir).as_posix() for f in files} == {
        f"{sha[:2]}/{sha[2:4]}/{sha}.{size}.jpg" for size in SIZES
    }
    for f in files:
        assert stat.S_IMODE(f.stat().st_mode) == 0o640
    assert get_photo(client, world, b, "original").content == original.content


BAD_UPLOADS = [
    pytest.param(bomb_png(), 413, "too_many_pixels", id="decompression-bomb-png"),
    pytest.param(plain_jpeg((400, 300))[:-900], 422, "corrupt_image", id="truncated-jpeg"),
    pytest.param(
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        415,
        "unsupported_type",
        id="svg-sent-as-jpeg",
    ),
    pytest.param(
        b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>",
        415,
        "unsupported_type",
        id="html-sent-as-jpeg",
    ),
    pytest.param(encode(picture((32, 32)), "GIF"), 415, "unsupported_type", id="gif"),
    pytest.param(b"", 422, "empty_image", id="empty-body"),
]


@pytest.mark.parametrize(("data", "status", "code"), BAD_UPLOADS)
def test_bad_images_are_refused_and_nothing_is_stored(
    client: SyncClient,
    world: World,
    session: Session,
    media_dir: Path,
    data: bytes,
    status: int,
    code: str,
) -> None:
    oid = new_observation(client, world)
    pid = str(uuid.uuid4())
    r = put_photo(client, world, oid, data, photo_id=pid)
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["code"] == code
    assert photo_rows(session, pid) == 0
    assert stored_files(media_dir) == []


def _chunks(data: bytes, size: int = 1000) -> AsyncIterator[bytes]:
    async def gen() -> AsyncIterator[bytes]:
        for i in range(0, len(data), size):
            yield data[i : i + size]

    return gen()


@pytest.mark.parametrize(
    "how",
    [
        pytest.param("sized", id="body-over-limit"),
        # A small body under a Content-Length over the limit: refused on the header alone.
        pytest.param("declared", id="content-length-over-limit"),
        pytest.param("chunked", id="chunked-body-over-limit"),
    ],
)
def test_over_the_byte_limit_is_413_before_any_processing(
    client: SyncClient,
    world: World,
    app: Any,
    session: Session,
    media_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    how: str,
) -> None:
    data = encode(picture((200, 200)), "PNG")
    limit = len(data) - 1
    monkeypatch.setattr(app.state.settings, "photo_max_bytes", limit)
    processed: list[int] = []
    real_process = imaging.process_image

    def spy(data: bytes, **kw: Any) -> Any:
        processed.append(len(data))
        return real_process(data, **kw)

    monkeypatch.setattr(imaging, "process_image", spy)
    oid = new_observation(client, world)
    pid = str(uuid.uuid4())
    url = f"/api/v1/observations/{oid}/photos/{pid}"
    headers = {**world.headers("participant"), "Content-Type": "image/png"}
    if how == "sized":
        r = client.put(url, headers=headers, content=data)
    elif how == "declared":
        small = encode(picture((8, 8)), "PNG")
        headers["Content-Length"] = str(limit + 1)
        r = client.put(url, headers=headers, content=_chunks(small))
    else:
        r = client.put(url, headers=headers, content=_chunks(data))
        assert "content-length" not in r.request.headers
    assert r.status_code == 413, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["code"] == "too_large"
    assert processed == []
    assert photo_rows(session, pid) == 0
    assert stored_files(media_dir) == []
    monkeypatch.setattr(app.state.settings, "photo_max_bytes", len(data))
    assert put_photo(client, world, oid, data, photo_id=pid).status_code == 201
    assert processed == [len(data)]


def test_a_failed_write_leaves_no_files_no_row_and_no_location(
    client: SyncClient,
    world: World,
    session: Session,
    media_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real_put = MediaStore.put
    calls: list[str] = []

    def put_then_fail(self: MediaStore, data: bytes, suffix: str, **kw: Any) -> str:
        calls.append(suffix)
        if len(calls) == 3:
            raise OSError(28, "No space left on device")
        return real_put(self, data, suffix, **kw)

    monkeypatch.setattr(MediaStore, "put", put_then_fail)
    oid = new_observation(client, world, location=None)
    pid = str(uuid.uuid4())
    r = put_photo(client, world, oid, camera_jpeg(), photo_id=pid)
    assert r.status_code == 500
    assert len(calls) == 3
    assert stored_files(media_dir) == []
    assert photo_rows(session, pid) == 0
    obs = client.get(f"/api/v1/observations/{oid}", headers=world.headers("participant")).json()
    assert obs["location"] is None
    assert obs["area_id"] is None


# --- serving -------------------------------------------------------------------------------


def test_serving_headers_sizes_and_conditional_get(client: SyncClient, world: World) -> None:
    pid = uploaded(client, world, encode(picture((1200, 800)), "JPEG"))
    for size, longest in (("thumb", 512), ("display", 1200), ("original", 1200)):
        r = get_photo(client, world, pid, size)
        assert r.status_code == 200
        assert r.headers["content-type"] == "image/jpeg"
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["cache-control"] == "private, max-age=3600"
        assert r.headers["content-disposition"] == f'inline; filename="{pid}-{size}.jpg"'
        assert r.headers["etag"] == f'"{hashlib.sha256(r.content).hexdigest()}"'
        assert max(opened(r.content).size) == longest

    default = get_photo(client, world, pid, size="display")
    assert (
        client.get(f"/api/v1/photos/{pid}", headers=world.headers("participant")).content
        == default.content
    )
    etag = default.headers["etag"]
    cached = get_photo(client, world, pid, if_none_match=etag)
    assert cached.status_code == 304
    assert cached.content == b""
    assert cached.headers["etag"] == etag
    weak = get_photo(
        client,
        world,
        pid,
        if_none_match=f'"nope", W/{etag}',
    )
    assert weak.status_code == 304
    stale = get_photo(client, world, pid, if_none_match='"nope"')
    assert stale.status_code == 200
    assert stale.content == default.content


@pytest.mark.parametrize(
    "size", [pytest.param("huge", id="unknown-size"), pytest.param("", id="empty-size")]
)
def test_bad_size_is_422(client: SyncClient, world: World, size: str) -> None:
    pid = uploaded(client, world)
    r = get_photo(client, world, pid, size)
    assert r.status_code == 422
    assert r.json()["errors"][0]["loc"] == ["query", "size"]


def test_missing_file_is_a_404_problem(client: SyncClient, world: World, media_dir: Path) -> None:
    pid = uploaded(client, world)
    for f in stored_files(media_dir):
        f.unlink()
    r = get_photo(client, world, pid)
    assert r.status_code == 404
    assert r.headers["content-type"] == "application/problem+json"


# --- access --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "status"),
    [
        pytest.param("participant", 200, id="author"),
        pytest.param("planner", 200, id="planner"),
        pytest.param("engineer", 200, id="engineer"),
        pytest.param("coordinator", 200, id="coordinator"),
        pytest.param("other_participant", 404, id="participant-of-another-walk"),
        pytest.param("foreign_admin", 404, id="admin-of-another-organization"),
        pytest.param("anonymous", 401, id="anonymous"),
    ],
)
def test_who_may_see_a_photo(client: SyncClient, world: World, who: str, status: int) -> None:
    pid = uploaded(client, world)
    r = get_photo(client, world, pid, who=who)
    assert r.status_code == status, r.text
    if status == 200:
        assert r.headers["content-type"] == "image/jpeg"


def _walk_mate(app: Any, session: Session, world: World) -> dict[str, str]:
    mate = Participant(
        organization_id=world.org.id, walk_id=world.walk.id, group=ParticipantGroup.resident
    )
    session.add(mate)
    session.flush()
    session.commit()
    return {"Authorization": f"Bearer {participant_token(app, mate)}"}


def test_only_the_author_and_staff_may_add_photos(
    client: SyncClient, world: World, app: Any, session: Session, media_dir: Path
) -> None:
    oid = new_observation(client, world)
    mate = _walk_mate(app, session, world)
    r = client.put(
        f"/api/v1/observations/{oid}/photos/{uuid.uuid4()}",
        headers={**mate, "Content-Type": "image/jpeg"},
        content=plain_jpeg(),
    )
    assert r.status_code == 404
    assert stored_files(media_dir) == []
    other = put_photo(client, world, oid, plain_jpeg(), who="other_participant")
    assert other.status_code == 404
    foreign = put_photo(client, world, oid, plain_jpeg(), who="foreign_admin")
    assert foreign.status_code == 404

    staff = put_photo(client, world, oid, plain_jpeg(), who="coordinator")
    assert staff.status_code == 201, staff.text
    row = session.get(Photo, uuid.UUID(staff.json()["id"]))
    assert row is not None
    assert row.uploaded_by_user_id == world.users["coordinator"].id
    assert row.uploaded_by_participant_id is None

    # A walk mate may look at the photo, like at the observation.
    seen = client.get(f"/api/v1/photos/{staff.json()['id']}", headers=mate)
    assert seen.status_code == 200


def test_photos_of_a_hidden_observation_are_hidden_from_participants(
    client: SyncClient, world: World
) -> None:
    oid = new_observation(client, world)
    r = put_photo(client, world, oid, plain_jpeg())
    pid = r.json()["id"]
    hide = client.patch(
        f"/api/v1/observations/{oid}",
        headers=world.headers("coordinator"),
        json={"moderation": "hidden"},
    )
    assert hide.status_code == 200, hide.text
    assert get_photo(client, world, pid).status_code == 404
    assert get_photo(client, world, pid, who="coordinator").status_code == 200
    # The author cannot add to it either.
    assert put_photo(client, world, oid, plain_jpeg()).status_code == 404


def test_unknown_photo_and_observation_are_404(client: SyncClient, world: World) -> None:
    assert get_photo(client, world, str(uuid.uuid4()), who="admin").status_code == 404
    r = put_photo(client, world, str(uuid.uuid4()), plain_jpeg(), who="admin")
    assert r.status_code == 404


# --- concurrency (real commits) ------------------------------------------------------------


def test_concurrent_puts_of_one_photo_store_it_once(
    live: tuple[Any, Any, dict[str, Any]],
) -> None:
    app, factory, ids = live
    headers = {"Authorization": f"Bearer {staff_token(app, ids['user'])}"}
    oid = str(uuid.uuid4())
    body = {
        "walk_id": str(ids["walk"]),
        "category": "lighting",
        "recorded_at": (utcnow() - timedelta(minutes=1)).isoformat(),
    }
    photo_url = f"/api/v1/observations/{oid}/photos/{uuid.uuid4()}"
    with SyncClient(app) as client:
        assert (
            client.put(f"/api/v1/observations/{oid}", json=body, headers=headers).status_code == 201
        )
        responses = client.gather(
            [("PUT", photo_url, {"content": plain_jpeg(), "headers": headers})] * 8
        )
    statuses = Counter(r.status_code for r in responses)
    assert statuses == {201: 1, 200: 7}, [r.text for r in responses if r.status_code >= 300]
    assert len({r.text for r in responses}) == 1  # all answer with the stored record
    with factory() as s:
        assert s.scalar(select(func.count()).select_from(Photo)) == 1
    assert len(stored_files(app.state.settings.resolved_media_dir)) == 3
