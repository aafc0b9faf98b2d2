"""When a customer's segment could next change with time alone, and the review in between
that only moves recency."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from services.segmentation.rules.figures import CustomerFigures
from services.segmentation.rules.reevaluation import refresh_recency
from services.segmentation.rules.rfm import evaluate
from services.segmentation.rules.segments import Feature, FeatureValues
from tests.unit.segmentation.rule_inputs import NOW, POLICY, days_ago, facts, order, orders

DAY = timedelta(days=1)


def settled_until(customer: CustomerFigures, now: datetime = NOW) -> datetime | None:
    return evaluate(customer, now, POLICY).settled_until


def test_a_new_customer_is_settled_until_recency_makes_them_regular() -> None:
    assert settled_until(facts([order(2)])) == days_ago(2) + 30 * DAY


def test_a_turning_point_that_changes_nothing_for_the_customer_is_skipped() -> None:
    # Recency 15 ends "loyal", 61 starts "at_risk": neither applies to a regular customer.
    assert settled_until(facts(orders(10, 20))) == days_ago(10) + 181 * DAY


def test_an_order_leaving_the_window_ends_the_settled_time() -> None:
    assert settled_until(facts(orders(3, 200))) == days_ago(200) + 365 * DAY


def test_a_complaint_leaving_the_window_ends_it_too() -> None:
    customer = facts([order(100)], complaint_ages=[300])
    assert evaluate(customer, NOW, POLICY).segment == "win_back"
    assert settled_until(customer) == days_ago(300) + 365 * DAY


def test_a_customer_the_churn_rule_watches_is_looked_at_when_a_month_ends() -> None:
    # 15 June 2026, 12:00 UTC: the next business month starts 1 July, 00:00 Shanghai.
    assert settled_until(facts([order(1, "600")])) == datetime(2026, 6, 30, 16, tzinfo=UTC)


def test_a_customer_without_orders_or_complaints_is_settled_until_a_new_event() -> None:
    assert settled_until(facts(tags=["bargain_hunter"])) is None


def test_a_settled_review_moves_recency_and_nothing_else() -> None:
    last = days_ago(2)
    refresh = refresh_recency(
        last_order_at=last, last_evaluated=NOW - DAY, settled_until=last + 30 * DAY, now=NOW
    )

    assert refresh is not None
    assert (refresh.as_of, refresh.recency_days, refresh.review_at) == (NOW, 2, last + 3 * DAY)


def test_a_review_at_or_after_the_settled_time_is_a_full_evaluation() -> None:
    last = days_ago(30)
    assert (
        refresh_recency(
            last_order_at=last, last_evaluated=NOW - DAY, settled_until=last + 30 * DAY, now=NOW
        )
        is None
    )


def test_a_review_is_never_later_than_the_settled_time() -> None:
    last = days_ago(2, NOW - timedelta(hours=1))
    refresh = refresh_recency(
        last_order_at=last, last_evaluated=NOW, settled_until=NOW + timedelta(hours=2), now=NOW
    )

    assert refresh is not None and refresh.review_at == NOW + timedelta(hours=2)


@settings(max_examples=300, deadline=None)
@given(
    recency=st.one_of(st.none(), st.integers(0, 400)),
    frequency=st.integers(0, 6),
    monetary=st.sampled_from([Decimal(0), Decimal("100"), Decimal("499.99"), Decimal(500)]),
    tags=st.integers(0, 4),
    complaints=st.integers(0, 2),
)
def test_the_next_recency_turn_is_where_the_table_first_gives_another_segment(
    recency: int | None, frequency: int, monetary: Decimal, tags: int, complaints: int
) -> None:
    table = POLICY.segments
    features: FeatureValues = {
        Feature.RECENCY_DAYS: recency,
        Feature.FREQUENCY: frequency,
        Feature.MONETARY: monetary,
        Feature.BEHAVIOUR_TAGS: tags,
        Feature.COMPLAINTS: complaints,
    }

    segment, turn = table.classify_as_recency_grows(features)

    assert segment == table.classify(features)
    if recency is None:
        assert turn is None
        return
    later = [table.classify({**features, Feature.RECENCY_DAYS: r}) for r in range(recency, 800)]
    changes = [recency + n for n, name in enumerate(later) if name != segment]
    assert turn == (changes[0] if changes else None)
