"""What the report back of a walk shows: each of the walk's observations and what became of
its action item. For anyone with the unlisted link, so it reads as little as it needs:

- observations: accepted ones of published, non-sensitive categories; their id (the phone that
  made one knows it, and finds its own this way), category and item. Never the note, photos,
  time, place, participant or group.
- items: title, category, status, due and done dates, the engineer's resolution note, whom it
  was referred to, the reason it was declined (the comment of the move to ``wont_fix``). An
  item merged or marked a duplicate is shown as the item it went into. Never the department,
  assignee or history.
- a later walk in the same area (the one that follows this one up, else the next completed one):
  which of this walk's items were verified fixed, which were reported still a problem (its
  observations joined them, started recurrences of them, or its participants reopened them),
  and which items its observations made that this walk did not know.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from api.core import tenancy
from api.core.errors import NotFound
from api.core.i18n import translate
from api.outputs.public.service import ItemStatus, status_fields
from models.action_items import ActionEvent, ActionItem, ActionStatus
from models.areas import Area
from models.categories import Category, pick_label
from models.observations import Moderation, Observation, Photo
from models.organizations import Organization
from models.walks import Participant, Walk, WalkStatus

MERGED = ActionStatus.duplicate
# A chain of duplicates longer than this is a loop or a mess: shown where it stops.
MAX_HOPS = 5


class _Labelled:
    """A category label in the reader's language, from the labels a shown row carries."""

    label_nb: str
    label_en: str
    other_labels: Mapping[str, str] | None

    def label(self, lang: str) -> str:
        return pick_label(lang, self.label_en, self.label_nb, self.other_labels)


@dataclass(frozen=True)
class ShownItem(ItemStatus, _Labelled):
    resolution_note: str | None
    referred_to: str | None
    declined_reason: str | None
    observation_ids: tuple[uuid.UUID, ...] = ()
    # Fix photos, only when the organization shows them (``report_back_photos``) and done.
    photo_ids: tuple[uuid.UUID, ...] = ()
    other_labels: Mapping[str, str] | None = None


@dataclass(frozen=True)
class ShownObservation(_Labelled):
    id: uuid.UUID
    category: str
    label_nb: str
    label_en: str
    item_id: uuid.UUID | None
    other_labels: Mapping[str, str] | None = None


@dataclass(frozen=True)
class Comparison:
    walk_id: uuid.UUID
    title: str
    day: date
    verified: tuple[uuid.UUID, ...]
    still_a_problem: tuple[uuid.UUID, ...]
    new: tuple[ShownItem, ...]


@dataclass(frozen=True)
class ReportBack:
    org: Organization
    walk: Walk
    day: date
    area_name: str | None
    items: tuple[ShownItem, ...]
    observations: tuple[ShownObservation, ...]
    comparison: Comparison | None
    published_at: datetime
    item_by_id: dict[uuid.UUID, ShownItem] = field(default_factory=dict)
    photos_shown: bool = False

    def facts(self, lang: str, day: str) -> str:
        """When, where and by whom, with the day as the format writes dates."""
        area = self.area_name or "—"
        return translate("report_back.facts", lang, date=day, area=area, org=self.org.name)

    def counts(self, lang: str) -> str:
        done = sum(1 for i in self.items if i.done)
        return translate(
            "report_back.count", lang,
            observations=len(self.observations), items=len(self.items), done=done,
        )  # fmt: skip


def photo_path(org_slug: str, walk_id: uuid.UUID, photo_id: uuid.UUID) -> str:
    """Where the page serves a fix photo: under its own unlisted link, so it needs no other."""
    return f"/public/{org_slug}/walks/{walk_id}/photos/{photo_id}"


def _with_fix_photos(session: Session, items: list[ShownItem]) -> list[ShownItem]:
    done = [i.id for i in items if i.done]
    if not done:
        return items
    found: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    for p in session.scalars(
        select(Photo)
        .where(col(Photo.action_item_id).in_(done))
        .order_by(col(Photo.created_at), col(Photo.id))
    ):
        assert p.action_item_id is not None
        found[p.action_item_id].append(p.id)
    return [replace(i, photo_ids=tuple(found.get(i.id, ()))) for i in items]


def published_walk(session: Session, slug: str, walk_id: uuid.UUID) -> tuple[Organization, Walk]:
    """The organization and its walk, if the walk's report back is published; 404 otherwise
    (the same answer for no such organization, no such walk and not published)."""
    with tenancy.lookup(session, "organization"):  # the slug names the organization
        org = session.scalar(select(Organization).where(col(Organization.slug) == slug))
    if org is None:
        raise NotFound(key="error.nothing_published")
    tenancy.bind(session, org.id)
    walk = session.get(Walk, walk_id)
    if walk is None or walk.organization_id != org.id or walk.report_back_published_at is None:
        raise NotFound(key="error.nothing_published")
    return org, walk


