"""Photos: raw image bytes PUT by client UUID onto an observation or, as a photo of the fix,
onto an action item; and the stored renditions.

The routes are plain ``def`` (they use the sync session and run in the thread pool, which is also
where the image processing belongs); only reading the request body is async, in a dependency
that does no database work and stops reading at the byte limit.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Header, Query, Request, Response
from sqlalchemy.orm import Session

from api.action_items import DEFAULT_RULES, GroupingRules, workflow
from api.action_items.deps_router import RulesDep, ValidItem
from api.auth.deps_router import PrincipalDep
from api.auth.principal import Principal
from api.core.errors import PayloadTooLarge
from api.core.media import MediaStore, PhotoSize
from api.core.signing import PhotoSigner
from api.http.deps import MediaDep, SessionDep, SettingsDep, SignerDep
from api.http.routing import api_router
from api.photos import service as photo_service
from api.settings import Settings
from models import ActionItem, Observation, Photo
from models.observations import PhotoRead

router = api_router("photos")

CACHE_CONTROL = "private, max-age=3600"

IMAGE_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "The image file itself (JPEG, PNG, WebP or HEIC); the type is read from "
        "the bytes, not from Content-Type.",
        "content": {
            media_type: {"schema": {"type": "string", "format": "binary"}}
            for media_type in ("image/jpeg", "image/png", "image/webp", "image/heic")
        },
    }
}
_IMAGE_CONTENT = {
    media_type: {"schema": {"type": "string", "format": "binary"}}
    for media_type in ("image/jpeg", "image/png", "image/webp")
}


def upload_target(id: uuid.UUID, principal: PrincipalDep, session: SessionDep) -> Observation:
    return photo_service.observation_for_upload(session, principal, id)


async def photo_bytes(request: Request, settings: SettingsDep) -> bytes:
    """The request body, refused with 413 as soon as it is known to exceed the limit."""
    limit = settings.photo_max_bytes
    too_large = PayloadTooLarge(
        key="error.photo_too_large", params={"limit": limit}, code="too_large"
    )
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large
    chunks: list[bytes] = []
    received = 0
    async for chunk in request.stream():
        received += len(chunk)
        if received > limit:  # a chunked upload, or a Content-Length that lied
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


@dataclass(frozen=True)
class PhotoPut:
    """One PUT of image bytes by client UUID, and what storing them needs: the same for an
    observation's photo and a photo of the fix."""

    photo_id: uuid.UUID
    data: bytes
    principal: Principal
    session: Session
    settings: Settings
    store: MediaStore
    signer: PhotoSigner
    response: Response

    def upload(
        self, owner: Observation | ActionItem, rules: GroupingRules = DEFAULT_RULES
    ) -> photo_service.Upload:
        return photo_service.upload(
            self.session, self.principal, owner, self.photo_id, self.data,
            store=self.store, max_bytes=self.settings.photo_max_bytes,
            max_pixels=self.settings.photo_max_pixels, rules=rules,
        )  # fmt: skip

    def answer(self, done: photo_service.Upload) -> PhotoRead:
        """201 when stored, 200 for the same bytes again."""
        self.response.status_code = 201 if done.created else 200
        return photo_service.to_read(done.photo, self.signer)


def photo_put(
    photo_id: uuid.UUID,
    data: Annotated[bytes, Depends(photo_bytes)],
    principal: PrincipalDep,
    session: SessionDep,
    settings: SettingsDep,
    store: MediaDep,
    signer: SignerDep,
    response: Response,
) -> PhotoPut:
    return PhotoPut(photo_id, data, principal, session, settings, store, signer, response)


# Parameter order is dependency order: the 404 for someone who may not add a photo here (the
# target) comes before the body is read (the put).
UploadTarget = Annotated[Observation, Depends(upload_target)]
PhotoPutDep = Annotated[PhotoPut, Depends(photo_put)]


