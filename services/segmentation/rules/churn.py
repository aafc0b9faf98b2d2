"""Churn risk: a high-value customer whose monthly spend falls several months in a row.

Months are calendar months in the business timezone; only complete months count (the month in
progress would always look like a fall). Each order's net spend (after refunds) belongs to the
month it was placed in. A streak is named by the month spending peaked in, so a streak that
keeps falling raises one alert, and a new alert needs a new streak. Pure: no I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from zoneinfo import ZoneInfo

from services.segmentation.rules.facts import ZERO, OrderFact

CHURN_REASON = "monthly_spend_falling"


@dataclass(frozen=True)
class ChurnPolicy:
    min_monetary: Decimal = Decimal("500")
    falling_months: int = 3
    timezone: str = "Asia/Shanghai"

    def __post_init__(self) -> None:
        if self.falling_months < 1:
            raise ValueError("falling_months must be at least 1")
        if self.min_monetary < 0:
            raise ValueError("min_monetary must not be negative")
        _zone(self.timezone)


@dataclass(frozen=True)
class FallingStreak:
    """Consecutive complete months, each with less net spend than the one before."""

    months: tuple[date, ...]
    spend: tuple[Decimal, ...]

    @property
    def peak_month(self) -> date:
        return self.months[0]

    @property
    def falls(self) -> int:
        return len(self.months) - 1


@lru_cache(maxsize=16)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def month_of(at: datetime, timezone: str) -> date:
    local = at.astimezone(_zone(timezone))
    return date(local.year, local.month, 1)


def _next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def _previous_month(month: date) -> date:
    return date(month.year - (month.month == 1), (month.month - 2) % 12 + 1, 1)


def monthly_spend(
    orders: Iterable[OrderFact], now: datetime, timezone: str
) -> list[tuple[date, Decimal]]:
    """Net spend per complete month, from the first order's month to last month, gaps as 0."""
    last_complete = _previous_month(month_of(now, timezone))
    totals: dict[date, Decimal] = {}
    for order in orders:
        month = month_of(order.placed_at, timezone)
        if order.placed_at <= now and month <= last_complete:
            totals[month] = totals.get(month, ZERO) + order.net
    if not totals:
        return []
    series = []
    month = min(totals)
    while month <= last_complete:
        series.append((month, totals.get(month, ZERO)))
        month = _next_month(month)
    return series


def falling_streak(orders: Iterable[OrderFact], now: datetime, timezone: str) -> FallingStreak:
    """The run of falling months that ends with last month (no falls: just last month)."""
    series = monthly_spend(orders, now, timezone)
    start = len(series) - 1
    while start > 0 and series[start - 1][1] > series[start][1]:
        start -= 1
    run = series[max(start, 0) :]
    return FallingStreak(tuple(m for m, _ in run), tuple(s for _, s in run))


def churn_risk(
    orders: Iterable[OrderFact],
    *,
    monetary: Decimal,
    now: datetime,
    alerted_peak: date | None,
    policy: ChurnPolicy,
) -> FallingStreak | None:
    """The streak to raise churn_risk.detected for, or None (not high value, no streak, or the
    streak was already raised)."""
    if monetary < policy.min_monetary:
        return None
    streak = falling_streak(orders, now, policy.timezone)
    if streak.falls < policy.falling_months or streak.peak_month == alerted_peak:
        return None
    return streak
