"""Moving action items through the workflow and changing their fields, with history and ETags."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import col

from api import policy
from api.auth import Principal
from api.errors import Conflict, Forbidden, InvalidInput, NotFound, PreconditionFailed
from api.services.action_items import get_item, record_event, set_status
from models import ActionEvent, ActionItem, ActionStatus, Participant, Role, User, Walk, utcnow
from models.action_items import ActionEventRead, ActionItemUpdate


def etag(item: ActionItem) -> str:
    return f'"{item.id.hex}-{item.version}"'


def check_if_match(item: ActionItem, if_match: str | None) -> None:
    """A stale If-Match answers 412; without one the write goes through (clients opt in)."""
    if if_match is None:
        return
    tags = {t.strip() for t in if_match.split(",")}
    if "*" in tags or etag(item) in tags or f"W/{etag(item)}" in tags:
        return
    raise PreconditionFailed(
        "the item changed since you read it; reload it and apply your change again",
        current_etag=etag(item),
    )


def _engineer_scope(principal: Principal, item: ActionItem) -> None:
    user = principal.user
    if user is not None and user.role == Role.engineer:
        if item.department != user.department and item.assignee_id != user.id:
            raise Forbidden("engineers act on items of their own department or assigned to them")


def _flush(session: Session) -> None:
    try:
        session.flush()
    except StaleDataError as exc:
        # Someone else's UPDATE ... WHERE version = n won the race.
        raise PreconditionFailed("the item was changed by someone else at the same time") from exc


def update(
    session: Session,
    principal: Principal,
    item: ActionItem,
    body: ActionItemUpdate,
    if_match: str | None,
) -> ActionItem:
    check_if_match(item, if_match)
    role = principal.role
    _engineer_scope(principal, item)
    data = body.model_dump(exclude_unset=True)
    target = data.pop("status", None)
    comment = data.pop("comment", None)
    duplicate_of = data.pop("duplicate_of", None)
    referred_to = data.pop("referred_to", None)

    changes: dict[str, list[Any]] = {}
    for field, value in data.items():
        allowed = policy.ACTION_FIELDS.get(field, frozenset())
        if role not in allowed:
            raise Forbidden(f"a {role} may not change {field}")
        if field == "assignee_id" and value is not None:
            assignee = session.get(User, value)
            if (
                assignee is None
                or assignee.organization_id != item.organization_id
                or assignee.role == Role.planner
            ):
                raise InvalidInput.at(
                    ["body", "assignee_id"], "no such engineer, coordinator or admin"
                )
        old = getattr(item, field)
        if old != value:
            changes[field] = [_plain(old), _plain(value)]
            setattr(item, field, value)

    if target is not None and target != item.status:
        target = ActionStatus(target)
        if not policy.may_move(role, str(item.status), str(target)):
            if (str(item.status), str(target)) in policy.ACTION_MOVES:
                raise Forbidden(f"a {role} may not move an item from {item.status} to {target}")
            raise Conflict(f"an item cannot move from {item.status} to {target}")
        if target == ActionStatus.wont_fix and not (comment and comment.strip()):
            raise InvalidInput.at(["body", "comment"], "won't fix needs a reason")
        if target == ActionStatus.referred:
            if not (referred_to and referred_to.strip()):
                raise InvalidInput.at(["body", "referred_to"], "say to whom the item is referred")
            item.referred_to = referred_to.strip()
        if target == ActionStatus.duplicate:
            if duplicate_of is None:
                raise InvalidInput.at(["body", "duplicate_of"], "name the item this duplicates")
            if duplicate_of == item.id:
                raise InvalidInput.at(["body", "duplicate_of"], "an item cannot duplicate itself")
            try:
                get_item(session, item.organization_id, duplicate_of)
            except NotFound as exc:
                raise InvalidInput.at(["body", "duplicate_of"], "no such action item") from exc
            item.duplicate_of_id = duplicate_of
        set_status(session, item, target, actor=principal, comment=comment)
        if changes:
            record_event(session, item, kind="update", actor=principal, changes=changes)
    else:
        if duplicate_of is not None or referred_to is not None:
            field = "duplicate_of" if duplicate_of is not None else "referred_to"
            raise InvalidInput.at(["body", field], "only together with the matching status")
        if changes or comment:
            record_event(
                session,
                item,
                kind="update" if changes else "comment",
                actor=principal,
                changes=changes,
                comment=comment,
            )
    if changes or target is not None or comment:
        item.updated_at = utcnow()
    _flush(session)
    return item


def _plain(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def follow_up(
    session: Session,
    principal: Principal,
    item: ActionItem,
    outcome: ActionStatus,
    comment: str | None,
) -> ActionItem:
    """A follow-up walk confirms a resolved item (verified) or reports it still there (reopened)."""
    if outcome not in (ActionStatus.verified, ActionStatus.reopened):
        raise InvalidInput.at(["body", "outcome"], "verified or reopened")
    if item.status != ActionStatus.resolved:
        raise Conflict(f"only resolved items can be followed up; this one is {item.status}")
    if principal.participant is not None:
        walk = session.get(Walk, principal.participant.walk_id)
        if walk is None or walk.area_id is None or walk.area_id != item.area_id:
            raise NotFound("no such action item")
    if not policy.may_move(principal.role, str(item.status), str(outcome)):
        raise Forbidden(f"a {principal.role} may not do this")
    set_status(session, item, outcome, kind="follow_up", actor=principal, comment=comment)
    _flush(session)
    return item


def history(session: Session, item: ActionItem) -> list[ActionEventRead]:
    events = list(
        session.scalars(
            select(ActionEvent)
            .where(col(ActionEvent.action_item_id) == item.id)
            .order_by(col(ActionEvent.created_at), col(ActionEvent.id))
        )
    )
    users = {
        u.id: u
        for u in session.scalars(
            select(User).where(
                col(User.id).in_({e.actor_user_id for e in events if e.actor_user_id})
            )
        )
    }
    groups = dict(
        session.execute(
            select(col(Participant.id), col(Participant.group)).where(
                col(Participant.id).in_(
                    {e.actor_participant_id for e in events if e.actor_participant_id}
                )
            )
        ).all()
    )
    out = []
    for e in events:
        if e.actor_user_id and e.actor_user_id in users:
            u = users[e.actor_user_id]
            actor = f"user:{u.display_name or u.email}"
        elif e.actor_participant_id and e.actor_participant_id in groups:
            # The group only: participant identity is never shown.
            actor = f"participant:{groups[e.actor_participant_id]}"
        elif e.kind == "case_system":
            actor = "case_system"  # the organization's Open311 case system (api/open311)
        else:
            actor = "system"
        out.append(
            ActionEventRead(
                id=e.id,
                kind=e.kind,
                from_status=e.from_status,
                to_status=e.to_status,
                changes=e.changes,
                comment=e.comment,
                actor=actor,
                created_at=e.created_at,
            )  # fmt: skip
        )
    return out
