"""The action list: items with their workflow and history, regroup, follow-up figures, and
follow-up walks confirming resolved items. The per-area list in every format stands with the
exports (api/outputs/exports/router.py), an item's observations and its fix photos with their
own rooms' routes."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import Depends, Header, Path, Query, Request, Response
from sqlalchemy.orm import Session

from api.action_items import departments, figures, grouping, reads, trend, workflow
from api.action_items.deps_router import PeriodDep, ValidItem
from api.areas.deps_router import ValidArea
from api.auth.deps_router import Principal, PrincipalDep
from api.core.errors import InvalidInput
from api.core.paging import Page, page_sorted
from api.core.signing import PhotoSigner
from api.http.deps import PageDep, SessionDep, SignerDep
from api.http.paging import link_next, page_of
from api.http.problems import request_language
from api.http.routing import api_router
from api.walks.deps_router import ValidWalk
from models import ActionItem, ActionStatus, utcnow
from models.action_items import (
    ActionEventRead,
    ActionItemRead,
    ActionItemUpdate,
    BulkOut,
    BulkRequest,
    CommentIn,
    FollowUpRequest,
    FollowUpStats,
    FollowUpTrend,
    MergeRequest,
    RegroupResult,
    SplitRequest,
)
from models.departments import DepartmentRead, DepartmentUpdate

router = api_router("action-items")


@dataclass(frozen=True)
class Acting:
    """A caller acting on an item: their session and principal, and how the answer is made
    (``reply``: the item's ETag, the caller's ``allowed_moves``, signed links to fix photos)."""

    session: Session
    principal: Principal
    signer: PhotoSigner
    response: Response

    def reply(self, item: ActionItem) -> ActionItemRead:
        self.response.headers["ETag"] = workflow.etag(item)
        return reads.to_reads(self.session, [item], principal=self.principal, signer=self.signer)[0]


def acting(
    session: SessionDep, principal: PrincipalDep, signer: SignerDep, response: Response
) -> Acting:
    return Acting(session, principal, signer, response)


ActingDep = Annotated[Acting, Depends(acting)]


@router.get("/action-items", response_model=Page[ActionItemRead])
def list_items(
    request: Request,
    principal: PrincipalDep,
    session: SessionDep,
    signer: SignerDep,
    page: PageDep,
    area_id: uuid.UUID | None = None,
    status: Annotated[list[ActionStatus] | None, Query()] = None,
    category: str | None = None,
    department: str | None = None,
    overdue: bool | None = None,
    assignee_id: uuid.UUID | None = None,
) -> Page[ActionItemRead]:
    rows, nxt = reads.list_items(
        session, principal.org_id, area_id=area_id, status=status or [], category=category,
        department=department, overdue=overdue, assignee_id=assignee_id, n=page.n,
        cursor=page.cursor,
    )  # fmt: skip
    return page_of(request, reads.to_reads(session, rows, principal=principal, signer=signer), nxt)


@router.post("/action-items/bulk", response_model=BulkOut)
def bulk_update(
    body: BulkRequest, principal: PrincipalDep, session: SessionDep, request: Request
) -> BulkOut:
    """One change to many items: ``ids`` (an id, or ``{"id", "version"}`` to guard against a
    stale read) and ``set`` (status, department, assignee_id, due_date, comment). Each item is
    all-or-nothing and gets its own result: ok, forbidden, conflict, not_found or invalid."""
    return workflow.bulk(session, principal, body, request_language(request))


@router.get("/action-items/{id}", response_model=ActionItemRead)
def get_item(item: ValidItem, act: ActingDep) -> ActionItemRead:
    """The item, with ``allowed_moves`` for the caller and signed links to fix photos."""
    return act.reply(item)


@router.patch("/action-items/{id}", response_model=ActionItemRead)
def update_item(
    item: ValidItem,
    body: ActionItemUpdate,
    act: ActingDep,
    if_match: Annotated[str | None, Header()] = None,
) -> ActionItemRead:
    """Move the item or change its fields; send the ETag you read as If-Match (412 if stale).

    Forward moves may skip states (an engineer resolves at once, with ``resolution_note``);
    a refused move answers 409 or 403 with the caller's ``allowed_moves``."""
    return act.reply(workflow.update(act.session, act.principal, item, body, if_match))


