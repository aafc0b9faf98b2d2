"""Every segment of the table, its boundaries, and the first-match-wins order."""

from __future__ import annotations

import pytest

from tests.unit.segmentation.rule_inputs import BEHAVIOUR_TAGS, facts, order, orders, segment_of


def loyal_like(last_order_age: float, count: int = 4, amount: str = "125") -> list:
    """``count`` orders of ``amount``, the latest ``last_order_age`` days ago."""
    return [order(last_order_age + 20 * i, amount) for i in range(count)]


# --- loyal: recency < 15, frequency >= 4, monetary >= 500 --------------------------------------


def test_loyal_at_its_boundaries() -> None:
    assert segment_of(facts(loyal_like(14.99))) == "loyal"


def test_recency_15_is_not_loyal() -> None:
    assert segment_of(facts(loyal_like(15))) == "regular"


def test_three_orders_are_not_loyal_even_with_the_spend() -> None:
    assert segment_of(facts(loyal_like(1, count=3, amount="300"))) == "regular"


def test_monetary_just_under_500_is_not_loyal() -> None:
    assert segment_of(facts(loyal_like(1, amount="124.99"))) == "regular"


def test_a_refund_can_take_a_customer_out_of_loyal() -> None:
    refunded = [*loyal_like(1)[:3], order(61, "125", refunded="0.01")]

    assert segment_of(facts(refunded)) == "regular"


# --- potential: recency < 30, frequency 2-3, behaviour tags >= 3 --------------------------------


@pytest.mark.parametrize("count", [2, 3])
def test_potential_with_two_or_three_orders_and_three_behaviour_tags(count: int) -> None:
    customer = facts(orders(*[29.5 + i for i in range(count)]), tags=BEHAVIOUR_TAGS)

    assert segment_of(customer) == "potential"


def test_recency_30_is_not_potential() -> None:
    assert segment_of(facts(orders(30, 40), tags=BEHAVIOUR_TAGS)) == "regular"


def test_two_behaviour_tags_are_not_enough_for_potential() -> None:
    assert segment_of(facts(orders(5, 40), tags=sorted(BEHAVIOUR_TAGS)[:2])) == "regular"


def test_status_and_calendar_tags_are_not_behaviour_tags() -> None:
    tags = [*sorted(BEHAVIOUR_TAGS)[:2], "vip", "birthday_this_month"]

    assert segment_of(facts(orders(5, 40), tags=tags)) == "regular"


def test_four_orders_are_not_potential() -> None:
    assert segment_of(facts(orders(5, 40, 50, 60), tags=BEHAVIOUR_TAGS)) == "regular"


# --- new: frequency = 1, recency < 30 ------------------------------------------------------------


def test_a_first_order_makes_a_customer_new() -> None:
    assert segment_of(facts([order(0)])) == "new"
    assert segment_of(facts([order(29.9)])) == "new"


def test_a_single_order_30_days_ago_is_regular() -> None:
    assert segment_of(facts([order(30)])) == "regular"


# --- win_back: recency > 90, frequency = 1, a complaint -----------------------------------------


def test_win_back_after_a_complaint() -> None:
    assert segment_of(facts([order(91)], complaint_ages=[85])) == "win_back"


def test_recency_90_is_not_win_back() -> None:
    assert segment_of(facts([order(90.9)], complaint_ages=[85])) == "regular"


def test_win_back_needs_a_complaint_within_the_window() -> None:
    assert segment_of(facts([order(100)])) == "regular"
    assert segment_of(facts([order(100)], complaint_ages=[365])) == "regular"
    assert segment_of(facts([order(100)], complaint_ages=[364.9])) == "win_back"


def test_win_back_is_for_one_time_buyers() -> None:
    assert segment_of(facts(orders(100, 120), complaint_ages=[85])) == "regular"


def test_win_back_wins_over_at_risk_and_dormant() -> None:
    assert segment_of(facts([order(150, "900")], complaint_ages=[10])) == "win_back"
    assert segment_of(facts([order(200)], complaint_ages=[10])) == "win_back"


# --- at_risk: monetary >= 500, 60 < recency <= 180 ----------------------------------------------


@pytest.mark.parametrize(
    ("age", "expected"), [(60.9, "regular"), (61, "at_risk"), (180.9, "at_risk")]
)
def test_at_risk_recency_boundaries(age: float, expected: str) -> None:
    assert segment_of(facts([order(age, "500")])) == expected


def test_at_risk_needs_monetary_500() -> None:
    assert segment_of(facts([order(100, "499.99")])) == "regular"


# --- dormant: recency > 180 ----------------------------------------------------------------------


def test_recency_181_is_dormant() -> None:
    assert segment_of(facts([order(181, "500")])) == "dormant"


def test_an_order_older_than_the_window_leaves_a_dormant_customer_not_a_prospect() -> None:
    assert segment_of(facts([order(400, "5000")])) == "dormant"


# --- prospect and regular ------------------------------------------------------------------------


def test_a_customer_without_orders_is_a_prospect() -> None:
    assert segment_of(facts()) == "prospect"
    assert segment_of(facts(tags=BEHAVIOUR_TAGS, complaint_ages=[1])) == "prospect"


def test_a_customer_whose_only_order_was_refunded_in_full_is_a_prospect() -> None:
    assert segment_of(facts([order(3, "200", refunded="200")])) == "prospect"


def test_everyone_else_is_regular() -> None:
    assert segment_of(facts(orders(40, 50))) == "regular"
