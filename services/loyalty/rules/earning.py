"""Points an order earns: whole yuan, times a multiplier, times a tier bonus, floored at the end."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_FLOOR, Decimal
from enum import StrEnum

from services.loyalty.rules.business_time import business_day
from services.loyalty.rules.errors import RefusedByRules
from services.loyalty.rules.rulebook import Rulebook, Tier


class Multiplier(StrEnum):
    LARGE_ORDER = "large_order"
    FIRST_ORDER = "first_order"
    BIRTHDAY_MONTH = "birthday_month"


@dataclass(frozen=True, slots=True)
class QualifyingMultiplier:
    name: Multiplier
    factor: Decimal


@dataclass(frozen=True, slots=True)
class OrderEarning:
    """How an order's points came about, step by step, so every point can be explained."""

    amount: Decimal
    base_points: int
    qualifying_multipliers: tuple[QualifyingMultiplier, ...]
    multipliers_stacked: bool
    multiplier: Decimal
    tier: Tier
    tier_bonus: Decimal
    points: int
    rule_version: int

    def explanation(self) -> str:
        qualifying = ", ".join(f"{m.name} x{m.factor}" for m in self.qualifying_multipliers)
        how = "stacked" if self.multipliers_stacked else "largest applies"
        multipliers = f"[{qualifying}; {how}]" if qualifying else "[none]"
        return (
            f"{self.amount} yuan -> {self.base_points} base points x{self.multiplier} "
            f"{multipliers} x{self.tier_bonus} ({self.tier}) = {self.points} points "
            f"(rules v{self.rule_version})"
        )


def earn_points_for_order(
    *,
    amount: Decimal,
    placed_at: datetime,
    is_first_order: bool,
    birthday: date | None,
    tier: Tier,
    rulebook: Rulebook,
) -> OrderEarning:
    """Points for an order of `amount` yuan placed at `placed_at` by a customer in `tier`.

    `tier` is the tier in force before this order; an upgrade the order causes counts from
    the next one. The birthday month is judged on the business day of `placed_at`.
    """
    require_amount(amount, "amount")
    base_points = int(amount.to_integral_value(rounding=ROUND_FLOOR)) * rulebook.points_per_yuan
    qualifying = _qualifying_multipliers(amount, placed_at, is_first_order, birthday, rulebook)
    multiplier = _combined(qualifying, rulebook.stack_multipliers)
    tier_bonus = rulebook.tier_bonus(tier)
    exact_points = Decimal(base_points) * multiplier * tier_bonus
    return OrderEarning(
        amount=amount,
        base_points=base_points,
        qualifying_multipliers=qualifying,
        multipliers_stacked=rulebook.stack_multipliers,
        multiplier=multiplier,
        tier=tier,
        tier_bonus=tier_bonus,
        points=int(exact_points.to_integral_value(rounding=ROUND_FLOOR)),
        rule_version=rulebook.version,
    )


def require_amount(amount: Decimal, name: str) -> None:
    """Refuse anything but a finite, non-negative Decimal (a float would have lost cents)."""
    if not isinstance(amount, Decimal) or not amount.is_finite() or amount < 0:
        raise RefusedByRules(f"{name} must be a finite, non-negative Decimal, got {amount!r}")


def _qualifying_multipliers(
    amount: Decimal,
    placed_at: datetime,
    is_first_order: bool,
    birthday: date | None,
    rulebook: Rulebook,
) -> tuple[QualifyingMultiplier, ...]:
    qualifying: list[QualifyingMultiplier] = []
    if amount >= rulebook.large_order_min_amount:
        qualifying.append(
            QualifyingMultiplier(Multiplier.LARGE_ORDER, rulebook.large_order_multiplier)
        )
    if is_first_order:
        qualifying.append(
            QualifyingMultiplier(Multiplier.FIRST_ORDER, rulebook.first_order_multiplier)
        )
    if birthday is not None and business_day(placed_at, rulebook.business_timezone).month == (
        birthday.month
    ):
        qualifying.append(
            QualifyingMultiplier(Multiplier.BIRTHDAY_MONTH, rulebook.birthday_month_multiplier)
        )
    return tuple(qualifying)


def _combined(qualifying: tuple[QualifyingMultiplier, ...], stack: bool) -> Decimal:
    factors = [m.factor for m in qualifying]
    if not factors:
        return Decimal(1)
    if not stack:
        return max(factors)
    product = Decimal(1)
    for factor in factors:
        product *= factor
    return product
