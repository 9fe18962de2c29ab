"""Response times: staff read the organization's rules; admins replace the list and apply it to
the open items whose due dates were not set by hand."""

from __future__ import annotations

from fastapi import Request

from api.auth.deps_router import PrincipalDep
from api.core.paging import Page
from api.deadlines import service
from api.http.deps import PageDep, SessionDep
from api.http.paging import page_of
from api.http.routing import api_router
from models.deadlines import ApplyResult, ResponseTimeIn, ResponseTimeRead

router = api_router("deadlines")

RULES_DESCRIPTION = """Each rule: `category` (a code), `department`, `priority_min` (0-100) —
each optional, unset matches everything — and `days` with `working_days` (true: weekends and the
public holidays of the organization's country are skipped). The most specific matching rule
wins: one naming the category beats all that do not; then one naming the department; then the
highest `priority_min` (an item's priority is its manual override, else its score). No rule
matching: 30, 90 or 180 calendar days by priority (60 and up, 40 and up, below). Days count
from the day the item was created, in the organization's time zone."""


@router.get("/response-times", response_model=Page[ResponseTimeRead], description=RULES_DESCRIPTION)
def list_response_times(
    request: Request, principal: PrincipalDep, session: SessionDep, page: PageDep
) -> Page[ResponseTimeRead]:
    rows, nxt = service.list_page(session, principal.org_id, n=page.n, cursor=page.cursor)
    return page_of(request, rows, nxt)


@router.put("/response-times", response_model=Page[ResponseTimeRead])
def replace_response_times(
    body: list[ResponseTimeIn], principal: PrincipalDep, session: SessionDep
) -> Page[ResponseTimeRead]:
    """Replace the whole list (a JSON array of rules; `[]` removes them all). New items follow
    it at once; open items keep their due dates until `POST /response-times/apply`."""
    return Page[ResponseTimeRead](items=service.replace(session, principal.org_id, body))


@router.post("/response-times/apply", response_model=ApplyResult)
def apply_response_times(principal: PrincipalDep, session: SessionDep) -> ApplyResult:
    """Recompute the due dates of open items without a manual due date from the rules as they
    are now, counted from each item's creation; answers how many changed."""
    return ApplyResult(changed=service.apply(session, principal))
