"""Action items (one fixable thing in one area) and their append-only history."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import ConfigDict
from sqlalchemy import JSON, Boolean, Column, ColumnElement, Index, Integer, Text, and_, false
from sqlmodel import Field, SQLModel, col

from models.assets import AssetBrief
from models.base import NotNull, enum_column, geometry_column, new_id, ts_column, utcnow
from models.geojson import StoredPoint, StoredPolygonOrNone
from models.observations import PhotoLink


class ActionStatus(StrEnum):
    new = "new"
    triaged = "triaged"
    planned = "planned"
    in_progress = "in_progress"
    resolved = "resolved"
    verified = "verified"
    reopened = "reopened"
    wont_fix = "wont_fix"
    referred = "referred"
    duplicate = "duplicate"
    # An item whose observations were all hidden or moved away.
    closed_empty = "closed_empty"


OPEN_STATUSES = frozenset(
    {
        ActionStatus.new,
        ActionStatus.triaged,
        ActionStatus.planned,
        ActionStatus.in_progress,
        ActionStatus.reopened,
    }
)
# Done, as far as the list is concerned: a fix photo counts as one only on such an item.
RESOLVED_STATUSES = frozenset({ActionStatus.resolved, ActionStatus.verified})


# --- the workflow: who may make each move -----------------------------------------------------
# new -> triaged -> planned -> in_progress -> resolved -> verified
#                                   \-> wont_fix (reason) | referred (to whom) | duplicate (of)
# resolved -> reopened -> triaged ...
# The diagram is an order, not a list of required steps: forward moves may skip states. Backward
# moves are refused, except a reopen. Engineers act on items of their own department (or
# assigned to them); participants confirm or reopen resolved items on a follow-up walk.

_COORDINATORS = frozenset({"admin", "coordinator"})
_WORKERS = _COORDINATORS | {"engineer"}
_FOLLOW_UP = _COORDINATORS | {"participant"}

# Where each open state sits on the way to ``resolved``; a move goes forward only.
_FORWARD: dict[ActionStatus, int] = {
    ActionStatus.new: 0,
    ActionStatus.reopened: 0,
    ActionStatus.triaged: 1,
    ActionStatus.planned: 2,
    ActionStatus.in_progress: 3,
    ActionStatus.resolved: 4,
}


def _forward_moves() -> dict[tuple[ActionStatus, ActionStatus], frozenset[str]]:
    moves: dict[tuple[ActionStatus, ActionStatus], frozenset[str]] = {}
    for src in OPEN_STATUSES:
        for dst, rank in _FORWARD.items():
            if rank <= _FORWARD[src] or dst in (ActionStatus.new, ActionStatus.reopened):
                continue
            # Coordinators triage, plan and resolve from anywhere earlier; engineers start or
            # finish the work in one move, and plan what was triaged for them.
            if dst in (ActionStatus.in_progress, ActionStatus.resolved):
                moves[(src, dst)] = _WORKERS
            elif dst == ActionStatus.planned and src == ActionStatus.triaged:
                moves[(src, dst)] = _WORKERS
            else:
                moves[(src, dst)] = _COORDINATORS
    return moves


ACTION_MOVES: dict[tuple[ActionStatus, ActionStatus], frozenset[str]] = {
    **_forward_moves(),
    (ActionStatus.resolved, ActionStatus.verified): _FOLLOW_UP,
    (ActionStatus.resolved, ActionStatus.reopened): _FOLLOW_UP,
    **{(s, ActionStatus.wont_fix): _COORDINATORS for s in OPEN_STATUSES},
    **{(s, ActionStatus.referred): _COORDINATORS for s in OPEN_STATUSES},
    **{(s, ActionStatus.duplicate): _COORDINATORS for s in OPEN_STATUSES},
}


def is_move(from_status: str, to_status: str) -> bool:
    """Whether the workflow knows this move at all (for someone)."""
    try:
        return (ActionStatus(from_status), ActionStatus(to_status)) in ACTION_MOVES
    except ValueError:
        return False


def may_move(role: str, from_status: str, to_status: str) -> bool:
    try:
        key = (ActionStatus(from_status), ActionStatus(to_status))
    except ValueError:
        return False
    return role in ACTION_MOVES.get(key, frozenset())


def moves_for(role: str, from_status: str) -> list[ActionStatus]:
    """The statuses ``role`` may move an item in ``from_status`` to, in workflow order."""
    return [dst for dst in ActionStatus if may_move(role, from_status, dst)]


class OwnerType(StrEnum):
    municipality = "municipality"
    housing = "housing"
    road_authority = "road_authority"
    private = "private"


_VERSION = Column("version", Integer, nullable=False)

# The follow-up indexes; the migration names the same columns.
FOLLOW_UP_ITEM_COLUMNS = (
    "organization_id", "status", "area_id", "category_id", "department",
    "created_at", "resolved_at", "due_date", "id",
)  # fmt: skip
FOLLOW_UP_EVENT_TO_STATUS_COLUMNS = ("organization_id", "to_status", "created_at", "action_item_id")
FOLLOW_UP_EVENT_TIME_COLUMNS = (
    "organization_id", "created_at", "action_item_id", "to_status", "from_status",
)  # fmt: skip


class ActionItem(SQLModel, table=True):
    __tablename__ = "action_item"
    __table_args__ = (
        Index("ix_action_item_org_status", "organization_id", "status"),
        # Covers the follow-up figures (api/action_items/figures.py): read from this narrow
        # index alone, not from the wide rows with their geometries.
        Index("ix_action_item_follow_up", *FOLLOW_UP_ITEM_COLUMNS),
        # The partial days at the edges of a follow-up period, next to the rollup's whole days.
        Index("ix_action_item_org_created", "organization_id", "created_at"),
        Index("ix_action_item_org_resolved", "organization_id", "resolved_at"),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    organization_id: uuid.UUID = Field(
        foreign_key="organization.id", index=True, ondelete="CASCADE"
    )
    area_id: uuid.UUID | None = Field(
        default=None, foreign_key="area.id", ondelete="SET NULL", index=True
    )
    category_id: uuid.UUID = Field(foreign_key="category.id", index=True, ondelete="RESTRICT")
    title: str = Field(max_length=200)
    # Set once a coordinator wrote the title: it is no longer regenerated from the reports.
    title_edited: bool = Field(
        default=False, sa_column=Column(Boolean, nullable=False, server_default=false())
    )
    location: Any = Field(sa_column=geometry_column("POINT"))
    footprint: Any = Field(default=None, sa_column=geometry_column("POLYGON", nullable=True))
    observation_count: int = 0
    first_seen_at: datetime | None = Field(default=None, sa_column=ts_column(nullable=True))
    last_seen_at: datetime | None = Field(default=None, sa_column=ts_column(nullable=True))
    participant_groups: list[str] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    priority_score: float = 0.0
    priority_override: float | None = None
    department: str | None = Field(default=None, max_length=64, index=True)
    owner_type: OwnerType = Field(default=OwnerType.municipality, sa_column=enum_column(OwnerType))
    assignee_id: uuid.UUID | None = Field(
        default=None, foreign_key="user_account.id", ondelete="SET NULL"
    )
    due_date: date | None = None
    # Set when someone wrote the due date by hand: response-time rules no longer move it.
    due_date_manual: bool = Field(
        default=False, sa_column=Column(Boolean, nullable=False, server_default=false())
    )
    status: ActionStatus = Field(default=ActionStatus.new, sa_column=enum_column(ActionStatus))
    resolution_note: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    referred_to: str | None = Field(default=None, max_length=200)
    duplicate_of_id: uuid.UUID | None = Field(
        default=None, foreign_key="action_item.id", ondelete="SET NULL"
    )
    recurrence_of_id: uuid.UUID | None = Field(
        default=None, foreign_key="action_item.id", ondelete="SET NULL"
    )
    resolved_at: datetime | None = Field(default=None, sa_column=ts_column(nullable=True))
    # The asset (a lamp) every observation of the item names: one item per lamp.
    asset_id: uuid.UUID | None = Field(
        default=None, foreign_key="asset.id", ondelete="SET NULL", index=True
    )
    # Bumped by every UPDATE (optimistic locking: UPDATE ... WHERE version = old); the ETag.
    version: int = Field(default=1, sa_column=_VERSION)
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())

    __mapper_args__ = {"version_id_col": _VERSION}


# --- which items count as open, hidden or overdue -------------------------------------------
# Written beside the table, below every domain, so that deadlines, notices, retention, hotspots
# and the area counts read the same sets as the action list (``api.action_items.features``
# hands them on with the property list every output uses).

# Being worked on: what the list, deadlines, notices and Open311 count as open.
OPEN = sorted(str(s) for s in OPEN_STATUSES)
# Done, as the public pages and report back say it.
DONE = RESOLVED_STATUSES
# Emptied (every observation hidden or moved) or merged into another item: no list, map, feed
# or export shows them; only an item's own history and its duplicate chain still name them.
HIDDEN_STATUSES = frozenset({ActionStatus.closed_empty, ActionStatus.duplicate})
HIDDEN = sorted(str(s) for s in HIDDEN_STATUSES)
SHOWN_STATUSES = tuple(str(s) for s in ActionStatus if s not in HIDDEN_STATUSES)


def is_open() -> ColumnElement[bool]:
    return col(ActionItem.status).in_(OPEN)


def shown() -> ColumnElement[bool]:
    """The items any list or output shows (not emptied, not merged away)."""
    return col(ActionItem.status).notin_(HIDDEN)


def overdue(today: date | None = None) -> ColumnElement[bool]:
    return and_(col(ActionItem.due_date) < (today or utcnow().date()), is_open())


def is_overdue(item: ActionItem, today: date) -> bool:
    return item.due_date is not None and item.due_date < today and item.status in OPEN_STATUSES


class ActionEvent(SQLModel, table=True):
    """Append-only: who moved or changed what, when, with which comment."""

    __tablename__ = "action_event"
    __table_args__ = (
        # The follow-up figures: reopens (and resolutions) in a period, and the moves since a
        # past moment, which tell an item's status at that moment.
        Index("ix_action_event_org_to_status", *FOLLOW_UP_EVENT_TO_STATUS_COLUMNS),
        Index("ix_action_event_org_time", *FOLLOW_UP_EVENT_TIME_COLUMNS),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    organization_id: uuid.UUID = Field(
        foreign_key="organization.id", index=True, ondelete="CASCADE"
    )
    action_item_id: uuid.UUID = Field(foreign_key="action_item.id", index=True, ondelete="CASCADE")
    actor_user_id: uuid.UUID | None = Field(
        default=None, foreign_key="user_account.id", ondelete="SET NULL"
    )
    actor_participant_id: uuid.UUID | None = Field(
        default=None, foreign_key="participant.id", ondelete="SET NULL"
    )
    kind: str = Field(default="status", max_length=32)
    from_status: str | None = Field(default=None, max_length=16)
    to_status: str | None = Field(default=None, max_length=16)
    changes: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    comment: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=ts_column())


# --- API schemas -------------------------------------------------------------------------


class ActionItemRead(SQLModel):
    id: uuid.UUID
    title: str
    category: str
    area_id: uuid.UUID | None
    location: StoredPoint
    footprint: StoredPolygonOrNone
    observation_count: int
    first_seen_at: datetime | None
    last_seen_at: datetime | None
    participant_groups: list[str]
    priority_score: float
    priority_override: float | None
    priority: float
    department: str | None
    owner_type: OwnerType
    assignee_id: uuid.UUID | None
    due_date: date | None
    due_date_manual: bool = False
    overdue: bool
    status: ActionStatus
    resolution_note: str | None
    referred_to: str | None
    duplicate_of_id: uuid.UUID | None
    recurrence_of_id: uuid.UUID | None
    resolved_at: datetime | None
    version: int
    created_at: datetime
    updated_at: datetime
    # Computed for the caller: the statuses they may move the item to now.
    allowed_moves: list[ActionStatus] = []
    # Photos of the fix, with short-lived signed links.
    photos: list[PhotoLink] = []
    # The lamp (or other asset) the item is about, and what its observations' photos measured.
    asset_id: uuid.UUID | None = None
    asset: AssetBrief | None = None
    recurring: bool = False
    estimated_lux: float | None = None
    below_target: bool = False


class ActionItemUpdate(SQLModel):
    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    status: Annotated[ActionStatus | None, NotNull] = None
    comment: str | None = Field(default=None, max_length=4000)
    department: str | None = Field(default=None, max_length=64)
    owner_type: Annotated[OwnerType | None, NotNull] = None
    assignee_id: uuid.UUID | None = None
    due_date: date | None = None
    priority_override: float | None = Field(default=None, ge=0, le=100)
    resolution_note: str | None = Field(default=None, max_length=4000)
    referred_to: str | None = Field(default=None, max_length=200)
    duplicate_of: uuid.UUID | None = None
    title: Annotated[str | None, NotNull] = Field(default=None, min_length=1, max_length=200)


class ActionEventRead(SQLModel):
    id: uuid.UUID
    kind: str
    from_status: str | None
    to_status: str | None
    changes: dict[str, Any]
    comment: str | None
    actor: str  # "user:<display or email>", "participant:<group>", "case_system" or "system"
    # The same in parts, for a client to put in words: the kind of actor, and the staff
    # member's display name (else email) or the participant's group code.
    actor_kind: Literal["user", "participant", "case_system", "system"] = "system"
    actor_name: str | None = None
    created_at: datetime


class CommentIn(SQLModel):
    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    text: str = Field(min_length=1, max_length=4000)


class MergeRequest(SQLModel):
    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    other_id: uuid.UUID
    comment: str | None = Field(default=None, max_length=4000)


class SplitRequest(SQLModel):
    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    observation_ids: list[uuid.UUID] = Field(min_length=1, max_length=500)
    comment: str | None = Field(default=None, max_length=4000)


class FollowUpRequest(SQLModel):
    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    outcome: ActionStatus
    comment: str | None = Field(default=None, max_length=2000)


class RegroupResult(SQLModel):
    observations: int
    items_kept: int
    items_created: int
    items_closed: int


class BulkTarget(SQLModel):
    """An item id with the version the client read: a newer version is that item's conflict."""

    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    id: uuid.UUID
    version: int | None = Field(default=None, ge=1)


