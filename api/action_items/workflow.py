"""Moving action items through the workflow and changing their fields, with history and ETags."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Literal, Protocol, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import col

from api.action_items import departments, follow_up_rollup
from api.action_items.grouping import get_item, record_event, set_status
from api.auth import policy
from api.auth.principal import Principal
from api.core.errors import (
    ENGLISH,
    Conflict,
    DomainError,
    Forbidden,
    InvalidInput,
    Message,
    NotFound,
    PreconditionFailed,
    PreconditionRequired,
)
from api.core.paging import seek
from api.notices import outbox as notices
from models import (
    ActionEvent,
    ActionItem,
    ActionStatus,
    Organization,
    Participant,
    Role,
    User,
    Walk,
    utcnow,
)
from models.action_items import (
    ActionEventRead,
    ActionItemUpdate,
    BulkItemResult,
    BulkOut,
    BulkRequest,
    BulkStatus,
    BulkTarget,
)
from models.base import columns_for


def etag(item: ActionItem) -> str:
    return f'"{item.id.hex}-{item.version}"'


def check_if_match(item: ActionItem, if_match: str | None) -> None:
    """A stale If-Match answers 412, and a missing one 428: a write must say which version it
    read, so a lost update is impossible by construction (RFC 6585)."""
    if if_match is None:
        raise PreconditionRequired(
            key="error.if_match_required",
            current_etag=etag(item),
        )
    tags = {t.strip() for t in if_match.split(",")}
    if "*" in tags or etag(item) in tags or f"W/{etag(item)}" in tags:
        return
    raise PreconditionFailed(
        key="error.stale_item",
        current_etag=etag(item),
    )


def in_scope(principal: Principal, item: ActionItem) -> bool:
    """Engineers act on items of their own department or assigned to them; others on all."""
    user = principal.user
    if user is not None and user.role == Role.engineer:
        return item.department == user.department or item.assignee_id == user.id
    return True


def allowed_moves(principal: Principal, item: ActionItem) -> list[ActionStatus]:
    """The statuses this caller may move the item to now (what a client offers as buttons)."""
    if not in_scope(principal, item):
        return []
    return policy.moves_for(principal.role, str(item.status))


def _engineer_scope(principal: Principal, item: ActionItem) -> None:
    if not in_scope(principal, item):
        raise Forbidden(
            key="error.engineer_scope",
            allowed_moves=[],
        )


def resolution_rule(session: Session, item: ActionItem) -> bool:
    """Whether the item's organization needs a resolution note to resolve."""
    org = session.get(Organization, item.organization_id)
    return bool(org is not None and org.require_resolution_note)


@contextmanager
def _race() -> Iterator[None]:
    """Someone else's UPDATE ... WHERE version = n won the race: the caller's If-Match is
    stale. Any flush can find out (a status change flushes for the hotspot rollups)."""
    try:
        yield
    except StaleDataError as exc:
        raise PreconditionFailed(key="error.item_changed_concurrently") from exc


def _flush(session: Session) -> None:
    with _race():
        session.flush()


def update(
    session: Session,
    principal: Principal,
    item: ActionItem,
    body: ActionItemUpdate,
    if_match: str | None,
) -> ActionItem:
    check_if_match(item, if_match)
    return apply(session, principal, item, body)


