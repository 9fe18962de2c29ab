"""Photo ids and signed links of several observations or action items, in one query."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from api.core.signing import PhotoSigner
from models import RESOLVED_STATUSES, ActionItem, Photo
from models.observations import PhotoLink


def photo_links(
    session: Session,
    owner_ids: Sequence[uuid.UUID],
    signer: PhotoSigner | None,
    *,
    of_items: bool = False,
) -> dict[uuid.UUID, list[PhotoLink]]:
    """Per observation (or per item, for fix photos): its photos, oldest first, with signed
    links when the caller (a router) gave a signer.

    An item's photos count as its fix only while it is resolved or verified: a photo sent
    before a resolution that did not happen (or of a fix that did not hold, once reopened) is
    not shown as the fix, in the item nor in its exports."""
    if not owner_ids:
        return {}
    owner = col(Photo.action_item_id) if of_items else col(Photo.observation_id)
    out: dict[uuid.UUID, list[PhotoLink]] = {}
    stmt = select(col(Photo.id), owner, col(Photo.organization_id)).where(
        owner.in_(list(owner_ids))
    )
    if of_items:
        stmt = stmt.join(ActionItem, col(ActionItem.id) == owner).where(
            col(ActionItem.status).in_([str(s) for s in RESOLVED_STATUSES])
        )
    rows = session.execute(stmt.order_by(col(Photo.created_at), col(Photo.id))).all()
    for pid, oid, org in rows:
        if oid is None:
            continue
        urls = signer.urls(pid, org) if signer is not None else None
        out.setdefault(oid, []).append(PhotoLink(id=pid, urls=urls))
    return out
