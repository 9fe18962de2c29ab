"""``POST /walks/{id}/report-back``: a coordinator publishes the walk's report back (or
withdraws it); the answer carries the page's link to print or share."""

from __future__ import annotations

from typing import Annotated

from fastapi import Body, Request

from api.http.deps import SessionDep
from api.http.routing import api_router
from api.walks import report_back
from api.walks.deps_router import ValidWalk
from models.walks import ReportBackRequest, ReportBackState

router = api_router("walks")


@router.post("/walks/{id}/report-back", response_model=ReportBackState)
def publish_report_back(
    request: Request,
    walk: ValidWalk,
    session: SessionDep,
    body: Annotated[ReportBackRequest | None, Body()] = None,
) -> ReportBackState:
    """Publish the report back (no body, or `{"published": true}`), or withdraw it with
    `{"published": false}`: the page then answers 404 again. Anyone with the link may read a
    published one; it is listed nowhere."""
    wanted = body.published if body is not None else True
    done = report_back.set_published(session, walk, wanted)
    url = request.url_for("report_back_page", org_slug=done.org_slug, walk_id=str(walk.id))
    return ReportBackState(
        walk_id=walk.id,
        published=done.walk.report_back_published_at is not None,
        published_at=done.walk.report_back_published_at,
        url=str(url),
    )