@router.get("/action-items/{id}/history", response_model=list[ActionEventRead])
def item_history(
    item: ValidItem, session: SessionDep, page: PageDep, request: Request, response: Response
) -> list[ActionEventRead]:
    """The item's events, oldest first; the next page in the ``Link`` header."""
    events, nxt = workflow.history(session, item, page.n, page.cursor)
    link_next(request, response, nxt)
    return events


@router.post("/action-items/{id}/merge", response_model=ActionItemRead)
def merge_items(
    item: ValidItem,
    body: MergeRequest,
    act: ActingDep,
) -> ActionItemRead:
    return act.reply(grouping.merge(act.session, act.principal, item, body.other_id, body.comment))


@router.post("/action-items/{id}/split", response_model=ActionItemRead, status_code=201)
def split_item(
    item: ValidItem,
    body: SplitRequest,
    act: ActingDep,
) -> ActionItemRead:
    """Move the named observations out into a new item; answers the new item."""
    ids = body.observation_ids
    return act.reply(grouping.split(act.session, act.principal, item, ids, body.comment))


@router.post("/action-items/{id}/follow-up", response_model=ActionItemRead)
def follow_up(
    item: ValidItem,
    body: FollowUpRequest,
    act: ActingDep,
) -> ActionItemRead:
    """On a follow-up walk: confirm a resolved item (verified) or report it still there (reopened)."""
    done = workflow.follow_up(act.session, act.principal, item, body.outcome, body.comment)
    return act.reply(done)


@router.post("/action-items/{id}/comments", response_model=ActionEventRead, status_code=201)
def add_comment(
    item: ValidItem, body: CommentIn, principal: PrincipalDep, session: SessionDep
) -> ActionEventRead:
    """A comment in the item's history (an ActionEvent of kind ``comment``)."""
    event = workflow.comment(session, principal, item, body.text)
    return workflow.event_reads(session, [event])[0]


@router.get("/walks/{id}/nearby-resolved", response_model=list[ActionItemRead])
def nearby_resolved(
    walk: ValidWalk,
    principal: PrincipalDep,
    session: SessionDep,
    page: PageDep,
    request: Request,
    response: Response,
    lon: float | None = Query(default=None, ge=-180, le=180),
    lat: float | None = Query(default=None, ge=-90, le=90),
    radius_m: float = Query(default=250, gt=0, le=5000),
) -> list[ActionItemRead]:
    """Resolved items of the walk's area, nearest first; the next page in the ``Link`` header."""
    found = reads.nearby_resolved(session, walk.area_id, lon, lat, radius_m, principal=principal)
    rows, nxt = page_sorted(found, lambda t: (t[0], str(t[1].id)), page.n, page.cursor)
    link_next(request, response, nxt)
    return reads.to_reads(session, [item for _, item in rows], principal=principal)


@router.post("/areas/{id}/regroup", response_model=RegroupResult)
def regroup(area: ValidArea, principal: PrincipalDep, session: SessionDep) -> RegroupResult:
    return grouping.regroup_area(session, principal, area)


FOLLOW_UP_DESCRIPTION = """Follow-up figures per group (`group_by`: the item's area, department
or category as it is now) for the period `[since, until)`. Both are RFC 3339 times with an
offset; `since` absent means from the beginning, `until` absent (or later than now) means now.

Stocks, as of `until`: `open`, `resolved` (awaiting verification) and `verified` count items by
their status at that moment, read from the items' history; `overdue` counts the items open then
whose due date lies before that (UTC) date; `open_age_days` buckets them by age at that moment.

Flows, within the period: `created` (items created in it), `reopened` (items reopened at least
once in it), `resolved_in_period` (items whose resolution still standing at `until` happened in
the period) and `median_days_to_resolve`: the exact median over those items of the days from
creation to that resolution, rounded to 0.1 day. `resolved_within_deadline`: of those items,
the ones resolved on or before their due date (the resolution's UTC date);
`resolved_within_deadline_share`: that count over those of them with a due date (0-1, null when
none had one).

Duplicates and items closed empty count nowhere. Without `since` and `until`, the figures
are today's."""


