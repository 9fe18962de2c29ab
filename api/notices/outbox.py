"""The outbox: notices and webhook deliveries written beside the change that caused them.

Every function here adds rows to the caller's session and nothing else: they are committed
with the change, or rolled back with it (nothing is ever sent for a change that did not
happen), and the sender (api/jobs/notify.py) delivers them later, with retries, so nothing is
lost while a mail server or a receiver is down. The places where things change call in
explicitly (api/action_items, api/observations, api/walks); nothing is registered at import
time.

Who hears of what:
- ``item_created``: the staff of the item's department;
- ``assigned``: the new assignee;
- ``comment``, ``reopened``, ``due_soon``: the item's people: its assignee, else its
  department's staff;
- ``overdue``: the item's people and the coordinators (the admins where there are none).
- ``referred``: an asset's owner, at the address the organization gave for it.
Nobody hears of their own doing; planners and inactive accounts hear nothing; participants
have no address and get no mail. What someone chose (``off | immediate | digest``) is read now,
so the sender has nothing left to decide.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from api.auth.principal import Principal
from api.notices import payloads
from models import ActionItem, ActionStatus, Observation, Role, User, Walk, WalkStatus, utcnow
from models.notices import (
    ALL_EVENTS,
    DEFAULT_DELIVERY,
    Delivery,
    Notice,
    NoticeKind,
    NoticePreference,
    Webhook,
    WebhookDelivery,
    WebhookEvent,
)

COMMENT_EXCERPT = 500


# --- mail to staff -------------------------------------------------------------------------


def delivery_for(pref: NoticePreference | None, kind: NoticeKind) -> Delivery:
    """How this person wants ``kind``: their choice, else the default. Kinds nobody chooses
    (an endpoint disabled) always go at once."""
    default = DEFAULT_DELIVERY.get(kind)
    if default is None:
        return Delivery.immediate
    chosen = pref.kinds.get(str(kind)) if pref is not None else None
    try:
        return Delivery(chosen) if chosen else default
    except ValueError:
        return default


def _actor_id(actor: Principal | None) -> uuid.UUID | None:
    return actor.user.id if actor is not None and actor.user is not None else None


def _actor_name(actor: Principal | None) -> str | None:
    """Staff by name; a participant, the case system or the service itself stay unnamed."""
    if actor is None or actor.user is None:
        return None
    return actor.user.display_name or actor.user.email


def _staff(session: Session, org_id: uuid.UUID, *conditions: Any) -> list[User]:
    return list(
        session.scalars(
            select(User).where(
                col(User.organization_id) == org_id,
                col(User.is_active).is_(True),
                col(User.role) != Role.planner,
                *conditions,
            )
        )
    )


def department_staff(session: Session, item: ActionItem) -> list[User]:
    if not item.department:
        return []
    return _staff(session, item.organization_id, col(User.department) == item.department)


def item_people(session: Session, item: ActionItem) -> list[User]:
    """The assignee, or the department's staff when nobody is assigned."""
    if item.assignee_id is not None:
        user = session.get(User, item.assignee_id)
        if user is not None and user.is_active and user.role != Role.planner:
            return [user]
    return department_staff(session, item)


def coordinators(session: Session, org_id: uuid.UUID) -> list[User]:
    found = _staff(session, org_id, col(User.role) == Role.coordinator)
    return found or admins(session, org_id)


def admins(session: Session, org_id: uuid.UUID) -> list[User]:
    return _staff(session, org_id, col(User.role) == Role.admin)


def item_summary(item: ActionItem) -> dict[str, Any]:
    """What every mail about an item shows, as it was when the notice was written."""
    return {
        "item_id": str(item.id),
        "title": item.title,
        "status": str(item.status),
        "due_date": item.due_date.isoformat() if item.due_date else None,
    }


