"""Staff routes around Open311: integration keys (admins), the case system we send to
(admins), its outbox (coordinators see what waits or fails) and sending an item by hand."""

from __future__ import annotations

import uuid

from fastapi import Request, Response

from api.action_items import grouping as item_domain
from api.auth.deps_router import PrincipalDep
from api.http.deps import PageDep, SessionDep, SettingsDep
from api.http.paging import link_next
from api.http.routing import api_router
from api.outputs.open311 import client, keys
from models.exchange import (
    DispatchRead,
    IntegrationKeyCreate,
    IntegrationKeyCreated,
    IntegrationKeyRead,
    Open311EndpointIn,
    Open311EndpointRead,
    dispatch_read,
)

router = api_router("open311")


@router.post("/integration-keys", response_model=IntegrationKeyCreated, status_code=201)
def create_key(
    body: IntegrationKeyCreate, principal: PrincipalDep, session: SessionDep
) -> IntegrationKeyCreated:
    """A key for a system that posts Open311 requests; the secret is in this answer only."""
    return keys.create_key(session, principal.org_id, body.name, principal.user)


@router.get("/integration-keys", response_model=list[IntegrationKeyRead])
def list_keys(
    principal: PrincipalDep,
    session: SessionDep,
    page: PageDep,
    request: Request,
    response: Response,
) -> list[IntegrationKeyRead]:
    """Oldest first; the next page in the ``Link`` header."""
    rows, nxt = keys.list_keys(session, principal.org_id, page.n, page.cursor)
    link_next(request, response, nxt)
    return rows


@router.delete("/integration-keys/{id}", status_code=204)
def revoke_key(id: uuid.UUID, principal: PrincipalDep, session: SessionDep) -> Response:
    keys.revoke_key(session, principal.org_id, id)
    return Response(status_code=204)


def _endpoint_read(ep: object) -> Open311EndpointRead:
    return Open311EndpointRead.model_validate(ep, from_attributes=True)


@router.get("/open311/case-system", response_model=Open311EndpointRead)
def get_case_system(principal: PrincipalDep, session: SessionDep) -> Open311EndpointRead:
    return _endpoint_read(client.get_endpoint(session, principal.org_id))


@router.put("/open311/case-system", response_model=Open311EndpointRead)
def put_case_system(
    body: Open311EndpointIn, principal: PrincipalDep, session: SessionDep, settings: SettingsDep
) -> Open311EndpointRead:
    """Where items of the mapped departments or categories are sent once triaged; a URL
    reaching loopback, link-local or private addresses is refused (422 naming ``url``)."""
    allow = settings.webhook_allow_private
    return _endpoint_read(client.configure(session, principal.org_id, body, allow_private=allow))


@router.delete("/open311/case-system", status_code=204)
def delete_case_system(principal: PrincipalDep, session: SessionDep) -> Response:
    client.remove(session, principal.org_id)
    return Response(status_code=204)


@router.get("/open311/outbox", response_model=list[DispatchRead])
def outbox(
    principal: PrincipalDep,
    session: SessionDep,
    page: PageDep,
    request: Request,
    response: Response,
) -> list[DispatchRead]:
    """Items waiting for, failing at, or sent to the case system; the next page in the
    ``Link`` header."""
    rows, nxt = client.outbox_page(session, principal.org_id, page.n, page.cursor)
    link_next(request, response, nxt)
    return rows


@router.post("/action-items/{id}/open311", response_model=DispatchRead, status_code=202)
def send_item(id: uuid.UUID, principal: PrincipalDep, session: SessionDep) -> DispatchRead:
    """Send this item to the case system (delivered by the next sync pass)."""
    item = item_domain.get_item(session, principal.org_id, id)
    return dispatch_read(client.enqueue(session, item, reason="manual"), item.title)
