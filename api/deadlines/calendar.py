"""Due dates as pure date arithmetic: calendar days, or working days that skip weekends and
the public holidays of a country. No database, no FastAPI.

Holidays come from the ``holidays`` package, computed per year (Easter and the feasts that
follow it move every year; 17 May and Christmas do not), never from a hand-written table. In
Norway Christmas Eve and New Year's Eve are ordinary working days in law, and so they are here.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

# The service's home, and the country of every organization until organizations carry one.
DEFAULT_COUNTRY = "NO"
SATURDAY = 5


@lru_cache(maxsize=64)
def public_holidays(country: str, year: int) -> frozenset[date]:
    """The public holidays of ``country`` (ISO 3166-1 alpha-2) in ``year``."""
    import holidays  # 4 MB of country tables, first needed when a due date is computed

    return frozenset(holidays.country_holidays(country, years=year))


def is_working_day(day: date, country: str = DEFAULT_COUNTRY) -> bool:
    return day.weekday() < SATURDAY and day not in public_holidays(country, day.year)


# Applying the rules to every open item asks the same few (day, days) pairs again and again.
@lru_cache(maxsize=4096)
def add_working_days(start: date, days: int, country: str = DEFAULT_COUNTRY) -> date:
    """The ``days``-th working day after ``start`` (``start`` itself is not counted, whatever
    day it is); 0 days is ``start``. An item reported on a Friday with one working day is due
    on Monday, or on Tuesday when Monday is a holiday."""
    if days < 0:
        raise ValueError("days must not be negative")
    day = start
    left = days
    while left:
        day += timedelta(days=1)
        if is_working_day(day, country):
            left -= 1
    return day


def add_days(start: date, days: int, *, working_days: bool, country: str = DEFAULT_COUNTRY) -> date:
    """``days`` calendar days after ``start``, or ``days`` working days after it."""
    if working_days:
        return add_working_days(start, days, country)
    if days < 0:
        raise ValueError("days must not be negative")
    return start + timedelta(days=days)


def default_due_date(priority: float, start: date) -> date:
    """When no response-time rule applies: high priority within a month, medium within three,
    the rest within six (Kungsbacka's aim), in calendar days."""
    if priority >= 60:
        return start + timedelta(days=30)
    if priority >= 40:
        return start + timedelta(days=90)
    return start + timedelta(days=180)
