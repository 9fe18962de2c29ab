"""``/me/notifications`` (each staff member's own settings) and ``/webhooks`` (admins)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Request, Response

from api.auth.deps_router import Principal, PrincipalDep
from api.core.errors import Forbidden
from api.core.paging import Page
from api.http.deps import PageDep, SessionDep, SettingsDep
from api.http.paging import page_of
from api.http.routing import api_router
from api.notices import preferences, webhooks
from models import User
from models.notices import (
    NoticePreferencesIn,
    NoticePreferencesRead,
    Webhook,
    WebhookCreate,
    WebhookCreated,
    WebhookDeliveryRead,
    WebhookRead,
    WebhookUpdate,
)

router = api_router("notices")


def _staff(principal: Principal) -> User:
    if principal.user is None:  # the policy admits staff only; participants have no address
        raise Forbidden(key="error.notices_staff_only")
    return principal.user


def valid_webhook(id: uuid.UUID, principal: PrincipalDep, session: SessionDep) -> Webhook:
    return webhooks.get(session, principal.org_id, id)


ValidWebhook = Annotated[Webhook, Depends(valid_webhook)]


@router.get("/me/notifications", response_model=NoticePreferencesRead)
def get_preferences(principal: PrincipalDep, session: SessionDep) -> NoticePreferencesRead:
    return preferences.read(session, _staff(principal))


@router.put("/me/notifications", response_model=NoticePreferencesRead)
def put_preferences(
    body: NoticePreferencesIn, principal: PrincipalDep, session: SessionDep
) -> NoticePreferencesRead:
    return preferences.write(session, _staff(principal), body)


@router.get("/webhooks", response_model=Page[WebhookRead])
def list_webhooks(
    request: Request, principal: PrincipalDep, session: SessionDep, page: PageDep
) -> Page[WebhookRead]:
    rows, nxt = webhooks.list_page(session, principal.org_id, n=page.n, cursor=page.cursor)
    return page_of(request, [webhooks.to_read(h) for h in rows], nxt)


@router.post("/webhooks", response_model=WebhookCreated, status_code=201)
def create_webhook(
    body: WebhookCreate, principal: PrincipalDep, session: SessionDep, settings: SettingsDep
) -> WebhookCreated:
    return webhooks.create(session, principal, body, allow_private=settings.webhook_allow_private)


@router.get("/webhooks/{id}", response_model=WebhookRead)
def get_webhook(hook: ValidWebhook) -> WebhookRead:
    return webhooks.to_read(hook)


@router.patch("/webhooks/{id}", response_model=WebhookRead)
def update_webhook(
    hook: ValidWebhook, body: WebhookUpdate, session: SessionDep, settings: SettingsDep
) -> WebhookRead:
    updated = webhooks.update(session, hook, body, allow_private=settings.webhook_allow_private)
    return webhooks.to_read(updated)


@router.delete("/webhooks/{id}", status_code=204)
def delete_webhook(hook: ValidWebhook, session: SessionDep) -> Response:
    webhooks.delete(session, hook)
    return Response(status_code=204)


@router.get("/webhooks/{id}/deliveries", response_model=Page[WebhookDeliveryRead])
def list_deliveries(
    hook: ValidWebhook, request: Request, session: SessionDep, page: PageDep
) -> Page[WebhookDeliveryRead]:
    rows, nxt = webhooks.deliveries_page(session, hook, n=page.n, cursor=page.cursor)
    reads = [WebhookDeliveryRead.model_validate(d, from_attributes=True) for d in rows]
    return page_of(request, reads, nxt)