def _start(walk: Walk) -> datetime:
    return walk.starts_at or walk.created_at


def _day(walk: Walk, tz: str) -> date:
    """The walk's date as the organization's calendar has it."""
    return _start(walk).astimezone(ZoneInfo(tz)).date()


def _observations(session: Session, walk_id: uuid.UUID) -> list[ShownObservation]:
    rows = session.execute(
        select(
            col(Observation.id), col(Observation.action_item_id), col(Category.code),
            col(Category.label_nb), col(Category.label_en), col(Category.other_labels),
        )
        .join(Category, col(Category.id) == col(Observation.category_id))
        .where(
            col(Observation.walk_id) == walk_id,
            col(Observation.moderation) == Moderation.accepted,
            col(Category.published).is_(True),
            col(Category.sensitive).is_(False),
        )
        .order_by(col(Observation.recorded_at), col(Observation.id))
    ).all()  # fmt: skip
    return [ShownObservation(r[0], r[2], r[3], r[4], r[1], r[5]) for r in rows]


def _final_items(
    session: Session, ids: Iterable[uuid.UUID]
) -> tuple[dict[uuid.UUID, uuid.UUID], dict[uuid.UUID, ActionItem]]:
    """Each item id mapped to the item it stands for now (itself, or the item it was merged or
    marked a duplicate into, followed a few hops), and those items."""
    starts = list(ids)
    wanted = set(starts)
    loaded: dict[uuid.UUID, ActionItem] = {}
    for _ in range(MAX_HOPS + 1):
        missing = wanted - set(loaded)
        if not missing:
            break
        for row in session.scalars(select(ActionItem).where(col(ActionItem.id).in_(missing))):
            loaded[row.id] = row
        wanted |= {
            i.duplicate_of_id
            for i in loaded.values()
            if i.status == MERGED and i.duplicate_of_id is not None
        }
    final: dict[uuid.UUID, uuid.UUID] = {}
    for start in starts:
        current = start
        for _ in range(MAX_HOPS):
            at = loaded.get(current)
            if at is None or at.status != MERGED or at.duplicate_of_id is None:
                break
            if at.duplicate_of_id not in loaded:
                break
            current = at.duplicate_of_id
        if current in loaded:
            final[start] = current
    return final, loaded