@router.get("/stats/follow-up", response_model=FollowUpStats, description=FOLLOW_UP_DESCRIPTION)
def follow_up_stats(
    request: Request,
    principal: PrincipalDep,
    session: SessionDep,
    period: PeriodDep,
    group_by: Literal["area", "department", "category"] = "area",
) -> FollowUpStats:
    """Open, overdue, resolved and verified items at the end of the period; created, reopened
    and resolved items and the median days to resolve within it; labels in the caller's
    language."""
    since, until = period.since, period.until
    # Without an end the figures are as of now, so a start in the future has nothing to count.
    if since is not None and until is None and since >= utcnow():
        raise InvalidInput.at(["query", "since"], "error.since_in_future")
    as_of, groups = figures.follow_up_stats(
        session, principal.org_id, group_by, request_language(request), since=since, until=until
    )
    return FollowUpStats.model_validate(
        {"group_by": group_by, "since": since, "until": as_of, "groups": groups}
    )


@router.get("/departments", response_model=list[DepartmentRead])
def list_departments(
    request: Request,
    response: Response,
    principal: PrincipalDep,
    session: SessionDep,
    page: PageDep,
) -> list[DepartmentRead]:
    """The organization's departments, the only values an item's ``department`` takes: its
    categories' default departments, its staff's departments and those an admin named, each
    with ``label`` in the caller's language, ``labels`` by language and ``missing_labels``.
    By label; the next page in the ``Link`` header, as every list."""
    found = departments.list_departments(session, principal.org_id, request_language(request))

    def by_label(d: DepartmentRead) -> tuple[str, str]:
        return (d.label.casefold(), d.code)

    rows, nxt = page_sorted(sorted(found, key=by_label), by_label, page.n, page.cursor)
    link_next(request, response, nxt)
    return rows


@router.put("/departments/{code}", response_model=DepartmentRead)
def put_department(
    request: Request,
    code: Annotated[str, Path(min_length=1, max_length=64)],
    body: DepartmentUpdate,
    principal: PrincipalDep,
    session: SessionDep,
) -> DepartmentRead:
    """An admin's labels for a department (every language it should have; one left out goes
    back to the built-in label, if any); a new code becomes a department items may be given."""
    return departments.set_labels(
        session, principal.org_id, code, body.labels, request_language(request)
    )


TREND_DESCRIPTION = f"""Per calendar month of the organization (its time zone): `opened` (items
created in the month, duplicates and items closed empty aside), `resolved` (items moved to
resolved in the month, each once) and `overdue` (items open at the month's end, or now for the
current month, whose due date lies before that day). The months are those `[since, until)`
touches; without `since`, the {trend.DEFAULT_MONTHS} months up to `until` (now by default), at
most {trend.MAX_MONTHS}. `area_id` narrows to one area's items."""


@router.get("/stats/trend", response_model=FollowUpTrend, description=TREND_DESCRIPTION)
def follow_up_trend(
    principal: PrincipalDep,
    session: SessionDep,
    period: PeriodDep,
    area_id: uuid.UUID | None = None,
) -> FollowUpTrend:
    """Opened, resolved and overdue items per month."""
    since, until = period.since, period.until
    if since is not None and since >= utcnow():
        raise InvalidInput.at(["query", "since"], "error.since_in_future")
    zone = trend.zone_of(session, principal.org_id)
    months = trend.months_between(since, until, zone)
    if len(months) > trend.MAX_MONTHS:
        raise InvalidInput.at(["query", "since"], "error.period_too_long", months=trend.MAX_MONTHS)
    rows = trend.monthly_trend(session, principal.org_id, months, zone, area_id=area_id)
    return FollowUpTrend.model_validate({"timezone": zone.key, "area_id": area_id, "months": rows})
