"""The action list: items with their workflow and history, per-area lists, regroup,
follow-up figures, and follow-up walks confirming resolved items."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import Depends, Header, Query, Request, Response
from fastapi.responses import JSONResponse

from api.auth import PrincipalDep
from api.deps import SessionDep
from api.lookups import ValidArea, ValidWalk
from api.paging import Page, next_url
from api.routers import api_router
from api.services import action_items as item_service
from api.services import action_list, workflow
from models import ActionItem, ActionStatus
from models.action_items import (
    ActionEventRead,
    ActionItemRead,
    ActionItemUpdate,
    FollowUpRequest,
    MergeRequest,
    RegroupResult,
    SplitRequest,
)

router = api_router("action-items")


def valid_item(id: uuid.UUID, principal: PrincipalDep, session: SessionDep) -> ActionItem:
    # Participants reach items only through follow-up, which checks their walk's area.
    return item_service.get_item(session, principal.org_id, id)


ValidItem = Annotated[ActionItem, Depends(valid_item)]


def _one(session: SessionDep, item: ActionItem, response: Response) -> ActionItemRead:
    response.headers["ETag"] = workflow.etag(item)
    return action_list.to_reads(session, [item])[0]


@router.get("/action-items", response_model=Page[ActionItemRead])
def list_items(
    request: Request,
    principal: PrincipalDep,
    session: SessionDep,
    area_id: uuid.UUID | None = None,
    status: Annotated[list[ActionStatus] | None, Query()] = None,
    category: str | None = None,
    department: str | None = None,
    overdue: bool | None = None,
    assignee_id: uuid.UUID | None = None,
    limit: int | None = None,
    cursor: str | None = None,
) -> Page[ActionItemRead]:
    rows, nxt = action_list.list_items(
        session, principal.org_id, area_id=area_id, status=status or [], category=category,
        department=department, overdue=overdue, assignee_id=assignee_id, limit=limit,
        cursor=cursor, maximum=request.app.state.settings.page_size_max,
    )  # fmt: skip
    return Page[ActionItemRead](
        items=action_list.to_reads(session, rows), next=next_url(request, nxt)
    )


@router.get("/action-items/{id}", response_model=ActionItemRead)
def get_item(item: ValidItem, session: SessionDep, response: Response) -> ActionItemRead:
    return _one(session, item, response)


@router.patch("/action-items/{id}", response_model=ActionItemRead)
def update_item(
    item: ValidItem,
    body: ActionItemUpdate,
    principal: PrincipalDep,
    session: SessionDep,
    response: Response,
    if_match: Annotated[str | None, Header()] = None,
) -> ActionItemRead:
    """Move the item or change its fields; send the ETag you read as If-Match (412 if stale)."""
    return _one(session, workflow.update(session, principal, item, body, if_match), response)


@router.get("/action-items/{id}/history", response_model=list[ActionEventRead])
def item_history(item: ValidItem, session: SessionDep) -> list[ActionEventRead]:
    return workflow.history(session, item)


@router.post("/action-items/{id}/merge", response_model=ActionItemRead)
def merge_items(
    item: ValidItem,
    body: MergeRequest,
    principal: PrincipalDep,
    session: SessionDep,
    response: Response,
) -> ActionItemRead:
    return _one(
        session, item_service.merge(session, principal, item, body.other_id, body.comment), response
    )


@router.post("/action-items/{id}/split", response_model=ActionItemRead, status_code=201)
def split_item(
    item: ValidItem,
    body: SplitRequest,
    principal: PrincipalDep,
    session: SessionDep,
    response: Response,
) -> ActionItemRead:
    """Move the named observations out into a new item; answers the new item."""
    return _one(
        session,
        item_service.split(session, principal, item, body.observation_ids, body.comment),
        response,
    )


@router.post("/action-items/{id}/follow-up", response_model=ActionItemRead)
def follow_up(
    item: ValidItem,
    body: FollowUpRequest,
    principal: PrincipalDep,
    session: SessionDep,
    response: Response,
) -> ActionItemRead:
    """On a follow-up walk: confirm a resolved item (verified) or report it still there (reopened)."""
    return _one(
        session, workflow.follow_up(session, principal, item, body.outcome, body.comment), response
    )


@router.get("/walks/{id}/nearby-resolved", response_model=list[ActionItemRead])
def nearby_resolved(
    walk: ValidWalk,
    session: SessionDep,
    lon: float | None = Query(default=None, ge=-180, le=180),
    lat: float | None = Query(default=None, ge=-90, le=90),
    radius_m: float = Query(default=250, gt=0, le=5000),
) -> list[ActionItemRead]:
    items = action_list.nearby_resolved(session, walk.area_id, lon, lat, radius_m)
    return action_list.to_reads(session, items)


@router.get("/areas/{id}/action-list", response_model=None)
def area_action_list(
    area: ValidArea,
    session: SessionDep,
    format: Literal["json", "csv"] = "json",
    delimiter: Literal["semicolon", "comma"] = "semicolon",
    include_closed: bool = False,
) -> Any:
    listing = action_list.area_list(session, area, include_closed=include_closed)
    if format == "csv":
        body = action_list.area_list_csv(listing, ";" if delimiter == "semicolon" else ",")
        filename = f"action-list-{(area.code or area.name).replace(' ', '_')}.csv"
        return Response(
            content=body.encode("utf-8"),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}"},
        )
    return JSONResponse(
        {
            "area": listing["area"],
            "counts": listing["counts"],
            "items": [r.model_dump(mode="json") for r in listing["items"]],
        }
    )


@router.post("/areas/{id}/regroup", response_model=RegroupResult)
def regroup(area: ValidArea, principal: PrincipalDep, session: SessionDep) -> RegroupResult:
    return item_service.regroup_area(session, principal, area)


@router.get("/stats/follow-up")
def follow_up_stats(
    principal: PrincipalDep,
    session: SessionDep,
    group_by: Literal["area", "department", "category"] = "area",
) -> dict[str, Any]:
    return {
        "group_by": group_by,
        "groups": action_list.follow_up_stats(session, principal.org_id, group_by),
    }