def apply(
    session: Session, principal: Principal, item: ActionItem, body: ActionItemUpdate
) -> ActionItem:
    """The change itself, once the caller's version is known to be current."""
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
            raise Forbidden(
                key="error.role_may_not_change",
                params={"role": Message(f"role.{role}"), "field": field},
            )
        if field == "assignee_id" and value is not None:
            assignee = session.get(User, value)
            if (
                assignee is None
                or assignee.organization_id != item.organization_id
                or assignee.role == Role.planner
            ):
                raise InvalidInput.at(["body", "assignee_id"], "error.no_such_assignee")
        if field == "title":
            value = value.strip()
            if not value:
                raise InvalidInput.at(["body", "title"], "error.blank")
            item.title_edited = True  # no longer regenerated from the reports
        if field == "department" and value != item.department:
            departments.check(session, item.organization_id, value, ["body", "department"])
        if field == "due_date":
            # Set by hand (a date, or none): the response-time rules no longer move it.
            item.due_date_manual = True
        old = getattr(item, field)
        if old != value:
            changes[field] = [_plain(old), _plain(value)]
            setattr(item, field, value)

    if target is not None and target != item.status:
        target = ActionStatus(target)
        src = str(item.status)
        if not policy.may_move(role, src, str(target)):
            # The refusal says what this caller could do instead.
            # In the reader's words: the role's and the statuses' labels, never their codes.
            words = {
                "role": Message(f"role.{role}"),
                "src": Message(f"status.{src}"),
                "dst": Message(f"status.{target}"),
            }
            moves = [str(m) for m in allowed_moves(principal, item)]
            if policy.is_move(src, str(target)):
                raise Forbidden(
                    key="error.move_forbidden", params=words, allowed_moves=moves,
                )  # fmt: skip
            raise Conflict(
                key="error.move_not_allowed", params=words, allowed_moves=moves,
            )  # fmt: skip
        if target == ActionStatus.resolved and resolution_rule(session, item):
            if not (item.resolution_note and item.resolution_note.strip()):
                raise InvalidInput.at(
                    ["body", "resolution_note"],
                    "error.note_required",
                )
        if target == ActionStatus.wont_fix and not (comment and comment.strip()):
            raise InvalidInput.at(["body", "comment"], "error.wont_fix_reason")
        if target == ActionStatus.referred:
            if not (referred_to and referred_to.strip()):
                raise InvalidInput.at(["body", "referred_to"], "error.referred_to_required")
            item.referred_to = referred_to.strip()
        if target == ActionStatus.duplicate:
            if duplicate_of is None:
                raise InvalidInput.at(["body", "duplicate_of"], "error.duplicate_of_required")
            if duplicate_of == item.id:
                raise InvalidInput.at(["body", "duplicate_of"], "error.item_duplicates_itself")
            try:
                get_item(session, item.organization_id, duplicate_of)
            except NotFound as exc:
                raise InvalidInput.at(["body", "duplicate_of"], "error.no_such_item") from exc
            item.duplicate_of_id = duplicate_of
        with _race():
            set_status(session, item, target, actor=principal, comment=comment)
        if changes:
            record_event(session, item, kind="update", actor=principal, changes=changes)
    else:
        if duplicate_of is not None or referred_to is not None:
            field = "duplicate_of" if duplicate_of is not None else "referred_to"
            raise InvalidInput.at(["body", field], "error.only_with_matching_status")
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
    notices.item_changed(session, item, changes=changes, comment=comment, actor=principal)
    _flush(session)
    if changes.keys() & {"department", "due_date", "category_id", "area_id"}:
        # A status move counted itself in `set_status`.
        follow_up_rollup.sync(session, [item.id])
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
        raise InvalidInput.at(["body", "outcome"], "error.outcome_verified_or_reopened")
    if item.status != ActionStatus.resolved:
        raise Conflict(
            key="error.follow_up_only_resolved",
            params={"status": Message(f"status.{item.status}")},
            allowed_moves=[str(m) for m in allowed_moves(principal, item)],
        )
    if principal.participant is not None:
        walk = session.get(Walk, principal.participant.walk_id)
        if walk is None or walk.area_id is None or walk.area_id != item.area_id:
            raise NotFound(key="error.no_such_item")
    if not policy.may_move(principal.role, str(item.status), str(outcome)):
        raise Forbidden(
            key="error.role_may_not",
            params={"role": Message(f"role.{principal.role}")},
            allowed_moves=[str(m) for m in allowed_moves(principal, item)],
        )
    with _race():
        set_status(session, item, outcome, kind="follow_up", actor=principal, comment=comment)
    _flush(session)
    return item


def history(
    session: Session, item: ActionItem, n: int | None = None, cursor: str | None = None
) -> tuple[list[ActionEventRead], str | None]:
    """The item's events, oldest first: ``n`` of them after ``cursor`` (None: all), and the
    next page's cursor."""
    events, nxt = seek(
        session,
        select(ActionEvent).where(col(ActionEvent.action_item_id) == item.id),
        [col(ActionEvent.created_at), col(ActionEvent.id)],
        n,
        cursor,
    )
    return event_reads(session, events), nxt