def notify(
    session: Session,
    org_id: uuid.UUID,
    kind: NoticeKind,
    recipients: Iterable[User],
    payload: Mapping[str, Any],
    *,
    item: ActionItem | None = None,
    actor: Principal | None = None,
    now: datetime | None = None,
    prefs: Mapping[uuid.UUID, NoticePreference] | None = None,
) -> list[Notice]:
    """One notice per recipient who wants ``kind`` (each person once; never the actor).
    ``prefs`` (read by ``preferences_of``) spares the read when many notices go out at once."""
    people: dict[uuid.UUID, User] = {}
    skip = _actor_id(actor)
    for user in recipients:
        if user.id != skip and user.organization_id == org_id:
            people.setdefault(user.id, user)
    if not people:
        return []
    if prefs is None:
        prefs = preferences_of(session, people)
    at = now or utcnow()
    added: list[Notice] = []
    for user_id in people:
        delivery = delivery_for(prefs.get(user_id), kind)
        if delivery == Delivery.off:
            continue
        notice = Notice(
            organization_id=org_id,
            user_id=user_id,
            kind=kind,
            delivery=delivery,
            action_item_id=item.id if item is not None else None,
            payload=dict(payload),
            next_attempt_at=at,
            created_at=at,
        )
        session.add(notice)
        added.append(notice)
    return added


def preferences_of(
    session: Session, user_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, NoticePreference]:
    ids = list(user_ids)
    if not ids:
        return {}
    return {
        p.user_id: p
        for p in session.scalars(
            select(NoticePreference).where(col(NoticePreference.user_id).in_(ids))
        )
    }


def mail_outside(
    session: Session,
    org_id: uuid.UUID,
    kind: NoticeKind,
    email: str,
    payload: Mapping[str, Any],
    *,
    item: ActionItem | None = None,
) -> Notice:
    """One mail to an address outside the organization (an asset's owner): at once, in the
    organization's language, with the same retries as staff mail."""
    at = utcnow()
    notice = Notice(
        organization_id=org_id,
        email=email,
        kind=kind,
        delivery=Delivery.immediate,
        action_item_id=item.id if item is not None else None,
        payload=dict(payload),
        next_attempt_at=at,
        created_at=at,
    )
    session.add(notice)
    return notice


# --- webhooks ------------------------------------------------------------------------------


def emit(
    session: Session,
    org_id: uuid.UUID,
    event: WebhookEvent,
    data: Mapping[str, Any],
    *,
    now: datetime | None = None,
    hooks: Sequence[Webhook] | None = None,
) -> list[WebhookDelivery]:
    """One delivery per active endpoint of the organization that subscribed to ``event``
    (``hooks``, read by ``active_hooks``, spares the read for many events at once)."""
    if hooks is None:
        hooks = active_hooks(session, org_id)
    wanted = [h for h in hooks if str(event) in h.events or ALL_EVENTS in h.events]
    if not wanted:
        return []
    at = now or utcnow()
    body = {"type": str(event), "timestamp": at.isoformat(), "data": dict(data)}
    out = []
    for hook in wanted:
        delivery = WebhookDelivery(
            organization_id=org_id,
            webhook_id=hook.id,
            event_type=str(event),
            payload=body,
            next_attempt_at=at,
            created_at=at,
        )
        session.add(delivery)
        out.append(delivery)
    return out


def active_hooks(session: Session, org_id: uuid.UUID) -> list[Webhook]:
    return list(
        session.scalars(
            select(Webhook).where(
                col(Webhook.organization_id) == org_id, col(Webhook.active).is_(True)
            )
        )
    )


# --- the entry points the rest of the service calls -----------------------------------------
# Each reads with autoflush off: the caller's own change is written by the caller's flush,
# where it handles a lost race (an item's stale version is a 412, not a crash in here).


def item_created(session: Session, item: ActionItem, *, actor: Principal | None = None) -> None:
    """A new action item (on arrival of its first observation, or split off another)."""
    with session.no_autoflush:
        notify(
            session, item.organization_id, NoticeKind.item_created, department_staff(session, item),
            item_summary(item), item=item, actor=actor,
        )  # fmt: skip
        emit(
            session,
            item.organization_id,
            WebhookEvent.action_item_created,
            payloads.item_data(session, item),
        )


def status_changed(
    session: Session,
    item: ActionItem,
    before: str,
    *,
    actor: Principal | None = None,
    comment: str | None = None,
    hooks: Sequence[Webhook] | None = None,
) -> None:
    """The item moved from ``before`` to its status now (by anyone, or by the service)."""
    with session.no_autoflush:
        if str(item.status) == ActionStatus.reopened:
            payload = {**item_summary(item), "by": _actor_name(actor)}
            if comment:
                payload["comment"] = comment[:COMMENT_EXCERPT]
            notify(
                session, item.organization_id, NoticeKind.reopened, item_people(session, item),
                payload, item=item, actor=actor,
            )  # fmt: skip
        data = {
            **payloads.item_data(session, item),
            "from_status": before,
            "to_status": str(item.status),
        }
        emit(
            session, item.organization_id, WebhookEvent.action_item_status_changed, data,
            hooks=hooks,
        )  # fmt: skip


