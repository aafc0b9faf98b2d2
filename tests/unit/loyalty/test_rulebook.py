import json
from decimal import Decimal

import pytest

from services.loyalty.domain import DEFAULT_RULES, InvalidRules, LoyaltyRules, Tier


def test_defaults_are_the_numbers_of_the_design():
    rules = DEFAULT_RULES
    assert rules.version == 1
    assert rules.business_timezone == "Asia/Shanghai"
    assert rules.points_per_yuan == 1
    assert rules.large_order_min_amount == Decimal("1000")
    assert (
        rules.large_order_multiplier,
        rules.first_order_multiplier,
        rules.birthday_month_multiplier,
    ) == (Decimal(2), Decimal(2), Decimal(2))
    assert rules.stack_multipliers is False
    assert [rules.tier_bonus(tier) for tier in Tier] == [
        Decimal(1),
        Decimal("1.1"),
        Decimal("1.25"),
        Decimal("1.5"),
    ]
    assert (rules.check_in_points, rules.share_points, rules.review_points) == (10, 100, 50)
    assert (rules.referrer_points, rules.referee_points) == (200, 300)
    assert rules.daily_earn_cap == 5000
    assert rules.points_per_coupon_yuan == 100
    assert rules.lot_lifetime_years == 3
    assert rules.expiring_soon_days == 30
    assert [rules.tier_min_spend(tier) for tier in Tier] == [0, 2000, 10000, 30000]
    assert rules.tier_window_months == 12


def test_rules_survive_a_round_trip_through_json():
    rules = LoyaltyRules(version=7, gold_bonus=Decimal("1.3"), stack_multipliers=True)

    stored = json.loads(json.dumps(rules.to_dict()))

    assert stored["gold_bonus"] == "1.3"
    assert LoyaltyRules.from_dict(stored) == rules


def test_missing_fields_take_their_defaults():
    rules = LoyaltyRules.from_dict({"version": 2, "daily_earn_cap": 8000})

    assert rules.version == 2
    assert rules.daily_earn_cap == 8000
    assert rules.gold_bonus == Decimal("1.25")


@pytest.mark.parametrize(
    "data",
    [
        {"version": 2, "golden_bonus": "1.3"},
        {"gold_bonus": 1.25},
        {"version": "2"},
        {"stack_multipliers": 1},
        {"daily_earn_cap": True},
        {"gold_bonus": "one and a quarter"},
        {"gold_bonus": "NaN"},
    ],
    ids=["unknown", "float", "str-for-int", "int-for-bool", "bool-for-int", "junk", "nan"],
)
def test_malformed_rules_are_refused(data):
    with pytest.raises(InvalidRules):
        LoyaltyRules.from_dict(data)


@pytest.mark.parametrize(
    "changes",
    [
        {"version": 0},
        {"business_timezone": "Mars/Olympus_Mons"},
        {"gold_bonus": Decimal("0.9")},
        {"daily_earn_cap": -1},
        {"points_per_coupon_yuan": 0},
        {"gold_min_spend": Decimal("1000")},
        {"silver_min_spend": Decimal("0")},
    ],
)
def test_rules_that_make_no_sense_are_refused(changes):
    with pytest.raises(InvalidRules):
        LoyaltyRules(**changes)


def test_a_float_is_never_accepted_where_a_decimal_belongs():
    with pytest.raises(InvalidRules):
        LoyaltyRules(silver_bonus=1.1)  # type: ignore[arg-type]


def test_rules_are_immutable():
    with pytest.raises(AttributeError):
        DEFAULT_RULES.daily_earn_cap = 1  # type: ignore[misc]