# Both uploads (an observation's photo and a photo of the fix) run the same checks.
UPLOAD_RESPONSES: dict[int | str, dict[str, Any]] = {
    201: {"model": PhotoRead, "description": "Stored"},
    409: {"description": "The photo id is taken by other bytes, or by another observation or item"},
    413: {"description": "Too many bytes or pixels"},
    415: {"description": "Not a JPEG, PNG, WebP or HEIC image"},
    422: {"description": "Empty, corrupt or truncated image"},
}


@router.put(
    "/observations/{id}/photos/{photo_id}",
    response_model=PhotoRead,
    responses=UPLOAD_RESPONSES,
    openapi_extra=IMAGE_BODY,
)
def put_photo(obs: UploadTarget, put: PhotoPutDep, rules: RulesDep) -> PhotoRead:
    """Add a photo by client UUID: 201 when stored, 200 for the same bytes again, 409 otherwise.

    Only the author of the observation and staff may add photos. All metadata is removed; a GPS
    position in the photo places an observation that has no location yet.
    """
    return put.answer(put.upload(obs, rules))


def valid_photo(
    request: Request,
    photo_id: uuid.UUID,
    principal: PrincipalDep,
    session: SessionDep,
    size: PhotoSize = PhotoSize.display,
    expires: Annotated[int | None, Query(description="signed link: expiry, Unix seconds")] = None,
    sig: Annotated[str | None, Query(description="signed link: signature")] = None,
) -> Photo:
    """A signed link is its own credential (no header needed); otherwise the caller's token."""
    if sig is not None or expires is not None:
        return photo_service.get_signed(
            session, request.app.state.secret, photo_id, str(size), expires, sig
        )
    return photo_service.get_readable(session, principal, photo_id)


ValidPhoto = Annotated[Photo, Depends(valid_photo)]


@router.get(
    "/photos/{photo_id}",
    response_class=Response,
    responses={
        200: {"content": _IMAGE_CONTENT, "description": "The stored, metadata-free image"},
        304: {"description": "Not modified (If-None-Match matched the ETag)"},
    },
)
def get_photo(
    photo: ValidPhoto,
    store: MediaDep,
    size: PhotoSize = PhotoSize.display,
    sig: str | None = None,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    """The image. With ``expires`` and ``sig`` (a signed link from a read), no header is needed."""
    signed = sig is not None
    found = photo_service.photo_file(store, photo, size)
    headers = {
        "ETag": f'"{found.etag}"',
        "Cache-Control": CACHE_CONTROL,
        "X-Content-Type-Options": "nosniff",
    }
    if signed:
        # The link, not a session, grants access: shared caches must not keep it past expiry.
        headers["Cache-Control"] = "private, max-age=900"
    if _matches(if_none_match, found.etag):
        return Response(status_code=304, headers=headers)
    headers["Content-Disposition"] = f'inline; filename="{found.filename}"'
    return Response(content=found.data, media_type=found.media_type, headers=headers)


def _matches(if_none_match: str | None, etag: str) -> bool:
    """Weak comparison, as RFC 9110 prescribes for If-None-Match."""
    if if_none_match is None:
        return False
    for candidate in if_none_match.split(","):
        tag = candidate.strip().removeprefix("W/")
        if tag == "*" or tag == f'"{etag}"':
            return True
    return False


@router.put(
    "/action-items/{id}/photos/{photo_id}",
    response_model=PhotoRead,
    responses=UPLOAD_RESPONSES,
    openapi_extra=IMAGE_BODY,
)
def put_fix_photo(item: ValidItem, put: PhotoPutDep) -> PhotoRead:
    """A photo of the fix, by client UUID (201 stored, 200 the same bytes again, 409 other
    bytes); the same checks and metadata stripping as observation photos."""
    done = workflow.add_fix_photo(
        put.session, put.principal, item, put.photo_id, lambda: put.upload(item)
    )
    return put.answer(done)