def item_changed(
    session: Session,
    item: ActionItem,
    *,
    changes: Mapping[str, list[Any]] | None = None,
    comment: str | None = None,
    actor: Principal | None = None,
) -> None:
    """Fields of the item changed (``changes``: field -> [old, new]) and/or someone commented."""
    with session.no_autoflush:
        changes = changes or {}
        assignee = changes.get("assignee_id")
        if assignee is not None and assignee[1] is not None:
            user = session.get(User, uuid.UUID(str(assignee[1])))
            if user is not None and user.is_active:
                notify(
                    session, item.organization_id, NoticeKind.assigned, [user],
                    {**item_summary(item), "by": _actor_name(actor)}, item=item, actor=actor,
                )  # fmt: skip
        if comment and comment.strip():
            notify(
                session, item.organization_id, NoticeKind.comment, item_people(session, item),
                {**item_summary(item), "by": _actor_name(actor), "comment": comment.strip()[:COMMENT_EXCERPT]},
                item=item, actor=actor,
            )  # fmt: skip
        if changes:
            data = {**payloads.item_data(session, item), "changes": dict(changes)}
            emit(session, item.organization_id, WebhookEvent.action_item_updated, data)


def items_created(
    session: Session, items: Sequence[ActionItem], *, hooks: Sequence[Webhook] | None = None
) -> None:
    """``item_created`` for many new items of one organization, with one read of each kind:
    the departments' staff, their choices, the webhooks (unless the caller read ``hooks``)."""
    if not items:
        return
    with session.no_autoflush:
        org_id = items[0].organization_id
        wanted = sorted({i.department for i in items if i.department})
        staff: dict[str, list[User]] = {d: [] for d in wanted}
        if wanted:
            for user in _staff(session, org_id, col(User.department).in_(wanted)):
                staff[str(user.department)].append(user)
        prefs = preferences_of(session, {u.id for people in staff.values() for u in people})
        if hooks is None:
            hooks = active_hooks(session, org_id)
        for item in items:
            notify(
                session, org_id, NoticeKind.item_created, staff.get(item.department or "", []),
                item_summary(item), item=item, prefs=prefs,
            )  # fmt: skip
            if hooks:
                emit(
                    session, org_id, WebhookEvent.action_item_created,
                    payloads.item_data(session, item), hooks=hooks,
                )  # fmt: skip


def observations_created(
    session: Session,
    observations: Sequence[Observation],
    *,
    hooks: Sequence[Webhook] | None = None,
) -> None:
    """``observation_created`` for many observations of one organization (one webhook read,
    none when the caller read ``hooks`` with ``active_hooks`` already)."""
    if not observations:
        return
    with session.no_autoflush:
        org_id = observations[0].organization_id
        if hooks is None:
            hooks = active_hooks(session, org_id)
        if not hooks:
            return
        for obs in observations:
            emit(
                session, org_id, WebhookEvent.observation_created,
                payloads.observation_data(session, obs), hooks=hooks,
            )  # fmt: skip


def observation_created(session: Session, obs: Observation) -> None:
    with session.no_autoflush:
        emit(
            session,
            obs.organization_id,
            WebhookEvent.observation_created,
            payloads.observation_data(session, obs),
        )


def walk_changed(session: Session, walk: Walk, before: str) -> None:
    """A walk's status changed; integrators hear when one is completed."""
    with session.no_autoflush:
        if str(walk.status) == WalkStatus.completed and before != WalkStatus.completed:
            emit(
                session, walk.organization_id, WebhookEvent.walk_completed, payloads.walk_data(walk)
            )


def webhook_disabled(session: Session, hook: Webhook, *, now: datetime | None = None) -> None:
    """To the admins: an endpoint that kept failing was switched off."""
    with session.no_autoflush:
        notify(
            session, hook.organization_id, NoticeKind.webhook_disabled, admins(session, hook.organization_id),
            {"webhook_id": str(hook.id), "url": hook.url, "reason": hook.disabled_reason},
            now=now,
        )  # fmt: skip
