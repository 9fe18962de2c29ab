"""SQLModel tables, one module per domain; everything importable from ``models``."""

from models.action_items import (
    OPEN_STATUSES,
    RESOLVED_STATUSES,
    ActionEvent,
    ActionItem,
    ActionStatus,
    OwnerType,
)
from models.areas import Area, AreaKind
from models.assets import Asset, AssetOwner, AssetOwnerRoute, AssetStatus
from models.base import SRID, metadata, utcnow
from models.categories import DEFAULT_CATEGORIES, Category
from models.deadlines import ResponseTimeRule
from models.departments import Department
from models.exchange import DispatchState, IntegrationKey, Open311Dispatch, Open311Endpoint
from models.follow_up import FollowUpCount, FollowUpMember
from models.hotspots import (
    NO_AREA,
    HotspotByCell,
    HotspotDay,
    HotspotItemCell,
    HotspotMember,
    HotspotTotal,
)
from models.notices import DeadlineNotice, Notice, NoticePreference, Webhook, WebhookDelivery
from models.observations import Moderation, ModerationReason, Observation, Photo
from models.operations import ThrottleHit
from models.organizations import Organization, Role, User
from models.retention import ErasureKind, ErasureRecord, MaintenanceRun
from models.tokens import PersonalAccessToken
from models.walks import JOINABLE, WALK_TRANSITIONS, Participant, ParticipantGroup, Walk, WalkStatus

__all__ = [
    "DEFAULT_CATEGORIES",
    "DeadlineNotice",
    "Department",
    "FollowUpCount",
    "FollowUpMember",
    "JOINABLE",
    "OPEN_STATUSES",
    "RESOLVED_STATUSES",
    "SRID",
    "WALK_TRANSITIONS",
    "ActionEvent",
    "ActionItem",
    "ActionStatus",
    "Area",
    "AreaKind",
    "Asset",
    "AssetOwner",
    "AssetOwnerRoute",
    "AssetStatus",
    "Category",
    "DispatchState",
    "ErasureKind",
    "ErasureRecord",
    "HotspotByCell",
    "HotspotDay",
    "HotspotItemCell",
    "HotspotMember",
    "HotspotTotal",
    "IntegrationKey",
    "MaintenanceRun",
    "Moderation",
    "ModerationReason",
    "NO_AREA",
    "Notice",
    "NoticePreference",
    "Observation",
    "Open311Dispatch",
    "Open311Endpoint",
    "Organization",
    "OwnerType",
    "Participant",
    "PersonalAccessToken",
    "ResponseTimeRule",
    "ParticipantGroup",
    "Photo",
    "Role",
    "ThrottleHit",
    "User",
    "Walk",
    "WalkStatus",
    "Webhook",
    "WebhookDelivery",
    "metadata",
    "utcnow",
]
