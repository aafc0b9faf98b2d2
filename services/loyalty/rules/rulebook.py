"""The loyalty rulebook: every number of DESIGN §4 "Loyalty" as versioned data.

A `Rulebook` value is immutable. Publishing a new rulebook means storing a new version
(`to_dict` gives plain JSON data, `from_dict` reads it back); every ledger entry records the
version that produced it. Amounts and factors are `Decimal`, never float.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from decimal import Decimal
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from services.loyalty.rules.errors import InvalidRulebook, StaleRulebookVersion

_CENT = Decimal("0.01")


class Tier(StrEnum):
    BRONZE = "bronze"
    SILVER = "silver"
    GOLD = "gold"
    PLATINUM = "platinum"

    @property
    def rank(self) -> int:
        return TIERS_LOWEST_FIRST.index(self)


TIERS_LOWEST_FIRST: tuple[Tier, ...] = (Tier.BRONZE, Tier.SILVER, Tier.GOLD, Tier.PLATINUM)


@dataclass(frozen=True, slots=True)
class Rulebook:
    version: int = 1
    # Days, daily caps and once-a-day tasks follow the calendar where the amounts are (CNY).
    business_timezone: str = "Asia/Shanghai"

    # Earning on orders
    points_per_yuan: int = 1
    large_order_min_amount: Decimal = Decimal("1000")
    large_order_multiplier: Decimal = Decimal("2")
    first_order_multiplier: Decimal = Decimal("2")
    birthday_month_multiplier: Decimal = Decimal("2")
    stack_multipliers: bool = False
    silver_bonus: Decimal = Decimal("1.1")
    gold_bonus: Decimal = Decimal("1.25")
    platinum_bonus: Decimal = Decimal("1.5")

    # Tasks and referral
    check_in_points: int = 10
    share_points: int = 100
    review_points: int = 50
    review_once_per_day: bool = True
    referrer_points: int = 200
    referee_points: int = 300

    # Cap, redemption, expiry
    daily_earn_cap: int = 5000
    points_per_coupon_yuan: int = 100
    lot_lifetime_years: int = 3
    expiring_soon_days: int = 30

    # Tiers on net spend (yuan) over a trailing window
    silver_min_spend: Decimal = Decimal("2000")
    gold_min_spend: Decimal = Decimal("10000")
    platinum_min_spend: Decimal = Decimal("30000")
    tier_window_months: int = 12

    def __post_init__(self) -> None:
        for field in fields(self):
            _check_type(field.name, getattr(self, field.name), type(field.default))
        self._check_values()

    def tier_bonus(self, tier: Tier) -> Decimal:
        return {
            Tier.BRONZE: Decimal(1),
            Tier.SILVER: self.silver_bonus,
            Tier.GOLD: self.gold_bonus,
            Tier.PLATINUM: self.platinum_bonus,
        }[tier]

    def tier_min_spend(self, tier: Tier) -> Decimal:
        return {
            Tier.BRONZE: Decimal(0),
            Tier.SILVER: self.silver_min_spend,
            Tier.GOLD: self.gold_min_spend,
            Tier.PLATINUM: self.platinum_min_spend,
        }[tier]

    def coupon_value(self, points: int) -> Decimal:
        """Yuan of coupon `points` buy, to the cent."""
        return (Decimal(points) / Decimal(self.points_per_coupon_yuan)).quantize(_CENT)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data: Decimals become strings so no value passes through float."""
        return {
            name: str(value) if isinstance(value, Decimal) else value
            for name, value in asdict(self).items()
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Rulebook:
        """A rulebook from stored data; missing fields take their defaults, unknown ones are
        refused."""
        known = {field.name: type(field.default) for field in fields(cls)}
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise InvalidRulebook(f"unknown rule fields: {', '.join(unknown)}")
        parsed = {name: _parse(name, value, known[name]) for name, value in data.items()}
        return cls(**parsed)

    def _check_values(self) -> None:
        if self.version < 1:
            raise InvalidRulebook("version must be at least 1")
        try:
            ZoneInfo(self.business_timezone)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise InvalidRulebook(
                f"unknown business_timezone {self.business_timezone!r}"
            ) from error
        factors = (
            "large_order_multiplier",
            "first_order_multiplier",
            "birthday_month_multiplier",
            "silver_bonus",
            "gold_bonus",
            "platinum_bonus",
        )
        for name in factors:
            if not getattr(self, name) >= 1:
                raise InvalidRulebook(f"{name} must be a finite factor of at least 1")
        non_negative = (
            "points_per_yuan",
            "check_in_points",
            "share_points",
            "review_points",
            "referrer_points",
            "referee_points",
            "daily_earn_cap",
            "expiring_soon_days",
        )
        for name in non_negative:
            if getattr(self, name) < 0:
                raise InvalidRulebook(f"{name} must not be negative")
        for name in ("points_per_coupon_yuan", "lot_lifetime_years", "tier_window_months"):
            if getattr(self, name) < 1:
                raise InvalidRulebook(f"{name} must be at least 1")
        if not self.large_order_min_amount.is_finite() or self.large_order_min_amount < 0:
            raise InvalidRulebook("large_order_min_amount must be a finite, non-negative amount")
        spends = (self.silver_min_spend, self.gold_min_spend, self.platinum_min_spend)
        if not all(spend.is_finite() for spend in spends) or not (
            0 < spends[0] < spends[1] < spends[2]
        ):
            raise InvalidRulebook("tier spends must rise: 0 < silver < gold < platinum")


def _check_type(name: str, value: object, expected: type) -> None:
    # bool is an int subclass, and a float must never slip in where a Decimal belongs.
    ok = type(value) is expected or (expected is Decimal and isinstance(value, Decimal))
    if not ok:
        raise InvalidRulebook(f"{name} must be {expected.__name__}, got {type(value).__name__}")
    if isinstance(value, Decimal) and not value.is_finite():
        raise InvalidRulebook(f"{name} must be a finite number")


def _parse(name: str, value: Any, expected: type) -> Any:
    if expected is Decimal and isinstance(value, str | int) and not isinstance(value, bool):
        try:
            return Decimal(value)
        except ArithmeticError as error:
            raise InvalidRulebook(f"{name} is not a decimal number: {value!r}") from error
    return value


DEFAULT_RULEBOOK = Rulebook()


def next_rulebook(in_force: dict[str, Any], changes: dict[str, Any]) -> Rulebook:
    """The rulebook in force (as stored) with `changes` applied, as the next version.

    `changes` may name `version`: it must then be the next one, so two admins editing the
    same version cannot silently overwrite each other. Raises InvalidRulebook for a document
    the rulebook refuses, StaleRulebookVersion for a version that is not the next.
    """
    next_version = int(in_force["version"]) + 1
    asked = changes.get("version", next_version)
    if asked != next_version:
        raise StaleRulebookVersion(next_version, asked)
    return Rulebook.from_dict({**in_force, **changes, "version": next_version})
