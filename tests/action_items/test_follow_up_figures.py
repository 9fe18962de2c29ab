"""Follow-up figures for a period: every figure for several periods, compared with a
brute-force computation over seeded items and their histories; and the checks on ``since``
and ``until``. Runs on both databases."""

from __future__ import annotations

import statistics
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session

from api.core import spatial
from models import OPEN_STATUSES, ActionItem, ActionStatus, utcnow
from tests.factories import make_category
from tests.factories.client import SyncClient
from tests.factories.follow_up import count_all
from tests.factories.item_histories import History, seed_histories
from tests.factories.world import World

S = ActionStatus
OPEN = {str(s) for s in OPEN_STATUSES}
DONE = {"resolved", "verified"}
GONE = {"closed_empty", "duplicate"}
CODES = ["lighting", "graffiti", "vegetation"]
DEPARTMENTS = ["lighting", "parks", None]


def seed(session: Session, world: World, now: datetime, n: int = 80) -> list[History]:
    """``n`` items with random, valid histories over the last 400 days (seeded), in three
    categories and three departments (one of them none)."""
    items, _ = seed_histories(
        session, world.org, now, n=n, days=400, seed=1515,
        max_moves=4, due_days=(10, 120), codes=CODES, departments=DEPARTMENTS,
    )  # fmt: skip
    return items


def expected(
    items: list[History],
    group_by: str,
    since: datetime | None,
    until: datetime | None,
    now: datetime,
) -> dict[Any, dict[str, Any]]:
    """The figures by their definitions, item by item, in Python."""
    t = now if until is None or until >= now else until

    def in_period(x: datetime | None) -> bool:
        return x is not None and x < t and (since is None or x >= since)

    groups: dict[Any, dict[str, Any]] = {}
    days: dict[Any, list[float]] = {}
    for it in items:
        later = [m for m in it.moves if m[2] >= t]
        if it.created_at >= t:
            continue
        status = later[0][0] if later else it.status
        if status is None or status in GONE:
            continue
        if not later:
            resolution = it.resolved_at
        elif status in DONE:
            resolution = max(m[2] for m in it.moves if m[1] == "resolved" and m[2] < t)
        else:
            resolution = None
        key, label = {
            "area": (str(it.area_id) if it.area_id else None, it.area_name),
            "department": (it.department, None),
            "category": (it.code, None),
        }[group_by]
        g = groups.setdefault(
            key,
            {"open": 0, "overdue": 0, "resolved": 0, "verified": 0, "reopened": 0, "created": 0,
             "resolved_in_period": 0, "open_age_days": {"0-30": 0, "31-90": 0, "91-180": 0,
             ">180": 0}, "label": label, "resolved_within_deadline": 0, "with_deadline": 0},
        )  # fmt: skip
        if status in OPEN:
            g["open"] += 1
            g["overdue"] += it.due is not None and it.due < t.date()
            age = (t - it.created_at).total_seconds() / 86400
            bucket = "0-30" if age <= 30 else "31-90" if age <= 90 else "91-180"
            g["open_age_days"][">180" if age > 180 else bucket] += 1
        g["resolved"] += status == "resolved"
        g["verified"] += status == "verified"
        g["reopened"] += any(m[1] == "reopened" and in_period(m[2]) for m in it.moves)
        g["created"] += in_period(it.created_at)
        if status in DONE and in_period(resolution):
            assert resolution is not None
            g["resolved_in_period"] += 1
            days.setdefault(key, []).append((resolution - it.created_at).total_seconds() / 86400)
            if it.due is not None:
                g["with_deadline"] += 1
                g["resolved_within_deadline"] += resolution.astimezone(UTC).date() <= it.due
    for key, g in groups.items():
        d = days.get(key)
        g["median_days_to_resolve"] = round(statistics.median(d), 1) if d else None
        with_deadline = g.pop("with_deadline")
        g["resolved_within_deadline_share"] = (
            round(g["resolved_within_deadline"] / with_deadline, 3) if with_deadline else None
        )
    return groups


def _got(groups: list[dict[str, Any]], group_by: str) -> dict[Any, dict[str, Any]]:
    out = {}
    for g in groups:
        g = dict(g)
        key = g.pop("key")
        label = g["label"]
        if group_by != "area":
            g["label"] = None  # the brute force knows area names only
        else:
            g["label"] = label
        out[key] = g
    return out


def _iso(t: datetime | None) -> str | None:
    return t.isoformat() if t is not None else None


@pytest.mark.parametrize("group_by", ["area", "department", "category"])
def test_figures_match_a_brute_force_over_the_history(
    client: SyncClient, world: World, session: Session, group_by: str
) -> None:
    now = utcnow()
    items = seed(session, world, now)
    h = world.headers("planner")
    periods = [
        (None, None),
        (now - timedelta(days=120), None),
        (now - timedelta(days=300), now - timedelta(days=100)),
        (None, now - timedelta(days=200)),
        (now - timedelta(days=60), now - timedelta(days=20)),
        # A future end is read as now.
        (now - timedelta(days=45), now + timedelta(days=10)),
    ]
    totals: dict[str, int] = {}
    for since, until in periods:
        params = {"group_by": group_by}
        if since is not None:
            params["since"] = _iso(since)
        if until is not None:
            params["until"] = _iso(until)
        r = client.get("/api/v1/stats/follow-up", params=params, headers=h)
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["since"] == (_iso(since).replace("+00:00", "Z") if since else None)
        want = expected(items, group_by, since, until, now)
        assert _got(body["groups"], group_by) == want, (since, until)
        if until is not None and until < now:
            for g in want.values():
                for k in ("open", "overdue", "resolved", "verified", "reopened"):
                    totals[k] = totals.get(k, 0) + g[k]
                totals["median"] = totals.get("median", 0) + (
                    g["median_days_to_resolve"] is not None
                )
                share = g["resolved_within_deadline_share"]
                totals["late"] = totals.get("late", 0) + (share is not None and share < 1)
                totals["within"] = totals.get("within", 0) + g["resolved_within_deadline"]
    # The seeded histories exercise every figure in the past, not just zeros.
    assert all(
        totals[k] > 0
        for k in ("open", "overdue", "resolved", "verified", "reopened", "median", "within", "late")
    ), totals