def event_reads(session: Session, events: list[ActionEvent]) -> list[ActionEventRead]:
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
        kind: Literal["user", "participant", "case_system", "system"]
        name: str | None = None
        if e.actor_user_id and e.actor_user_id in users:
            u = users[e.actor_user_id]
            kind, name = "user", u.display_name or u.email
        elif e.actor_participant_id and e.actor_participant_id in groups:
            # The group only: participant identity is never shown.
            kind, name = "participant", str(groups[e.actor_participant_id])
        elif e.kind == "case_system":
            kind = "case_system"  # the organization's Open311 case system (api/outputs/open311)
        else:
            kind = "system"
        actor = f"{kind}:{name}" if name is not None else kind
        out.append(
            ActionEventRead(
                **columns_for(e, ActionEventRead), actor=actor, actor_kind=kind, actor_name=name
            )
        )
    return out


class _Kept(Protocol):
    created: bool


Kept = TypeVar("Kept", bound=_Kept)


def add_fix_photo(
    session: Session,
    principal: Principal,
    item: ActionItem,
    photo_id: uuid.UUID,
    keep: Callable[[], Kept],
) -> Kept:
    """A photo of the fix, in the item's history. Engineers add them to items they work on;
    ``keep`` stores it once that is checked (the photos' upload, passed in by the route: the
    same checks and stripping as observation photos).

    The item itself is not written, so its version (the ETag) stays: the photo changes none
    of the fields an If-Match guards, and an engineer who sends the photo and then resolves
    with the ETag read before must not be refused for a change of their own. The photo counts
    as the fix once the item is resolved (``photo_links``)."""
    _engineer_scope(principal, item)
    done = keep()
    if done.created:
        record_event(session, item, kind="photo", actor=principal, changes={"photo": str(photo_id)})
        session.flush()
    return done


def comment(session: Session, principal: Principal, item: ActionItem, text: str) -> ActionEvent:
    """A note in the item's history; no field or status changes."""
    _engineer_scope(principal, item)
    text = text.strip()
    if not text:
        raise InvalidInput.at(["body", "text"], "error.comment_empty")
    event = record_event(session, item, kind="comment", actor=principal, comment=text)
    item.updated_at = utcnow()
    notices.item_changed(session, item, comment=text, actor=principal)
    _flush(session)
    return event


_BULK_STATUS: dict[type[DomainError], BulkStatus] = {
    Forbidden: "forbidden",
    Conflict: "conflict",
    PreconditionFailed: "conflict",
    NotFound: "not_found",
    InvalidInput: "invalid",
}


def bulk(session: Session, principal: Principal, body: BulkRequest, lang: str = ENGLISH) -> BulkOut:
    """The same change to many items, each all-or-nothing in its own savepoint, each with its
    own result and its own ActionEvents: a coordinator triages a walk's 50 new items at once."""
    changes = body.set.model_dump(exclude_unset=True)
    if not changes:
        raise InvalidInput.at(["body", "set"], "error.bulk_nothing_to_set")
    # An unknown department is the request's mistake, not each item's.
    if "department" in changes:
        departments.check(
            session, principal.org_id, changes["department"], ["body", "set", "department"]
        )
    update_body = ActionItemUpdate.model_validate(changes)
    results: list[BulkItemResult] = []
    for entry in body.ids:
        item_id, version = (
            (entry.id, entry.version) if isinstance(entry, BulkTarget) else (entry, None)
        )
        savepoint = session.begin_nested()
        try:
            item = get_item(session, principal.org_id, item_id)
            if version is not None and version != item.version:
                raise PreconditionFailed(
                    key="error.item_version", params={"current": item.version, "given": version}
                )
            apply(session, principal, item, update_body)
            savepoint.commit()
        except DomainError as exc:
            savepoint.rollback()
            kind = next((v for k, v in _BULK_STATUS.items() if isinstance(exc, k)), None)
            if kind is None:
                raise
            moves = exc.extra.get("allowed_moves")
            results.append(
                BulkItemResult(
                    id=item_id,
                    status=kind,
                    detail=exc.detail_in(lang),
                    errors=exc.errors_in(lang) or None,
                    allowed_moves=moves,
                )  # fmt: skip
            )
            continue
        except BaseException:
            savepoint.rollback()
            raise
        results.append(BulkItemResult(id=item_id, status="ok", version=item.version))
    counts = {k: sum(1 for r in results if r.status == k) for k in _COUNTED}
    return BulkOut(results=results, **counts)


_COUNTED: tuple[BulkStatus, ...] = ("ok", "forbidden", "conflict", "not_found", "invalid")
