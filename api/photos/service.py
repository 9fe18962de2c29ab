"""Photos: idempotent upload of an observation's image, and serving its stored renditions.

Uploads are keyed by the client's UUID like observations: the same bytes again answer with the
stored record, other bytes under the same id are a conflict. What is stored is what
:func:`api.photos.imaging.process_image` returns: pixels only, in three sizes. The GPS position
in the upload is used once, to place an observation that has none yet, and then discarded.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from shapely.geometry import Point
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlmodel import col

from api.action_items import DEFAULT_RULES, GroupingRules
from api.auth.principal import Principal
from api.core import tenancy
from api.core.errors import (
    Conflict,
    DomainError,
    Forbidden,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    UnsupportedMediaType,
)
from api.core.media import MediaStore, PhotoSize, extension
from api.core.signing import PhotoSigner, SignatureExpired, SignatureInvalid, verify_photo_signature
from api.observations.changed import observation_changed
from api.observations.plausibility import hold_if_needed
from api.observations.service import get_visible, place
from api.privacy import sensitive
from geo.exposure import lux_from_ev100
from models import ActionItem, Category, Observation, Photo
from models.observations import PhotoRead

if TYPE_CHECKING:
    from api.photos.imaging import ImageMeta, ImageRejected, ProcessedImage

log = logging.getLogger("safewalk")


_REJECTIONS: Final[dict[int, type[DomainError]]] = {
    413: PayloadTooLarge,
    415: UnsupportedMediaType,
    422: InvalidInput,
}


@dataclass
class Upload:
    photo: Photo
    created: bool


@dataclass(frozen=True)
class PhotoFile:
    data: bytes
    media_type: str
    etag: str
    filename: str


def observation_for_upload(
    session: Session, principal: Principal, obs_id: uuid.UUID
) -> Observation:
    """The observation a photo may be added to: staff of its organization, or its author.

    Another participant of the same walk gets the same 404 as for an unknown id.
    """
    obs = get_visible(session, principal, obs_id)
    if principal.participant is not None and obs.participant_id != principal.participant.id:
        raise NotFound(key="error.no_such_observation")
    return obs


def rejected(exc: ImageRejected) -> DomainError:
    """The problem-details error for an unacceptable image, carrying its machine-readable code."""
    kind = _REJECTIONS[exc.status]
    if exc.key is None:
        errors = [{"loc": ["body"], "msg": exc.detail}] if kind is InvalidInput else None
        return kind(exc.detail, errors=errors, code=exc.code)
    loc = ["body"] if kind is InvalidInput else None
    return kind(key=exc.key, params=exc.params, loc=loc, code=exc.code)


def upload(
    session: Session,
    principal: Principal,
    obs: Observation | ActionItem,
    photo_id: uuid.UUID,
    data: bytes,
    *,
    store: MediaStore,
    max_bytes: int,
    max_pixels: int,
    rules: GroupingRules = DEFAULT_RULES,
) -> Upload:
    """Store ``data`` as photo ``photo_id`` of ``obs`` (an observation, or an action item's fix):
    all or nothing, idempotent by the bytes."""
    upload_sha256 = hashlib.sha256(data).hexdigest()
    found = _existing(session, photo_id, obs, upload_sha256)
    if found is not None:
        return found
    # Pillow and its codecs are imported by the first upload, not by every worker at start.
    from api.photos.imaging import ImageRejected, process_image

    try:
        image = process_image(data, max_bytes=max_bytes, max_pixels=max_pixels)
    except ImageRejected as exc:
        raise rejected(exc) from exc

    digest = hashlib.sha256(image.original).hexdigest()
    photo = Photo(
        id=photo_id,
        organization_id=obs.organization_id,
        observation_id=obs.id if isinstance(obs, Observation) else None,
        action_item_id=obs.id if isinstance(obs, ActionItem) else None,
        upload_sha256=upload_sha256,
        sha256=digest,
        media_type=image.media_type,
        size_bytes=len(image.original),
        width=image.width,
        height=image.height,
        uploaded_by_participant_id=principal.participant.id if principal.participant else None,
        uploaded_by_user_id=principal.user.id if principal.user else None,
        exposure_ev100=_rounded(image.meta.exposure_ev100, 2),
        estimated_lux=(
            _rounded(lux_from_ev100(image.meta.exposure_ev100), 2)
            if image.meta.exposure_ev100 is not None
            else None
        ),
    )
    # The row is flushed before any file is written, so a conflict costs no disk writes. A failure
    # while writing removes the files this upload created (never files an earlier photo shares)
    # and rolls the rows back. If the request's final commit fails, after this function, the
    # files stay behind as orphans: tolerated, as they hold pixels only, are reachable only
    # through a Photo row naming their sha256, and a sweep can delete files no row names.
    created: list[str] = []
    savepoint = session.begin_nested()
    try:
        if isinstance(obs, Observation):
            _place_from(session, obs, image.meta, rules)
        session.add(photo)
        session.flush()
        _write_renditions(store, image, digest, created)
        savepoint.commit()
    except BaseException as exc:
        savepoint.rollback()
        for key in created:
            store.delete(key)
        if isinstance(exc, IntegrityError):
            # Another request stored the same photo id between our check and our insert.
            found = _existing(session, photo_id, obs, upload_sha256)
            if found is not None:
                return found
            if getattr(exc.orig, "sqlstate", None) == "23505":
                # The id is taken by a row row-level security hides (another organization's):
                # the same 404 as when _existing sees it.
                raise NotFound(key="error.no_such_photo") from exc
        raise
    return Upload(photo, created=True)


def _rounded(value: float | None, digits: int) -> float | None:
    return round(value, digits) if value is not None else None


def _existing(
    session: Session, photo_id: uuid.UUID, obs: Observation | ActionItem, upload_sha256: str
) -> Upload | None:
    photo = session.get(Photo, photo_id, populate_existing=True)
    if photo is None:
        return None
    if photo.organization_id != obs.organization_id:
        raise NotFound(key="error.no_such_photo")  # the wall: no hint that the id exists elsewhere
    owner = photo.observation_id if isinstance(obs, Observation) else photo.action_item_id
    if owner != obs.id:
        kind = "observation" if isinstance(obs, Observation) else "item"
        raise Conflict(
            key="error.photo_belongs_elsewhere", params={"photo_id": photo_id, "kind": kind}
        )
    if photo.upload_sha256 != upload_sha256:
        raise Conflict(key="error.photo_other_bytes", params={"photo_id": photo_id})
    return Upload(photo, created=False)


def _place_from(session: Session, obs: Observation, meta: ImageMeta, rules: GroupingRules) -> None:
    """Locate an observation that has no location yet at the photo's GPS position.

    Only the position is taken: the photo's capture time never replaces ``recorded_at``, which
    the phone set when the observation was made.
    """
    if obs.location is not None or meta.gps_lat is None or meta.gps_lon is None:
        return
    place(session, obs, Point(meta.gps_lon, meta.gps_lat))
    hold_if_needed(session, obs)  # placed outside every area: held for review, like capture
    session.flush()
    observation_changed(session, obs, rules)
    session.flush()


def _write_renditions(
    store: MediaStore, image: ProcessedImage, digest: str, created: list[str]
) -> None:
    ext = extension(image.media_type)
    renditions = {
        PhotoSize.original: image.original,
        PhotoSize.display: image.display,
        PhotoSize.thumb: image.thumb,
    }
    for size, data in renditions.items():
        key = store.key_for(digest, f"{size}.{ext}")
        if store.exists(key):
            # The same picture was stored before: share its files, and mark them used so the
            # orphan sweep's grace period covers them until this row is committed.
            store.touch(key)
            continue
        store.put(data, f"{size}.{ext}", digest=digest)
        created.append(key)


def get_readable(session: Session, principal: Principal, photo_id: uuid.UUID) -> Photo:
    """A photo whose observation the caller may see (a fix photo: staff); 404 otherwise, like
    an unknown id."""
    photo = session.get(Photo, photo_id)
    if photo is None or photo.organization_id != principal.org_id:
        raise NotFound(key="error.no_such_photo")
    if photo.observation_id is None:
        if principal.user is None:
            raise NotFound(key="error.no_such_photo")
        return photo
    try:
        obs = get_visible(session, principal, photo.observation_id)
    except NotFound:
        raise NotFound(key="error.no_such_photo") from None
    # Sensitive places: whoever sees the observation generalised sees none of its photos.
    cat = session.get(Category, obs.category_id)
    if sensitive.observation_hidden_from(
        principal,
        sensitive=cat is None or cat.sensitive,
        participant_id=obs.participant_id,
    ):
        raise NotFound(key="error.no_such_photo")
    return photo


def get_signed(
    session: Session,
    secret: str,
    photo_id: uuid.UUID,
    size: str,
    expires: int | None,
    sig: str | None,
) -> Photo:
    """The photo a signed link names; the link is the credential, checked like a token."""
    # The link names no organization: the one read before it is checked is which organization
    # the photo belongs to (api/core/tenancy.py); the photo itself is read acting for that one.
    with tenancy.lookup(session, "photo"):
        org_id = session.scalar(select(col(Photo.organization_id)).where(col(Photo.id) == photo_id))
    if org_id is None:
        raise NotFound(key="error.no_such_photo")
    try:
        # Keyed by the photo's own organization: a link for another organization's photo (or
        # another id, size or expiry) does not verify.
        verify_photo_signature(secret, photo_id, org_id, size, expires, sig)
    except SignatureExpired as exc:
        raise Forbidden(key="error.signature_expired") from exc
    except SignatureInvalid as exc:
        raise Forbidden(key="error.signature_invalid") from exc
    tenancy.bind(session, org_id)
    photo = session.get(Photo, photo_id)
    if photo is None:  # pragma: no cover - deleted between the two reads
        raise NotFound(key="error.no_such_photo")
    return photo


def photo_file(store: MediaStore, photo: Photo, size: PhotoSize) -> PhotoFile:
    ext = extension(photo.media_type)
    try:
        data = store.read(store.key_for(photo.sha256, f"{size}.{ext}"))
    except FileNotFoundError:
        log.error("photo %s: the %s file is missing from the media store", photo.id, size)
        raise NotFound(key="error.photo_file_missing") from None
    # The original's hash is its file name; the smaller sizes are hashed as served.
    etag = photo.sha256 if size == PhotoSize.original else hashlib.sha256(data).hexdigest()
    return PhotoFile(
        data=data, media_type=photo.media_type, etag=etag, filename=f"{photo.id}-{size}.{ext}"
    )


def to_read(photo: Photo, signer: PhotoSigner) -> PhotoRead:
    """The stored photo; ``signer`` (from the router, which knows where the API lives) gives
    both the header-protected paths and the signed links."""
    return PhotoRead(
        id=photo.id,
        observation_id=photo.observation_id,
        action_item_id=photo.action_item_id,
        signed_urls=signer.urls(photo.id, photo.organization_id),
        media_type=photo.media_type,
        width=photo.width,
        height=photo.height,
        size_bytes=photo.size_bytes,
        created_at=photo.created_at,
        urls=signer.plain(photo.id),
        exposure_ev100=photo.exposure_ev100,
        estimated_lux=photo.estimated_lux,
    )


__all__ = [
    "PhotoFile",
    "PhotoSize",
    "Upload",
    "get_readable",
    "get_signed",
    "observation_for_upload",
    "photo_file",
    "rejected",
    "to_read",
    "upload",
]