def _declined_reasons(session: Session, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
    """The comment of each item's latest move to ``wont_fix``: the reason it gave."""
    out: dict[uuid.UUID, str] = {}
    for item_id, comment in session.execute(
        select(col(ActionEvent.action_item_id), col(ActionEvent.comment))
        .where(
            col(ActionEvent.action_item_id).in_(set(ids)),
            col(ActionEvent.to_status) == str(ActionStatus.wont_fix),
        )
        .order_by(col(ActionEvent.created_at), col(ActionEvent.id))
    ).all():
        if comment:
            out[item_id] = comment
    return out


def _shown_items(
    session: Session, items: Iterable[ActionItem], members: dict[uuid.UUID, list[uuid.UUID]]
) -> list[ShownItem]:
    """Items of published, non-sensitive categories, as the public may see them."""
    items = list(items)
    cats = {
        c.id: c
        for c in session.scalars(
            select(Category).where(col(Category.id).in_({i.category_id for i in items}))
        )
    }
    declined = _declined_reasons(
        session, [i.id for i in items if i.status == ActionStatus.wont_fix]
    )
    out = []
    for i in sorted(items, key=lambda i: (i.created_at, str(i.id))):
        cat = cats.get(i.category_id)
        if cat is None or cat.sensitive or not cat.published:
            continue
        if i.status == ActionStatus.closed_empty:
            continue
        out.append(
            ShownItem(
                **status_fields(i, cat),
                other_labels=cat.other_labels,
                resolution_note=i.resolution_note,
                referred_to=i.referred_to if i.status == ActionStatus.referred else None,
                declined_reason=declined.get(i.id) if i.status == ActionStatus.wont_fix else None,
                observation_ids=tuple(members.get(i.id, ())),
            )
        )
    return out


def later_walk(session: Session, walk: Walk) -> Walk | None:
    """The completed walk in the same area that follows this one up, else the next one."""
    if walk.area_id is None:
        return None
    candidates = [
        w
        for w in session.scalars(
            select(Walk).where(
                col(Walk.organization_id) == walk.organization_id,
                col(Walk.area_id) == walk.area_id,
                col(Walk.id) != walk.id,
                col(Walk.status) == WalkStatus.completed,
            )
        )
        if _start(w) > _start(walk)
    ]
    if not candidates:
        return None
    return min(candidates, key=lambda w: (w.follow_up_of_id != walk.id, _start(w), str(w.id)))


def _compare(
    session: Session, org: Organization, walk: Walk, ours: list[ShownItem]
) -> Comparison | None:
    later = later_walk(session, walk)
    if later is None:
        return None
    theirs = _observations(session, later.id)
    final, loaded = _final_items(session, [o.item_id for o in theirs if o.item_id is not None])
    their_ids = {final[o.item_id] for o in theirs if o.item_id is not None and o.item_id in final}
    our_ids = {i.id for i in ours}
    recurrences = {
        loaded[i].recurrence_of_id for i in their_ids if loaded[i].recurrence_of_id in our_ids
    }
    participants = select(col(Participant.id)).where(col(Participant.walk_id) == later.id)
    reopened_by_them = set(
        session.scalars(
            select(col(ActionEvent.action_item_id)).where(
                col(ActionEvent.action_item_id).in_(our_ids),
                col(ActionEvent.kind) == "follow_up",
                col(ActionEvent.to_status) == str(ActionStatus.reopened),
                col(ActionEvent.actor_participant_id).in_(participants),
            )
        )
    )
    verified = tuple(i.id for i in ours if i.status == ActionStatus.verified)
    still = tuple(
        i.id
        for i in ours
        if i.status != ActionStatus.verified
        and (i.id in their_ids or i.id in recurrences or i.id in reopened_by_them)
    )
    fresh = [
        loaded[i]
        for i in their_ids
        if i not in our_ids and loaded[i].recurrence_of_id not in our_ids
    ]
    return Comparison(
        walk_id=later.id,
        title=later.title,
        day=_day(later, org.timezone),
        verified=verified,
        still_a_problem=still,
        new=tuple(_shown_items(session, fresh, {})),
    )


def report_back(session: Session, org: Organization, walk: Walk) -> ReportBack:
    observations = _observations(session, walk.id)
    final, loaded = _final_items(
        session, [o.item_id for o in observations if o.item_id is not None]
    )
    members: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    for o in observations:
        if o.item_id is not None and o.item_id in final:
            members[final[o.item_id]].append(o.id)
    items = _shown_items(session, [loaded[i] for i in members], members)
    if org.report_back_photos:
        items = _with_fix_photos(session, items)
    shown = {i.id for i in items}
    # Each observation points at the item it stands in now (or none, when that is not shown).
    observations = [
        ShownObservation(
            o.id, o.category, o.label_nb, o.label_en,
            final.get(o.item_id) if o.item_id is not None and final.get(o.item_id) in shown else None,
            o.other_labels,
        )
        for o in observations
    ]  # fmt: skip
    area = session.get(Area, walk.area_id) if walk.area_id is not None else None
    assert walk.report_back_published_at is not None
    return ReportBack(
        org=org,
        walk=walk,
        day=_day(walk, org.timezone),
        area_name=area.name if area is not None else None,
        items=tuple(items),
        observations=tuple(observations),
        comparison=_compare(session, org, walk, items),
        published_at=walk.report_back_published_at,
        item_by_id={i.id: i for i in items},
        photos_shown=org.report_back_photos,
    )


def as_json(report: ReportBack, lang: str) -> dict[str, object]:
    """The page's JSON form (what the field app reads on the phone that made the observations)."""

    def label(x: ShownItem | ShownObservation) -> str:
        return x.label(lang)

    def item(i: ShownItem, *, with_observations: bool = True) -> dict[str, object]:
        out: dict[str, object] = {
            "id": str(i.id),
            "title": i.title,
            "category": i.category,
            "category_label": label(i),
            "status": i.status,
            "done": i.done,
            "due_date": i.due_date.isoformat() if i.due_date else None,
            "done_date": i.done_date.isoformat() if i.done_date else None,
            "resolution_note": i.resolution_note,
            "referred_to": i.referred_to,
            "declined_reason": i.declined_reason,
        }
        if with_observations:
            out["observation_ids"] = [str(o) for o in i.observation_ids]
        if report.photos_shown and with_observations:
            out["photos"] = [photo_path(report.org.slug, report.walk.id, p) for p in i.photo_ids]
        return out

    c = report.comparison
    return {
        "organization": report.org.name,
        "walk": {
            "id": str(report.walk.id),
            "title": report.walk.title,
            "date": report.day.isoformat(),
            "area": report.area_name,
            "status": str(report.walk.status),
        },
        "published_at": report.published_at.isoformat(),
        "counts": {
            "observations": len(report.observations),
            "items": len(report.items),
            "done": sum(1 for i in report.items if i.done),
        },
        "items": [item(i) for i in report.items],
        "observations": [
            {
                "id": str(o.id),
                "category": o.category,
                "category_label": label(o),
                "item_id": str(o.item_id) if o.item_id else None,
            }
            for o in report.observations
        ],
        "comparison": None
        if c is None
        else {
            "walk": {"id": str(c.walk_id), "title": c.title, "date": c.day.isoformat()},
            "verified": [str(i) for i in c.verified],
            "still_a_problem": [str(i) for i in c.still_a_problem],
            "new": [item(i, with_observations=False) for i in c.new],
        },
    }