class BulkSet(SQLModel):
    """What to do to every item; the same rules as a PATCH of each one."""

    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    status: Annotated[ActionStatus | None, NotNull] = None
    department: str | None = Field(default=None, max_length=64)
    assignee_id: uuid.UUID | None = None
    due_date: date | None = None
    comment: str | None = Field(default=None, max_length=4000)


class BulkRequest(SQLModel):
    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    ids: list[uuid.UUID | BulkTarget] = Field(min_length=1, max_length=500)
    set: BulkSet


BulkStatus = Literal["ok", "forbidden", "conflict", "not_found", "invalid"]


class BulkItemResult(SQLModel):
    id: uuid.UUID
    status: BulkStatus
    detail: str | None = None
    errors: list[dict[str, Any]] | None = None
    allowed_moves: list[ActionStatus] | None = None
    version: int | None = None


class BulkOut(SQLModel):
    results: list[BulkItemResult]
    ok: int
    forbidden: int
    conflict: int
    not_found: int
    invalid: int


class AgeBuckets(SQLModel):
    """Open items by age in days."""

    model_config = ConfigDict(populate_by_name=True)  # type: ignore[assignment]

    d0_30: int = Field(alias="0-30")
    d31_90: int = Field(alias="31-90")
    d91_180: int = Field(alias="91-180")
    over_180: int = Field(alias=">180")


