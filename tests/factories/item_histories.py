"""Action items with random but valid status histories, written straight to the tables, for
tests that compare figures over time with a brute-force count.

Only the draws a caller asks for are made (a second category code, a second department), so a
seed gives the same items whatever options other callers use."""

from __future__ import annotations

import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from shapely.geometry import Polygon
from sqlalchemy.orm import Session

from api.action_items import follow_up_rollup
from api.core import spatial
from models import ActionEvent, ActionItem, ActionStatus, Organization
from tests.factories import make_area, make_category

# Moves an item can make (a small model of the workflow, enough for the figures).
NEXT: dict[str, list[str]] = {
    "new": ["triaged", "in_progress", "resolved", "duplicate", "wont_fix"],
    "triaged": ["planned", "in_progress", "resolved", "referred", "closed_empty"],
    "planned": ["in_progress", "resolved"],
    "in_progress": ["resolved", "wont_fix"],
    "resolved": ["verified", "reopened"],
    "reopened": ["triaged", "resolved"],
    "verified": [],
    "wont_fix": [],
    "referred": [],
    "duplicate": [],
    "closed_empty": [],
}


@dataclass
class History:
    id: uuid.UUID
    area_id: uuid.UUID | None
    area_name: str | None
    code: str
    department: str | None
    created_at: datetime
    due: date | None
    status: str
    resolved_at: datetime | None
    moves: list[tuple[str | None, str, datetime]] = field(default_factory=list)

    def status_at(self, t: datetime) -> str | None:
        """None before it existed."""
        if self.created_at >= t:
            return None
        later = [m for m in self.moves if m[2] >= t]
        return later[0][0] if later else self.status


def seed_histories(
    session: Session,
    org: Organization,
    now: datetime,
    n: int = 80,
    days: float = 400,
    seed: int = 22,
    *,
    max_moves: int = 5,
    due_days: tuple[int, int] = (5, 90),
    codes: Sequence[str] = ("lighting",),
    departments: Sequence[str | None] = ("lighting",),
) -> tuple[list[History], list[uuid.UUID]]:
    """``n`` items over the last ``days`` days in two areas (and none), with their events: up
    to ``max_moves`` moves each, a due date ``due_days`` after creation for three in four, a
    category and a department drawn from ``codes`` and ``departments``."""
    rnd = random.Random(seed)
    square = Polygon([(5.70, 58.84), (5.72, 58.84), (5.72, 58.86), (5.70, 58.86)])
    areas = [make_area(session, org, name, square) for name in ("Austrått", "Sentrum")]
    cats = {code: make_category(session, org, code) for code in codes}
    out = []
    for i in range(n):
        created = now - timedelta(days=rnd.uniform(1, days))
        status, at, resolved_at = "new", created, None
        moves: list[tuple[str | None, str, datetime]] = [(None, "new", created)]
        for _ in range(rnd.randrange(max_moves + 1)):
            options = NEXT[status]
            if not options:
                break
            step = at + timedelta(days=rnd.uniform(0.1, 60))
            if step >= now:
                break
            dst = rnd.choice(options)
            moves.append((status, dst, step))
            resolved_at = step if dst == "resolved" else None if dst == "reopened" else resolved_at
            status, at = dst, step
        area = areas[i % 3] if i % 3 < 2 else None
        code = codes[rnd.randrange(len(codes))] if len(codes) > 1 else codes[0]
        department = (
            departments[rnd.randrange(len(departments))] if len(departments) > 1 else departments[0]
        )
        item = History(
            id=uuid.uuid4(),
            area_id=area.id if area else None,
            area_name=area.name if area else None,
            code=code,
            department=department,
            created_at=created,
            due=(created + timedelta(days=rnd.randrange(*due_days))).date() if i % 4 else None,
            status=status,
            resolved_at=resolved_at,
            moves=moves,
        )
        session.add(
            ActionItem(
                id=item.id,
                organization_id=org.id,
                area_id=item.area_id,
                category_id=cats[code].id,
                title=f"item {i}",
                location=spatial.to_db(spatial.point(5.71, 58.85)),
                department=department,
                due_date=item.due,
                status=ActionStatus(status),
                resolved_at=resolved_at,
                created_at=created,
                updated_at=at,
            )
        )
        session.flush()
        for src, dst, when in moves:
            session.add(
                ActionEvent(
                    organization_id=org.id,
                    action_item_id=item.id,
                    kind="created" if src is None else "status",
                    from_status=src,
                    to_status=dst,
                    created_at=when,
                )
            )
        out.append(item)
    # Written behind the services' back: counted as `safewalk migrate`'s backfill counts them.
    follow_up_rollup.sync(session, [i.id for i in out])
    session.commit()
    return out, [a.id for a in areas]
