"""Observations: idempotent PUT by client UUID, batches from offline queues, lists (an action
item's too), moderation."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import BackgroundTasks, Depends, Query, Request, Response
from pydantic import AwareDatetime
from sqlalchemy.orm import Session

from api.action_items.deps_router import RulesDep, ValidItem
from api.auth.deps_router import PrincipalDep
from api.auth.principal import Principal
from api.core.paging import Page, clamp_limit, page_sorted
from api.core.signing import PhotoSigner
from api.http.bbox import parse_bbox
from api.http.deps import MediaDep, PageDep, PageQuery, SessionDep, SignerDep
from api.http.paging import next_url, page_of
from api.http.problems import request_language
from api.http.routing import api_router
from api.observations import edits as observation_edits
from api.observations import nearby as nearby_service
from api.observations import service as obs_service
from models import Moderation, Observation
from models.observations import (
    BatchIn,
    BatchOut,
    NearbyOut,
    ObservationIn,
    ObservationPatch,
    ObservationRead,
)

router = api_router("observations")


def valid_observation(id: uuid.UUID, principal: PrincipalDep, session: SessionDep) -> Observation:
    return obs_service.get_visible(session, principal, id)


ValidObservation = Annotated[Observation, Depends(valid_observation)]


@router.put(
    "/observations/{id}",
    response_model=ObservationRead,
    responses={201: {"model": ObservationRead}},
)
def put_observation(
    id: uuid.UUID,
    body: ObservationIn,
    principal: PrincipalDep,
    session: SessionDep,
    response: Response,
    request: Request,
    signer: SignerDep,
    rules: RulesDep,
) -> ObservationRead:
    """Create by client UUID: 201 when stored, 200 for an identical replay, 409 for another body.

    A point far from the walk's area or route is a 422 naming ``location``; a point outside
    every area of the organization is stored but held for review (``moderation: submitted``).
    """
    # Committed once written: the group's lock is not held while the answer is built.
    done = obs_service.capture(
        session, principal, id, body,
        max_distance_m=request.app.state.settings.walk_max_distance_m, rules=rules,
        checkpoint=session.commit,
    )  # fmt: skip
    response.status_code = 201 if done.created else 200
    return obs_service.to_reads(session, [done.observation], signer, principal=principal)[0]


@router.post("/observations/batch", response_model=BatchOut)
def post_batch(
    body: BatchIn, principal: PrincipalDep, session: SessionDep, request: Request, rules: RulesDep
) -> BatchOut:
    # Committed after every chunk, so a long outbox does not hold its locks throughout.
    return obs_service.capture_batch(
        session, principal, body.observations,
        max_distance_m=request.app.state.settings.walk_max_distance_m, rules=rules,
        checkpoint=session.commit, lang=request_language(request),
    )  # fmt: skip


@router.get("/observations", response_model=Page[ObservationRead])
def list_observations(
    request: Request,
    principal: PrincipalDep,
    session: SessionDep,
    signer: SignerDep,
    page: PageDep,
    walk_id: uuid.UUID | None = None,
    area_id: uuid.UUID | None = None,
    category: str | None = None,
    bbox: str | None = Query(default=None, description="minLon,minLat,maxLon,maxLat"),
    since: AwareDatetime | None = None,
    until: AwareDatetime | None = None,
    moderation: Moderation | None = None,
    action_item_id: uuid.UUID | None = None,
) -> Page[ObservationRead]:
    f = obs_service.ObservationFilter(
        walk_id=walk_id,
        area_id=area_id,
        category=category,
        bbox=parse_bbox(bbox),
        since=since,
        until=until,
        moderation=moderation,
        action_item_id=action_item_id,
    )
    return _observations_page(request, session, principal, signer, page, f)


# Before /observations/{id}, which would otherwise take "nearby" for an id.
@router.get("/action-items/{id}/observations", response_model=Page[ObservationRead])
def item_observations(
    request: Request,
    item: ValidItem,
    principal: PrincipalDep,
    session: SessionDep,
    signer: SignerDep,
    page: PageDep,
) -> Page[ObservationRead]:
    """What the item was made of: notes, severity, darkness, photos (signed links), and the
    reporter's group at most, never the person."""
    f = obs_service.ObservationFilter(action_item_id=item.id)
    return _observations_page(request, session, principal, signer, page, f)


def _observations_page(
    request: Request,
    session: Session,
    principal: Principal,
    signer: PhotoSigner,
    page: PageQuery,
    f: obs_service.ObservationFilter,
) -> Page[ObservationRead]:
    rows, nxt = obs_service.list_page(session, principal, f, n=page.n, cursor=page.cursor)
    return page_of(request, obs_service.to_reads(session, rows, signer, principal=principal), nxt)


@router.get("/observations/nearby", response_model=NearbyOut)
def nearby(
    request: Request,
    principal: PrincipalDep,
    session: SessionDep,
    lat: Annotated[float, Query(ge=-90, le=90, allow_inf_nan=False)],
    lon: Annotated[float, Query(ge=-180, le=180, allow_inf_nan=False)],
    category: Annotated[str | None, Query(min_length=1, max_length=40)] = None,
    radius: Annotated[
        float, Query(gt=0, le=nearby_service.MAX_RADIUS_M, allow_inf_nan=False)
    ] = nearby_service.DEFAULT_RADIUS_M,
    limit: Annotated[int | None, Query(description="at most 20 a page")] = None,
    cursor: str | None = None,
) -> NearbyOut:
    """Open action items (of ``category``) within ``radius`` metres, nearest first: for the field
    app's "is this already reported?"."""
    found = nearby_service.nearby_items(
        session, principal, lon=lon, lat=lat, radius_m=radius, category=category
    )
    n = clamp_limit(limit, nearby_service.MAX_ITEMS)
    items, nxt = page_sorted(found, nearby_service.nearness, n, cursor)
    return NearbyOut(items=items, next=next_url(request, nxt))


@router.get("/observations/{id}", response_model=ObservationRead)
def get_observation(
    obs: ValidObservation, principal: PrincipalDep, session: SessionDep, signer: SignerDep
) -> ObservationRead:
    return obs_service.to_reads(session, [obs], signer, principal=principal)[0]


@router.patch("/observations/{id}", response_model=ObservationRead)
def patch_observation(
    obs: ValidObservation,
    body: ObservationPatch,
    principal: PrincipalDep,
    session: SessionDep,
    signer: SignerDep,
    rules: RulesDep,
) -> ObservationRead:
    """Coordinators moderate (``moderation``, ``duplicate_of``, ``reason``); the author corrects
    ``note``, ``category``, ``severity``, ``perceived_safety`` while the walk is open."""
    changed = observation_edits.patch(session, principal, obs, body, rules)
    return obs_service.to_reads(session, [changed], signer, principal=principal)[0]


@router.delete("/observations/{id}", status_code=204, response_class=Response)
def withdraw_observation(
    obs: ValidObservation,
    principal: PrincipalDep,
    session: SessionDep,
    store: MediaDep,
    background: BackgroundTasks,
    rules: RulesDep,
) -> Response:
    """Withdraw: hidden, out of its action item, its photos deleted (files too). The author while
    the walk is open; coordinators at any time."""
    orphaned = observation_edits.withdraw(session, principal, obs, rules)
    # Files go after the commit (background tasks run after it): a failed commit keeps them.
    background.add_task(observation_edits.delete_files, store, orphaned)
    return Response(status_code=204)
