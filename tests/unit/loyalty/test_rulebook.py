import json
from decimal import Decimal

import pytest

from services.loyalty.rules.errors import InvalidRulebook
from services.loyalty.rules.rulebook import DEFAULT_RULEBOOK, Rulebook, Tier


def test_defaults_are_the_numbers_of_the_design():
    rulebook = DEFAULT_RULEBOOK
    assert rulebook.version == 1
    assert rulebook.business_timezone == "Asia/Shanghai"
    assert rulebook.points_per_yuan == 1
    assert rulebook.large_order_min_amount == Decimal("1000")
    assert (
        rulebook.large_order_multiplier,
        rulebook.first_order_multiplier,
        rulebook.birthday_month_multiplier,
    ) == (Decimal(2), Decimal(2), Decimal(2))
    assert rulebook.stack_multipliers is False
    assert [rulebook.tier_bonus(tier) for tier in Tier] == [
        Decimal(1),
        Decimal("1.1"),
        Decimal("1.25"),
        Decimal("1.5"),
    ]
    assert (rulebook.check_in_points, rulebook.share_points, rulebook.review_points) == (
        10,
        100,
        50,
    )
    assert (rulebook.referrer_points, rulebook.referee_points) == (200, 300)
    assert rulebook.daily_earn_cap == 5000
    assert rulebook.points_per_coupon_yuan == 100
    assert rulebook.lot_lifetime_years == 3
    assert rulebook.expiring_soon_days == 30
    assert [rulebook.tier_min_spend(tier) for tier in Tier] == [0, 2000, 10000, 30000]
    assert rulebook.tier_window_months == 12


def test_rules_survive_a_round_trip_through_json():
    rulebook = Rulebook(version=7, gold_bonus=Decimal("1.3"), stack_multipliers=True)

    stored = json.loads(json.dumps(rulebook.to_dict()))

    assert stored["gold_bonus"] == "1.3"
    assert Rulebook.from_dict(stored) == rulebook


def test_missing_fields_take_their_defaults():
    rulebook = Rulebook.from_dict({"version": 2, "daily_earn_cap": 8000})

    assert rulebook.version == 2
    assert rulebook.daily_earn_cap == 8000
    assert rulebook.gold_bonus == Decimal("1.25")


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
    with pytest.raises(InvalidRulebook):
        Rulebook.from_dict(data)


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
    with pytest.raises(InvalidRulebook):
        Rulebook(**changes)


def test_a_float_is_never_accepted_where_a_decimal_belongs():
    with pytest.raises(InvalidRulebook):
        Rulebook(silver_bonus=1.1)  # type: ignore[arg-type]


def test_rules_are_immutable():
    with pytest.raises(AttributeError):
        DEFAULT_RULEBOOK.daily_earn_cap = 1  # type: ignore[misc]
