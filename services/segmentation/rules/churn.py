"""Churn risk: a high-value customer whose monthly spend falls several months in a row.

Months are calendar months in the business timezone; only complete months count (the month in
progress would always look like a fall). Each order's net spend (after refunds) belongs to the
month it was placed in. A streak is named by the month spending peaked in, so a streak that
keeps falling raises one alert, and a new alert needs a new streak. The rule reads the monthly
figures (``CustomerFigures.monthly_net``), never the orders. Pure: no I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from services.segmentation.rules.figures import month_of, months_before
from shared.money import to_yuan

CHURN_REASON = "monthly_spend_falling"


@dataclass(frozen=True)
class ChurnPolicy:
    min_monetary: Decimal = Decimal("500")
    falling_months: int = 3
    timezone: str = "Asia/Shanghai"
    months_kept: int = 24
    """How many months before the current one keep their spend: a streak is looked for
    within them."""

    def __post_init__(self) -> None:
        if self.falling_months < 1:
            raise ValueError("falling_months must be at least 1")
        if self.min_monetary < 0:
            raise ValueError("min_monetary must not be negative")
        if self.months_kept <= self.falling_months:
            raise ValueError("months_kept must exceed falling_months")
        ZoneInfo(self.timezone)


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


def next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def monthly_spend(
    monthly_net: Iterable[tuple[date, int]], now: datetime, timezone: str
) -> list[tuple[date, Decimal]]:
    """Net spend per complete month, from the first month with spend to last month, gaps as 0."""
    return [(month, to_yuan(fen)) for month, fen in _monthly_fen(monthly_net, now, timezone)]


def falling_streak(
    monthly_net: Iterable[tuple[date, int]], now: datetime, timezone: str
) -> FallingStreak:
    """The run of falling months that ends with last month (no falls: just last month)."""
    series = _monthly_fen(monthly_net, now, timezone)
    start = len(series) - 1
    while start > 0 and series[start - 1][1] > series[start][1]:
        start -= 1
    run = series[max(start, 0) :]
    return FallingStreak(tuple(m for m, _ in run), tuple(to_yuan(fen) for _, fen in run))


def _monthly_fen(
    monthly_net: Iterable[tuple[date, int]], now: datetime, timezone: str
) -> list[tuple[date, int]]:
    last_complete = months_before(month_of(now, timezone), 1)
    totals = {month: fen for month, fen in monthly_net if month <= last_complete}
    if not totals:
        return []
    series = []
    month = min(totals)
    while month <= last_complete:
        series.append((month, totals.get(month, 0)))
        month = next_month(month)
    return series


def churn_risk(
    monthly_net: Iterable[tuple[date, int]],
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
    streak = falling_streak(monthly_net, now, policy.timezone)
    if streak.falls < policy.falling_months or _already_raised(streak, now, alerted_peak, policy):
        return None
    return streak


def _already_raised(
    streak: FallingStreak, now: datetime, alerted_peak: date | None, policy: ChurnPolicy
) -> bool:
    """The streak raised before; a streak that reaches back to the oldest month kept is the
    one raised with an even older peak (its start is no longer known)."""
    if alerted_peak is None:
        return False
    oldest_kept = months_before(month_of(now, policy.timezone), policy.months_kept)
    return streak.peak_month == alerted_peak or (
        streak.peak_month <= oldest_kept and alerted_peak < streak.peak_month
    )
