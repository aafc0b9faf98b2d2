from datetime import date
from decimal import Decimal

import pytest

from services.loyalty.rules.earning import Multiplier, earn_points_for_order
from services.loyalty.rules.errors import RefusedByRules
from services.loyalty.rules.rulebook import DEFAULT_RULEBOOK, Rulebook, Tier
from tests.unit.loyalty.factories import utc

MAY_DAY = utc(2024, 5, 1, 4)


def earn(
    amount: str,
    *,
    first: bool = False,
    birthday: date | None = None,
    tier: Tier = Tier.BRONZE,
    rulebook: Rulebook = DEFAULT_RULEBOOK,
    placed_at=MAY_DAY,
):
    return earn_points_for_order(
        amount=Decimal(amount),
        placed_at=placed_at,
        is_first_order=first,
        birthday=birthday,
        tier=tier,
        rulebook=rulebook,
    )


def test_one_point_per_whole_yuan():
    assert earn("250.00").points == 250


@pytest.mark.parametrize(("amount", "points"), [("999.99", 999), ("0.99", 0), ("0", 0)])
def test_partial_yuan_are_dropped(amount, points):
    assert earn(amount).points == points


@pytest.mark.parametrize(("amount", "points"), [("1000.00", 2000), ("999.99", 999)])
def test_orders_of_1000_yuan_or_more_earn_double(amount, points):
    assert earn(amount).points == points


def test_the_first_order_earns_double():
    earning = earn("300", first=True)

    assert earning.points == 600
    assert [m.name for m in earning.qualifying_multipliers] == [Multiplier.FIRST_ORDER]


def test_an_order_in_the_birthday_month_earns_double():
    assert earn("300", birthday=date(1990, 5, 17)).points == 600
    assert earn("300", birthday=date(1990, 6, 1)).points == 300


def test_the_birthday_month_is_judged_in_the_business_timezone():
    # 30 April 17:00 UTC is already 1 May in Shanghai.
    placed_at = utc(2024, 4, 30, 17)

    assert earn("300", birthday=date(1990, 5, 2), placed_at=placed_at).points == 600
    assert earn("300", birthday=date(1990, 4, 2), placed_at=placed_at).points == 300


def test_without_stacking_only_the_largest_multiplier_applies():
    rulebook = Rulebook(first_order_multiplier=Decimal("3"))

    earning = earn("1000", first=True, birthday=date(2000, 5, 1), rulebook=rulebook)

    assert len(earning.qualifying_multipliers) == 3
    assert earning.multiplier == 3
    assert earning.points == 3000


def test_with_stacking_the_multipliers_multiply():
    rulebook = Rulebook(stack_multipliers=True)

    earning = earn("1000", first=True, birthday=date(2000, 5, 1), rulebook=rulebook)

    assert earning.multiplier == 8
    assert earning.points == 8000


@pytest.mark.parametrize(
    ("tier", "amount", "points"),
    [
        (Tier.BRONZE, "333", 333),
        (Tier.SILVER, "333", 366),  # 366.3
        (Tier.GOLD, "333", 416),  # 416.25
        (Tier.PLATINUM, "333", 499),  # 499.5
    ],
)
def test_tier_bonus_rounds_down(tier, amount, points):
    assert earn(amount, tier=tier).points == points


def test_tier_bonus_applies_on_top_of_the_multiplier():
    # 333 x 2 x 1.25 = 832.5
    assert earn("333", first=True, tier=Tier.GOLD).points == 832


def test_rounding_happens_once_at_the_end():
    # 3 x 1.5 x 1.5 x 1.1 = 7.425 -> 7; flooring each step would give 6.
    rulebook = Rulebook(
        stack_multipliers=True,
        first_order_multiplier=Decimal("1.5"),
        birthday_month_multiplier=Decimal("1.5"),
    )

    earning = earn(
        "3.80", first=True, birthday=date(2000, 5, 1), tier=Tier.SILVER, rulebook=rulebook
    )

    assert earning.base_points == 3
    assert earning.points == 7


def test_the_breakdown_explains_every_step():
    rulebook = Rulebook(version=4)

    earning = earn("1299.00", first=True, tier=Tier.GOLD, rulebook=rulebook)

    assert earning.base_points == 1299
    assert earning.multiplier == 2
    assert earning.tier_bonus == Decimal("1.25")
    assert earning.points == 3247  # 3247.5
    assert earning.rule_version == 4
    text = earning.explanation()
    assert "large_order x2" in text
    assert "first_order x2" in text
    assert "gold" in text
    assert "3247 points" in text
    assert "v4" in text


@pytest.mark.parametrize("amount", [Decimal("-1"), Decimal("NaN"), Decimal("Infinity"), 12.5])
def test_amounts_must_be_finite_non_negative_decimals(amount):
    with pytest.raises(RefusedByRules):
        earn_points_for_order(
            amount=amount,
            placed_at=MAY_DAY,
            is_first_order=False,
            birthday=None,
            tier=Tier.BRONZE,
            rulebook=DEFAULT_RULEBOOK,
        )
