"""Categories: every caller with a token reads the taxonomy; admins add to it."""

from __future__ import annotations

from fastapi import Request

from api.auth.deps_router import PrincipalDep
from api.categories import service as category_service
from api.core.paging import Page, page_sorted
from api.http.deps import PageDep, SessionDep
from api.http.paging import next_url
from api.http.routing import api_router
from models.categories import CategoryCreate, CategoryRead, CategoryUpdate

router = api_router("categories")


@router.get("/categories", response_model=Page[CategoryRead])
def list_categories(
    request: Request, principal: PrincipalDep, session: SessionDep, page: PageDep
) -> Page[CategoryRead]:
    """The taxonomy in its display order; a few dozen rows, so the default page holds all."""
    rows, nxt = page_sorted(
        category_service.list_categories(session, principal.org_id),
        lambda c: (c.sort_order, c.code),
        page.n,
        page.cursor,
    )
    return Page[CategoryRead](
        items=[CategoryRead.model_validate(c, from_attributes=True) for c in rows],
        next=next_url(request, nxt),
    )


@router.post("/categories", response_model=CategoryRead, status_code=201)
def create_category(
    body: CategoryCreate, principal: PrincipalDep, session: SessionDep
) -> CategoryRead:
    category = category_service.create_category(session, principal.org_id, body)
    return CategoryRead.model_validate(category, from_attributes=True)


@router.patch("/categories/{code}", response_model=CategoryRead)
def update_category(
    code: str, body: CategoryUpdate, principal: PrincipalDep, session: SessionDep
) -> CategoryRead:
    """Labels in both languages, grouping distance, default department, and the flags
    actionable, published and sensitive. Existing items keep their titles and grouping."""
    category = category_service.get_by_code(session, principal.org_id, code)
    category = category_service.update_category(session, category, body)
    return CategoryRead.model_validate(category, from_attributes=True)
