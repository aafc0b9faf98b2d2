from decimal import Decimal

import pytest

from services.loyalty.rules.rulebook import DEFAULT_RULEBOOK, Tier
from services.loyalty.rules.tiers import (
    Spend,
    TierChangeReason,
    net_spend_in_window,
    tier_at_monthly_review,
    tier_for_net_spend,
    tier_progress,
)
from tests.support.builders import new_id
from tests.unit.loyalty.factories import new_account, origin_at, utc

JAN = utc(2024, 1, 15, 2)
REVIEW = utc(2024, 2, 1)


@pytest.mark.parametrize(
    ("spend", "tier"),
    [
        ("0", Tier.BRONZE),
        ("1999.99", Tier.BRONZE),
        ("2000", Tier.SILVER),
        ("9999.99", Tier.SILVER),
        ("10000", Tier.GOLD),
        ("29999.99", Tier.GOLD),
        ("30000", Tier.PLATINUM),
    ],
)
def test_tier_for_net_spend(spend, tier):
    assert tier_for_net_spend(Decimal(spend), DEFAULT_RULEBOOK) is tier


def test_net_spend_counts_the_trailing_12_months_net_of_refunds():
    now = utc(2024, 6, 30, 12)
    spends = [
        Spend(utc(2023, 6, 30, 12), Decimal("5000")),  # exactly 12 months ago: out
        Spend(utc(2023, 6, 30, 12, 0, 1), Decimal("700")),
        Spend(utc(2024, 6, 1), Decimal("300.50")),
        Spend(utc(2024, 7, 1), Decimal("900")),  # after now: out
    ]

    assert net_spend_in_window(spends, now, DEFAULT_RULEBOOK) == Decimal("1000.50")


def test_an_upgrade_takes_effect_at_once():
    account = new_account()
    account.place_order(new_id("order"), Decimal("6000"), origin_at(JAN))

    outcome = account.place_order(new_id("order"), Decimal("4000"), origin_at(JAN))
    after = account.place_order(new_id("order"), Decimal("100"), origin_at(JAN))

    assert outcome.tier_change is not None
    assert (outcome.tier_change.old_tier, outcome.tier_change.new_tier) == (Tier.SILVER, Tier.GOLD)
    assert outcome.tier_change.reason is TierChangeReason.SPEND_REACHED
    assert account.tier is Tier.GOLD
    assert after.earning is not None
    assert after.earning.tier is Tier.GOLD
    assert after.earning.points == 125


def test_a_refund_never_downgrades_at_once():
    account = new_account()
    order_id = new_id("order")
    account.place_order(order_id, Decimal("12000"), origin_at(JAN))

    account.refund_order(order_id, Decimal("12000"), origin_at(JAN))

    assert account.tier is Tier.GOLD


def test_the_monthly_review_drops_exactly_one_tier():
    account = new_account()
    order_id = new_id("order")
    account.place_order(order_id, Decimal("30000"), origin_at(JAN))
    account.refund_order(order_id, Decimal("30000"), origin_at(JAN))
    assert account.tier is Tier.PLATINUM

    reviews = [account.review_tier(utc(2024, month, 1), DEFAULT_RULEBOOK) for month in (2, 3, 4, 5)]

    assert [(c.old_tier, c.new_tier) for c in reviews if c is not None] == [
        (Tier.PLATINUM, Tier.GOLD),
        (Tier.GOLD, Tier.SILVER),
        (Tier.SILVER, Tier.BRONZE),
    ]
    assert reviews[-1] is None
    assert all(c.reason is TierChangeReason.MONTHLY_REVIEW for c in reviews if c is not None)


def test_the_monthly_review_keeps_a_tier_still_earned():
    assert tier_at_monthly_review(Tier.GOLD, Decimal("15000"), REVIEW, DEFAULT_RULEBOOK) is None


def test_the_monthly_review_upgrades_when_spend_has_reached_a_higher_tier():
    change = tier_at_monthly_review(Tier.SILVER, Decimal("30000"), REVIEW, DEFAULT_RULEBOOK)

    assert change is not None
    assert change.new_tier is Tier.PLATINUM


def test_spend_leaving_the_window_lowers_the_tier_at_the_review():
    account = new_account()
    account.place_order(new_id("order"), Decimal("2500"), origin_at(JAN))
    assert account.tier is Tier.SILVER

    assert account.review_tier(utc(2024, 12, 1), DEFAULT_RULEBOOK) is None
    change = account.review_tier(utc(2025, 2, 1), DEFAULT_RULEBOOK)

    assert change is not None
    assert change.new_tier is Tier.BRONZE


def test_tier_progress_names_the_next_tier_and_the_spend_it_needs():
    progress = tier_progress(Decimal("2500"), DEFAULT_RULEBOOK)
    top = tier_progress(Decimal("45000"), DEFAULT_RULEBOOK)

    assert (progress.next_tier, progress.spend_to_next_tier) == (Tier.GOLD, Decimal("7500"))
    assert (top.next_tier, top.spend_to_next_tier) == (None, Decimal(0))


def test_the_window_of_a_leap_day_starts_on_the_28th_of_february():
    spends = [
        Spend(utc(2023, 2, 28, 12), Decimal("100")),  # the window's first instant: out
        Spend(utc(2023, 2, 28, 12, 0, 1), Decimal("20")),
    ]

    assert net_spend_in_window(spends, utc(2024, 2, 29, 12), DEFAULT_RULEBOOK) == Decimal("20")
