"""Observations: idempotent PUT by client UUID, batches from offline queues, lists, moderation."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Query, Request, Response
from pydantic import AwareDatetime

from api.auth import PrincipalDep
from api.deps import SessionDep, SignerDep
from api.paging import Page, next_url
from api.routers import api_router
from api.services import observations as obs_service
from models import Moderation, Observation
from models.observations import (
    BatchIn,
    BatchOut,
    ObservationIn,
    ObservationModerate,
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
    signer: SignerDep,
) -> ObservationRead:
    """Create by client UUID: 201 when stored, 200 for an identical replay, 409 for another body."""
    done = obs_service.capture(session, principal, id, body)
    response.status_code = 201 if done.created else 200
    return obs_service.to_reads(session, [done.observation], signer)[0]


@router.post("/observations/batch", response_model=BatchOut)
def post_batch(body: BatchIn, principal: PrincipalDep, session: SessionDep) -> BatchOut:
    return obs_service.capture_batch(session, principal, body.observations)


@router.get("/observations", response_model=Page[ObservationRead])
def list_observations(
    request: Request,
    principal: PrincipalDep,
    session: SessionDep,
    signer: SignerDep,
    walk_id: uuid.UUID | None = None,
    area_id: uuid.UUID | None = None,
    category: str | None = None,
    bbox: str | None = Query(default=None, description="minLon,minLat,maxLon,maxLat"),
    since: AwareDatetime | None = None,
    until: AwareDatetime | None = None,
    moderation: Moderation | None = None,
    action_item_id: uuid.UUID | None = None,
    limit: int | None = None,
    cursor: str | None = None,
) -> Page[ObservationRead]:
    f = obs_service.ObservationFilter(
        walk_id=walk_id,
        area_id=area_id,
        category=category,
        bbox=obs_service.parse_bbox(bbox),
        since=since,
        until=until,
        moderation=moderation,
        action_item_id=action_item_id,
    )
    rows, nxt = obs_service.list_page(
        session,
        principal,
        f,
        limit=limit,
        cursor=cursor,
        maximum=request.app.state.settings.page_size_max,
    )
    return Page[ObservationRead](
        items=obs_service.to_reads(session, rows, signer), next=next_url(request, nxt)
    )


@router.get("/observations/{id}", response_model=ObservationRead)
def get_observation(
    obs: ValidObservation, session: SessionDep, signer: SignerDep
) -> ObservationRead:
    return obs_service.to_reads(session, [obs], signer)[0]


@router.patch("/observations/{id}", response_model=ObservationRead)
def moderate_observation(
    obs: ValidObservation,
    body: ObservationModerate,
    principal: PrincipalDep,
    session: SessionDep,
    signer: SignerDep,
) -> ObservationRead:
    moderated = obs_service.moderate(session, principal, obs, body)
    return obs_service.to_reads(session, [moderated], signer)[0]