def test_the_past_differs_from_today_and_an_old_end_sees_no_later_items(
    client: SyncClient, world: World, session: Session
) -> None:
    now = utcnow()
    items = seed(session, world, now)
    h = world.headers("coordinator")
    today = client.get("/api/v1/stats/follow-up?group_by=category", headers=h).json()
    assert sum(g["created"] for g in today["groups"]) == len(
        [i for i in items if i.status not in GONE]
    )
    before_all = client.get(
        "/api/v1/stats/follow-up",
        params={"group_by": "category", "until": _iso(now - timedelta(days=500))},
        headers=h,
    ).json()
    assert before_all["groups"] == []
    assert before_all["until"].startswith((now - timedelta(days=500)).date().isoformat())


def test_an_even_count_takes_the_mean_of_the_two_middle_values(
    client: SyncClient, world: World, session: Session
) -> None:
    # An earlier version picked the middle rows were picked with a true division: an even count gave the
    # upper middle value (30.0 here), not the median.
    now = utcnow()
    cat = make_category(session, world.org, "lighting")
    for days in (10, 20, 30, 40):
        created = now - timedelta(days=100)
        session.add(
            ActionItem(
                organization_id=world.org.id,
                category_id=cat.id,
                title=f"resolved in {days} days",
                location=spatial.to_db(spatial.point(5.71, 58.85)),
                department="lighting",
                status=S.resolved,
                resolved_at=created + timedelta(days=days),
                created_at=created,
            )
        )
    count_all(session)
    session.commit()
    groups = client.get(
        "/api/v1/stats/follow-up?group_by=department", headers=world.headers("planner")
    ).json()["groups"]
    assert [(g["key"], g["median_days_to_resolve"]) for g in groups] == [("lighting", 25.0)]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        pytest.param({"since": "2026-01-01T00:00:00"}, "since", id="naive-since"),
        pytest.param({"until": "2026-01-01T00:00:00"}, "until", id="naive-until"),
        pytest.param({"since": "next tuesday"}, "since", id="not-a-time"),
        pytest.param(
            {"since": "2026-03-01T00:00:00+01:00", "until": "2026-03-01T00:00:00+01:00"},
            "until",
            id="empty-period",
        ),
        pytest.param(
            {"since": "2026-03-02T00:00:00Z", "until": "2026-03-01T00:00:00Z"},
            "until",
            id="reversed-period",
        ),
        pytest.param({"since": "2999-01-01T00:00:00Z"}, "since", id="since-after-now"),
    ],
)
def test_bad_periods_are_a_422_naming_the_field(
    client: SyncClient, world: World, params: dict[str, str], field: str
) -> None:
    r = client.get(
        "/api/v1/stats/follow-up",
        params={"group_by": "area", **params},
        headers=world.headers("coordinator"),
    )
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert field in [e["loc"][-1] for e in r.json()["errors"]]


def test_the_period_is_documented(client: SyncClient) -> None:
    spec = client.get("/openapi.json").json()
    op = spec["paths"]["/api/v1/stats/follow-up"]["get"]
    assert "as of `until`" in op["description"]
    assert {p["name"] for p in op["parameters"]} >= {"group_by", "since", "until"}


def test_resolved_on_the_due_date_is_within_it_and_a_day_later_is_not(
    client: SyncClient, world: World, session: Session
) -> None:
    """The deadline holds through its whole (UTC) day; items without a due date count in
    neither the count nor the share."""
    now = utcnow().replace(microsecond=0)
    cat = make_category(session, world.org, "lighting")
    created = now - timedelta(days=40)
    due = (now - timedelta(days=10)).date()
    end_of_due_day = datetime.combine(due, datetime.max.time(), UTC).replace(microsecond=0)
    for title, resolved_at, due_date in (
        ("on the last second of the day", end_of_due_day, due),
        ("the next morning", end_of_due_day + timedelta(hours=6), due),
        ("early", created + timedelta(days=2), due),
        ("no due date", created + timedelta(days=3), None),
    ):
        session.add(
            ActionItem(
                organization_id=world.org.id,
                category_id=cat.id,
                title=title,
                location=spatial.to_db(spatial.point(5.71, 58.85)),
                department="lighting",
                status=S.resolved,
                due_date=due_date,
                resolved_at=resolved_at,
                created_at=created,
            )
        )
    count_all(session)
    session.commit()
    groups = client.get(
        "/api/v1/stats/follow-up?group_by=department", headers=world.headers("planner")
    ).json()["groups"]
    assert [
        (
            g["resolved_in_period"],
            g["resolved_within_deadline"],
            g["resolved_within_deadline_share"],
        )
        for g in groups
    ] == [(4, 2, 0.667)]
