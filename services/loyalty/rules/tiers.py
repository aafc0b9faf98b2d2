"""Tiers on net spend over a trailing window: upgrade at once, downgrade one step a month.

An account counts its net spend by business month (`SpendByMonth`, kept per customer and month
and updated in place), and its tier window is the `tier_window_months` business months ending
with the current one: the tier never needs more than that many sums, whatever the history.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from functools import lru_cache

from services.loyalty.rules.business_time import as_utc, business_day, subtract_calendar_months
from services.loyalty.rules.rulebook import TIERS_LOWEST_FIRST, Rulebook, Tier


class TierChangeReason(StrEnum):
    SPEND_REACHED = "spend_reached"
    MONTHLY_REVIEW = "monthly_review"


@dataclass(frozen=True, slots=True)
class Spend:
    """Net spend of one order (amount less refunds), counted at the order's business time."""

    at: datetime
    net_amount: Decimal


@dataclass(frozen=True, slots=True)
class TierChange:
    old_tier: Tier
    new_tier: Tier
    reason: TierChangeReason
    net_spend: Decimal
    changed_at: datetime
    rule_version: int


@dataclass(frozen=True, slots=True)
class TierProgress:
    """How far the customer is from the next tier; next_tier is None at the top."""

    net_spend: Decimal
    next_tier: Tier | None
    spend_to_next_tier: Decimal


SpendByMonth = Mapping[date, Decimal]
"""Net spend (yuan) by the first day of the business month it was placed in."""

_CENT = Decimal("0.01")


def tier_window_months(now: datetime, rulebook: Rulebook) -> tuple[date, ...]:
    """The business months of the tier window at `now`: the current one and the
    `tier_window_months - 1` before it, oldest first."""
    return _months_ending(business_month_start(now, rulebook), rulebook.tier_window_months)


def net_spend_by_month(spend: SpendByMonth, now: datetime, rulebook: Rulebook) -> Decimal:
    """Net spend of the tier window at `now`, to the fen: the sum of its months' spend."""
    months = tier_window_months(now, rulebook)
    total = sum((spend[month] for month in months if month in spend), Decimal(0))
    return total.quantize(_CENT)


@lru_cache(maxsize=64)
def _months_ending(month: date, count: int) -> tuple[date, ...]:
    index = month.year * 12 + month.month - 1
    firsts = (divmod(index - back, 12) for back in range(count - 1, -1, -1))
    return tuple(date(year, month_index + 1, 1) for year, month_index in firsts)


def net_spend_in_window(spends: Iterable[Spend], now: datetime, rulebook: Rulebook) -> Decimal:
    """Net spend of individual spends in the `tier_window_months` calendar months up to and
    including the instant `now` (accounts count by business month: `net_spend_by_month`)."""
    now = as_utc(now, "now")
    window_start = subtract_calendar_months(now, rulebook.tier_window_months)
    in_window = (spend.net_amount for spend in spends if window_start < spend.at <= now)
    return sum(in_window, Decimal(0))


def tier_for_net_spend(net_spend: Decimal, rulebook: Rulebook) -> Tier:
    earned = Tier.BRONZE
    for tier in TIERS_LOWEST_FIRST:
        if net_spend >= rulebook.tier_min_spend(tier):
            earned = tier
    return earned


def tier_after_spend(
    current: Tier, net_spend: Decimal, at: datetime, rulebook: Rulebook
) -> TierChange | None:
    """An upgrade as soon as spend reaches a higher tier; spend alone never downgrades."""
    target = tier_for_net_spend(net_spend, rulebook)
    if target.rank <= current.rank:
        return None
    return TierChange(
        current, target, TierChangeReason.SPEND_REACHED, net_spend, as_utc(at), rulebook.version
    )


def tier_at_monthly_review(
    current: Tier, net_spend: Decimal, at: datetime, rulebook: Rulebook
) -> TierChange | None:
    """At the monthly review: up to the earned tier, or down exactly one tier if below it."""
    target = tier_for_net_spend(net_spend, rulebook)
    if target == current:
        return None
    if target.rank < current.rank:
        target = TIERS_LOWEST_FIRST[current.rank - 1]
    return TierChange(
        current, target, TierChangeReason.MONTHLY_REVIEW, net_spend, as_utc(at), rulebook.version
    )


def business_month_start(at: datetime, rulebook: Rulebook) -> date:
    """First day of the business month `at` falls in: the monthly review reviews each account
    once per business month (a new account counts as reviewed in the month it opens)."""
    return business_day(at, rulebook.business_timezone).replace(day=1)


def due_for_review(reviewed_month: date, at: datetime, rulebook: Rulebook) -> bool:
    """Whether an account last reviewed in `reviewed_month` is due for the review at `at`."""
    return reviewed_month < business_month_start(at, rulebook)


def tier_progress(net_spend: Decimal, rulebook: Rulebook) -> TierProgress:
    """Progress toward the tier above the one the spend has earned."""
    earned = tier_for_net_spend(net_spend, rulebook)
    if earned.rank == len(TIERS_LOWEST_FIRST) - 1:
        return TierProgress(net_spend, None, Decimal(0))
    next_tier = TIERS_LOWEST_FIRST[earned.rank + 1]
    return TierProgress(net_spend, next_tier, rulebook.tier_min_spend(next_tier) - net_spend)
