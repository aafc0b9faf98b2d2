"""Business time: UTC instants, the business day in the rulebook's timezone, calendar years.

Every function takes the instant it reasons about; nothing here reads the clock.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from services.loyalty.rules.errors import RefusedByRules


def as_utc(at: datetime, name: str = "at") -> datetime:
    """The same instant in UTC; a naive datetime is refused because its instant is unknown."""
    if at.tzinfo is UTC:
        return at
    if at.tzinfo is None or at.utcoffset() is None:
        raise RefusedByRules(f"{name} must be timezone-aware, got naive {at.isoformat()}")
    return at.astimezone(UTC)


@lru_cache(maxsize=32)
def _zone(timezone_name: str) -> ZoneInfo:
    return ZoneInfo(timezone_name)


def business_day(at: datetime, timezone_name: str) -> date:
    """The calendar day `at` falls on in the business timezone (caps and tasks reset on it)."""
    return as_utc(at).astimezone(_zone(timezone_name)).date()


def add_calendar_years(at: datetime, years: int) -> datetime:
    """`at` moved by whole calendar years; Feb 29 lands on Feb 28 in a common year."""
    try:
        return at.replace(year=at.year + years)
    except ValueError:
        return at.replace(year=at.year + years, day=28)


def subtract_calendar_months(at: datetime, months: int) -> datetime:
    """`at` moved back by whole calendar months, clamping the day to the month's last day."""
    month_index = at.year * 12 + (at.month - 1) - months
    year, month = divmod(month_index, 12)
    month += 1
    day = min(at.day, _days_in_month(year, month))
    return at.replace(year=year, month=month, day=day)


def _days_in_month(year: int, month: int) -> int:
    next_month_start = date(year + month // 12, month % 12 + 1, 1)
    return (next_month_start - date(year, month, 1)).days
