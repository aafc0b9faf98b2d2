"""RFM features: the 365-day window, whole-day recency, refunds, and when to look again."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from services.segmentation.rules.rfm import Rfm, next_review_at, rfm_at
from tests.unit.segmentation.rule_inputs import NOW, POLICY, days_ago, facts, order, orders

WINDOW = POLICY.window


def test_recency_is_whole_days_since_the_last_order() -> None:
    assert rfm_at(facts([order(14.999)]), NOW, WINDOW).recency_days == 14
    assert rfm_at(facts([order(15)]), NOW, WINDOW).recency_days == 15
    assert rfm_at(facts([order(0)]), NOW, WINDOW).recency_days == 0


def test_the_window_keeps_orders_younger_than_365_days() -> None:
    rfm = rfm_at(facts(orders(1, 364.99, 365, 400)), NOW, WINDOW)

    assert rfm == Rfm(recency_days=1, frequency=2, monetary=Decimal("200"))


def test_monetary_is_net_of_refunds() -> None:
    rfm = rfm_at(facts([order(1, "600.50", refunded="150.25"), order(2, "99.99")]), NOW, WINDOW)

    assert rfm.monetary == Decimal("550.24")
    assert rfm.frequency == 2


def test_a_refund_larger_than_the_order_counts_as_a_full_refund() -> None:
    rfm = rfm_at(facts([order(1, "100", refunded="130"), order(2, "50")]), NOW, WINDOW)

    assert rfm == Rfm(recency_days=2, frequency=1, monetary=Decimal("50"))


def test_a_fully_refunded_order_counts_nowhere() -> None:
    rfm = rfm_at(facts([order(1, "300", refunded="300"), order(10, "80")]), NOW, WINDOW)

    assert rfm == Rfm(recency_days=10, frequency=1, monetary=Decimal("80"))


def test_a_free_order_still_counts_as_an_order() -> None:
    assert rfm_at(facts([order(3, "0")]), NOW, WINDOW) == Rfm(3, 1, Decimal("0"))


def test_no_orders_means_no_recency() -> None:
    assert rfm_at(facts([]), NOW, WINDOW) == Rfm(
        recency_days=None, frequency=0, monetary=Decimal(0)
    )


def test_orders_after_the_evaluated_moment_are_not_yet_counted() -> None:
    assert rfm_at(facts([order(-1)]), NOW, WINDOW).frequency == 0


def test_rfm_travels_with_money_as_a_string() -> None:
    assert Rfm(3, 2, Decimal("1299.00")).as_event_data() == {
        "recency_days": 3,
        "frequency": 2,
        "monetary": "1299.00",
    }


def test_review_comes_when_recency_next_ticks() -> None:
    last = days_ago(3.25)

    assert next_review_at(facts([order(3.25), order(40)]), NOW) == last + timedelta(days=4)


def test_a_customer_without_orders_is_reviewed_daily() -> None:
    assert next_review_at(facts(), NOW) == NOW + timedelta(days=1)
