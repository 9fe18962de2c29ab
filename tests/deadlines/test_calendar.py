"""Working days in Norway, by the calendar of each year: weekends, Easter (which moves),
17 May and Ascension, Christmas and New Year. Pure date arithmetic, no database."""

from __future__ import annotations

from datetime import date

import pytest

from api.deadlines.calendar import (
    add_days,
    add_working_days,
    default_due_date,
    is_working_day,
    public_holidays,
)


@pytest.mark.parametrize(
    ("start", "days", "due"),
    [
        pytest.param(date(2026, 3, 4), 2, date(2026, 3, 6), id="wednesday-plus-two"),
        pytest.param(date(2026, 3, 6), 1, date(2026, 3, 9), id="friday-plus-one-is-monday"),
        pytest.param(date(2026, 3, 7), 1, date(2026, 3, 9), id="from-a-saturday"),
        pytest.param(date(2026, 3, 6), 5, date(2026, 3, 13), id="a-working-week"),
        pytest.param(date(2026, 3, 6), 0, date(2026, 3, 6), id="zero-days-is-the-day"),
        # Easter 2026: Maundy Thursday 2 April, Good Friday 3, Easter Monday 6.
        pytest.param(date(2026, 4, 1), 1, date(2026, 4, 7), id="over-easter-2026"),
        pytest.param(date(2026, 3, 31), 3, date(2026, 4, 8), id="into-and-over-easter"),
        # Easter 2027 falls in March: Maundy Thursday 25, Good Friday 26, Easter Monday 29.
        pytest.param(date(2027, 3, 24), 1, date(2027, 3, 30), id="over-easter-2027"),
        # 2028: 17 May is a Wednesday, Ascension Day 25 May.
        pytest.param(date(2028, 5, 16), 1, date(2028, 5, 18), id="over-17-may"),
        pytest.param(date(2028, 5, 24), 1, date(2028, 5, 26), id="over-ascension"),
        # 2027: Whit Monday and Constitution Day are both 17 May (a Monday).
        pytest.param(date(2027, 5, 14), 1, date(2027, 5, 18), id="whit-monday-on-17-may"),
        # Christmas Eve and New Year's Eve are working days; 25, 26 December and 1 January not.
        pytest.param(date(2026, 12, 23), 3, date(2026, 12, 29), id="over-christmas"),
        pytest.param(date(2026, 12, 30), 2, date(2027, 1, 4), id="across-new-year"),
        pytest.param(date(2027, 12, 24), 1, date(2027, 12, 27), id="christmas-2027-on-a-weekend"),
    ],
)
def test_working_days_skip_weekends_and_norwegian_holidays(
    start: date, days: int, due: date
) -> None:
    assert add_working_days(start, days) == due
    assert add_days(start, days, working_days=True) == due


def test_the_holidays_are_computed_for_every_year() -> None:
    # Not a table typed in for a few years: any year has its Easter.
    assert date(2038, 4, 23) in public_holidays("NO", 2038)  # Good Friday 2038
    assert date(2038, 4, 26) in public_holidays("NO", 2038)  # Easter Monday 2038
    assert date(2038, 5, 17) in public_holidays("NO", 2038)
    assert not is_working_day(date(2038, 4, 26))
    assert is_working_day(date(2038, 4, 27))
    assert is_working_day(date(2026, 12, 24))
    assert not is_working_day(date(2026, 5, 1))  # Labour Day


def test_calendar_days_count_every_day() -> None:
    assert add_days(date(2026, 4, 1), 5, working_days=False) == date(2026, 4, 6)
    assert add_days(date(2026, 12, 30), 3, working_days=False) == date(2027, 1, 2)


def test_another_country_has_its_own_holidays() -> None:
    # 6 June is Sweden's national day, an ordinary Tuesday in Norway in 2023.
    assert add_working_days(date(2023, 6, 5), 1, "SE") == date(2023, 6, 7)
    assert add_working_days(date(2023, 6, 5), 1, "NO") == date(2023, 6, 6)


@pytest.mark.parametrize("working", [True, False])
def test_negative_days_are_refused(working: bool) -> None:
    with pytest.raises(ValueError, match="negative"):
        add_days(date(2026, 1, 5), -1, working_days=working)


@pytest.mark.parametrize(
    ("priority", "days"), [(80, 30), (60, 30), (59.9, 90), (40, 90), (39.9, 180), (0, 180)]
)
def test_the_default_without_a_rule_goes_by_priority(priority: float, days: int) -> None:
    assert (default_due_date(priority, date(2026, 1, 1)) - date(2026, 1, 1)).days == days
