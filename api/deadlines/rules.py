"""Which response-time rule an item falls under, and the due date it gives.

A rule matches an item when each field it sets equals the item's (``category``,
``department``) or lies at or below it (``priority_min`` against the item's priority: the
manual override, else the computed score). Of the matching rules the most specific wins:

1. a rule naming the category beats every rule that does not;
2. then a rule naming the department beats one that does not;
3. then the rule with the higher ``priority_min`` (a rule with one beats a rule without).

Two rules alike in all three are refused when the list is written, so the winner is always
one rule. No rule matching: the built-in default by priority (``calendar.default_due_date``).

The due date counts from the day the item was created, in the organization's time zone; working
days skip weekends and the public holidays of the organization's country (``calendar``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from api.deadlines.calendar import DEFAULT_COUNTRY, add_days, default_due_date
from models import Organization, ResponseTimeRule


@dataclass(frozen=True)
class Rule:
    category_id: uuid.UUID | None
    department: str | None
    priority_min: float | None
    days: int
    working_days: bool

    def matches(self, category_id: uuid.UUID, department: str | None, priority: float) -> bool:
        return (
            (self.category_id is None or self.category_id == category_id)
            and (self.department is None or self.department == department)
            and (self.priority_min is None or priority >= self.priority_min)
        )

    @property
    def specificity(self) -> tuple[bool, bool, float]:
        """Larger is more specific (the order in the module docstring)."""
        return (
            self.category_id is not None,
            self.department is not None,
            -1.0 if self.priority_min is None else self.priority_min,
        )


@dataclass(frozen=True)
class ResponseTimes:
    """One organization's rules, with what its due dates are counted in."""

    rules: tuple[Rule, ...] = ()
    timezone: str = "Europe/Oslo"
    country: str = DEFAULT_COUNTRY

    def rule_for(
        self, category_id: uuid.UUID, department: str | None, priority: float
    ) -> Rule | None:
        best: Rule | None = None
        for rule in self.rules:
            if rule.matches(category_id, department, priority) and (
                best is None or rule.specificity > best.specificity
            ):
                best = rule
        return best

    def start_of(self, created_at: datetime) -> date:
        """The organization's calendar day of a moment: the day the clock starts."""
        return created_at.astimezone(ZoneInfo(self.timezone)).date()

    def due_date(
        self,
        category_id: uuid.UUID,
        department: str | None,
        priority: float,
        created_at: datetime,
    ) -> date:
        start = self.start_of(created_at)
        rule = self.rule_for(category_id, department, priority)
        if rule is None:
            return default_due_date(priority, start)
        return add_days(start, rule.days, working_days=rule.working_days, country=self.country)


def load(session: Session, org_id: uuid.UUID) -> ResponseTimes:
    """The organization's rules as they are now."""
    org = session.get(Organization, org_id)
    rows = session.scalars(
        select(ResponseTimeRule)
        .where(col(ResponseTimeRule.organization_id) == org_id)
        .order_by(col(ResponseTimeRule.position))
    )
    return ResponseTimes(
        rules=tuple(
            Rule(r.category_id, r.department, r.priority_min, r.days, r.working_days) for r in rows
        ),
        timezone=org.timezone if org is not None else "Europe/Oslo",
    )
