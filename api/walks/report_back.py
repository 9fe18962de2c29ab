"""Publishing a walk's report back: the unlisted page at ``/public/{org_slug}/walks/{walk_id}``
that shows the people who walked what became of their observations. What the page shows is
``api/outputs/public/report_back.py``; here only whether it is shown."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from models import Organization, Walk, utcnow


@dataclass(frozen=True)
class Published:
    walk: Walk
    org_slug: str


def set_published(session: Session, walk: Walk, published: bool) -> Published:
    """Publish (kept at the first publication time when published again) or withdraw."""
    if published and walk.report_back_published_at is None:
        walk.report_back_published_at = utcnow()
        walk.updated_at = utcnow()
    elif not published and walk.report_back_published_at is not None:
        walk.report_back_published_at = None
        walk.updated_at = utcnow()
    session.flush()
    org = session.get(Organization, walk.organization_id)
    assert org is not None
    return Published(walk, org.slug)
