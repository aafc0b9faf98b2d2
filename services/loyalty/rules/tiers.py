"""Tiers on net spend over a trailing window: upgrade at once, downgrade one step a month."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

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


def net_spend_in_window(spends: Iterable[Spend], now: datetime, rulebook: Rulebook) -> Decimal:
    """Net spend in the `tier_window_months` calendar months up to and including `now`."""
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
