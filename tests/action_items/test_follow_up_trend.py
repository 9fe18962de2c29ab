"""The monthly follow-up trend: opened, resolved and overdue per month of the organization,
compared with a brute-force count over seeded items and their histories, for the default year,
a past period and one area; and bad periods as problems naming the field. Both databases."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session

from models import OPEN_STATUSES, utcnow
from tests.factories.client import SyncClient
from tests.factories.item_histories import History, seed_histories
from tests.factories.world import World

OPEN = {str(s) for s in OPEN_STATUSES}
GONE = {"closed_empty", "duplicate"}
OSLO = ZoneInfo("Europe/Oslo")


def _months(first: date, last: date) -> list[tuple[str, datetime, datetime]]:
    out = []
    d = first.replace(day=1)
    while d <= last:
        nxt = date(d.year + (d.month == 12), d.month % 12 + 1, 1)
        out.append(
            (
                f"{d.year:04d}-{d.month:02d}",
                datetime(d.year, d.month, 1, tzinfo=OSLO),
                datetime(nxt.year, nxt.month, 1, tzinfo=OSLO),
            )
        )
        d = nxt
    return out


def expected(
    items: list[History], months: list[tuple[str, datetime, datetime]], now: datetime, area: Any
) -> list[dict[str, Any]]:
    """The three figures by their definitions, item by item and month by month."""
    out = []
    chosen = [i for i in items if area is None or i.area_id == area]
    for label, start, end in months:
        t = min(end, now)
        opened = sum(start <= i.created_at < t and i.status not in GONE for i in chosen)
        resolved = sum(
            any(dst == "resolved" and start <= when < t for _, dst, when in i.moves) for i in chosen
        )
        local_day = t.astimezone(OSLO).date()
        overdue = sum(
            i.status_at(t) in OPEN and i.due is not None and i.due < local_day for i in chosen
        )
        out.append({"month": label, "opened": opened, "resolved": resolved, "overdue": overdue})
    return out


def _got(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [{k: m[k] for k in ("month", "opened", "resolved", "overdue")} for m in body["months"]]


def test_the_trend_matches_a_brute_force_count(
    client: SyncClient, world: World, session: Session
) -> None:
    now = utcnow()
    items, areas = seed_histories(session, world.org, now, n=90, days=420)
    h = world.headers("planner")

    r = client.get("/api/v1/stats/trend", headers=h)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["timezone"] == "Europe/Oslo"
    local_now = now.astimezone(OSLO).date()
    first = local_now.replace(day=1)
    for _ in range(11):
        first = (first - timedelta(days=1)).replace(day=1)
    months = _months(first, local_now)
    assert len(body["months"]) == 12
    want = expected(items, months, now, None)
    assert _got(body) == want
    # The month's edges are Oslo's midnight, sent with their offset resolved to UTC.
    assert datetime.fromisoformat(body["months"][0]["start"]) == months[0][1]
    # The current month ends now: at the request, after the seeding (slow on a busy machine).
    end = datetime.fromisoformat(body["months"][-1]["end"])
    assert now <= end + timedelta(seconds=1)
    assert end - now < timedelta(minutes=5)
    # The seeded histories exercise every figure, not just zeros.
    assert all(sum(m[k] for m in want) > 0 for k in ("opened", "resolved", "overdue")), want

    # A past period: the overdue stock is read from the history, as it stood then.
    since = now - timedelta(days=300)
    until = now - timedelta(days=120)
    r = client.get(
        "/api/v1/stats/trend",
        params={"since": since.isoformat(), "until": until.isoformat()},
        headers=h,
    )
    assert r.status_code == 200, r.text
    past = _months(since.astimezone(OSLO).date(), until.astimezone(OSLO).date())
    want = expected(items, past, until, None)
    assert _got(r.json()) == want
    assert sum(m["overdue"] for m in want) > 0

    # One area's items.
    r = client.get("/api/v1/stats/trend", params={"area_id": str(areas[1])}, headers=h)
    assert r.status_code == 200, r.text
    assert _got(r.json()) == expected(items, months, now, areas[1])


def test_another_organization_sees_none_of_it(
    client: SyncClient, world: World, session: Session
) -> None:
    seed_histories(session, world.other_org, utcnow(), n=20)
    body = client.get("/api/v1/stats/trend", headers=world.headers("planner")).json()
    assert all(m["opened"] == m["resolved"] == m["overdue"] == 0 for m in body["months"])


@pytest.mark.parametrize(
    ("params", "field"),
    [
        pytest.param({"since": "2026-01-01T00:00:00"}, "since", id="naive-since"),
        pytest.param({"until": "yesterday"}, "until", id="not-a-time"),
        pytest.param(
            {"since": "2026-03-02T00:00:00Z", "until": "2026-03-01T00:00:00Z"},
            "until",
            id="reversed-period",
        ),
        pytest.param({"since": "2999-01-01T00:00:00Z"}, "since", id="since-after-now"),
        pytest.param(
            {"since": "1990-01-01T00:00:00Z", "until": "2000-01-01T00:00:00Z"},
            "since",
            id="too-many-months",
        ),
        pytest.param({"area_id": "Sentrum"}, "area_id", id="area-not-an-id"),
    ],
)
def test_bad_periods_are_a_422_naming_the_field(
    client: SyncClient, world: World, params: dict[str, str], field: str
) -> None:
    r = client.get("/api/v1/stats/trend", params=params, headers=world.headers("planner"))
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert field in [e["loc"][-1] for e in r.json()["errors"]]


def test_participants_may_not_read_the_trend(client: SyncClient, world: World) -> None:
    r = client.get("/api/v1/stats/trend", headers=world.headers("participant"))
    assert r.status_code == 403
