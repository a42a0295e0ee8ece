"""Deadlines in calendar and working days, with Indonesian public holidays (``holidays``, ID)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

import holidays

from cegah.wbs.models import Policy


@lru_cache(maxsize=32)
def _holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("ID", years=year).keys())


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _holidays(day.year)


def add_working_days(start: date, days: int) -> date:
    """Return the date ``days`` working days after ``start`` (the start day itself not counted)."""
    current = start
    remaining = days
    while remaining > 0:
        current += timedelta(days=1)
        if is_working_day(current):
            remaining -= 1
    return current


def working_days_between(start: date, end: date) -> int:
    """Return how many working days fall after ``start`` up to and including ``end`` (0 if
    ``end`` is not after ``start``): the count add_working_days(start, n) == end inverts."""
    count = 0
    current = start
    while current < end:
        current += timedelta(days=1)
        if is_working_day(current):
            count += 1
    return count


@dataclass(frozen=True)
class Deadlines:
    examine: date | None = None
    answer: date | None = None
    ack: date | None = None
    feedback: date | None = None


def deadlines_for(profile: str, received: date) -> Deadlines:
    """Return the deadlines of a report received on ``received`` under a policy profile.

    - PP 43/2018: examination within 30 days; answer to the reporter within 30 working days.
    - EU Directive 2019/1937 (added to PP 43): acknowledgement within 7 days, feedback within 3 months.
    - LAPOR!-SP4N (Perpres 76/2013): verification in 3 working days, the agency's response in 5
      working days, resolution within 60 days.
    """
    if profile == Policy.Profile.LAPOR:
        return Deadlines(
            ack=add_working_days(received, 3),
            answer=add_working_days(received, 5),
            examine=received + timedelta(days=60),
        )
    pp43 = Deadlines(examine=received + timedelta(days=30), answer=add_working_days(received, 30))
    if profile == Policy.Profile.EU:
        return Deadlines(
            examine=pp43.examine,
            answer=pp43.answer,
            ack=received + timedelta(days=7),
            feedback=received + timedelta(days=91),
        )
    return pp43