class FollowUpGroup(SQLModel):
    """Stocks as of the end of the period (``open``, ``overdue``, ``resolved``, ``verified``,
    ``open_age_days``) and flows within it (``created``, ``reopened``, ``resolved_in_period``,
    ``median_days_to_resolve``); see ``api/action_items/figures.py``."""

    key: str | None
    label: str | None
    open: int
    overdue: int
    resolved: int
    verified: int
    reopened: int
    created: int
    resolved_in_period: int
    open_age_days: AgeBuckets
    median_days_to_resolve: float | None
    # Of ``resolved_in_period``: resolved on or before the due date, and that count's share of
    # those that had a due date (null when none had).
    resolved_within_deadline: int = 0
    resolved_within_deadline_share: float | None = None


class FollowUpStats(SQLModel):
    group_by: Literal["area", "department", "category"]
    # The period [since, until) the figures cover; ``until`` is its end as used (now at most).
    since: datetime | None = None
    until: datetime
    groups: list[FollowUpGroup]


class TrendMonth(SQLModel):
    month: str  # "2026-03", the organization's calendar month
    start: datetime
    end: datetime  # exclusive; now for the current month
    opened: int
    resolved: int
    overdue: int  # open at the month's end and past their due date


class FollowUpTrend(SQLModel):
    timezone: str
    area_id: uuid.UUID | None = None
    months: list[TrendMonth]


class AreaRef(SQLModel):
    id: uuid.UUID
    name: str
    code: str | None


class ActionListCounts(SQLModel):
    by_category: dict[str, int]
    by_status: dict[str, int]
    total: int
    overdue: int


class ActionListRead(SQLModel):
    """An area's action list, highest priority first."""

    area: AreaRef
    counts: ActionListCounts
    items: list[ActionItemRead]
    next: str | None = None  # the next page of items (counts are the whole list's)
