"""Feature definitions, and when time alone could next change a customer's tags."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from services.profile.rules import facts as f
from services.profile.rules.features import feature_value, next_change
from tests.unit.profile.rule_inputs import (
    DAY,
    NOW,
    SHANGHAI,
    ago,
    inputs,
    order,
    review_at,
    tags,
    views,
    with_orders,
    with_refunds,
)


def value(facts: f.CustomerFacts, feature: str, days: int | None = 365, **profile):
    return feature_value(inputs(facts, **profile), feature, days)


def test_refund_rate_is_the_share_of_the_windows_orders_refunded() -> None:
    facts = with_orders(*(order(f"o-{n}", ago(n + 1), "10.00") for n in range(4)))
    facts = with_refunds(facts, ("o-0", ago(0.5)), ("o-0", ago(0.4)), ("elsewhere", ago(0.3)))
    assert value(facts, "refund_rate", 90) == Decimal("0.25")
    assert value(facts, "refunds", 90) == 3
    assert value(f.CustomerFacts(), "refund_rate", 90) is None


def test_spend_and_averages() -> None:
    facts = with_orders(
        order("o-1", ago(1), "100.00", items=[("silk", 1, "100.00")]),
        order("o-2", ago(2), "201.00", items=[("tv", 1, "201.00")]),
    )
    assert value(facts, "spend") == Decimal("301.00")
    assert value(facts, "spend.light_luxury") == Decimal("100.00")
    assert value(facts, "avg_order_value") == Decimal("150.50")
    assert value(facts, "max_order_value") == Decimal("201.00")
    assert value(f.CustomerFacts(), "avg_order_value") is None


def test_channel_shares_count_only_orders_with_a_known_channel() -> None:
    facts = with_orders(
        order("o-1", ago(1), "1.00", channel="store"),
        order("o-2", ago(2), "1.00", channel="store"),
        order("o-3", ago(3), "1.00", channel="online"),
        order("o-4", ago(4), "1.00", channel=None),
    )
    assert value(facts, "channel_share.store") == Decimal(2) / Decimal(3)
    assert value(facts, "channels") == 2
    assert "omnichannel" in tags(facts)
    assert "prefers_store" not in tags(facts)


def test_consent_tags_tell_unknown_from_declined() -> None:
    assert "opted_out_everywhere" not in tags(consents={})
    assert "opted_out_everywhere" in tags(consents={"email": False})
    assert {"email_reachable", "wecom_reachable"} <= tags(consents={"email": True, "wecom": True})


def test_a_view_leaving_the_shortest_window_is_the_next_change() -> None:
    facts = views("tv", ago(29), ago(5))
    assert review_at(facts) == ago(29) + 30 * DAY


def test_a_fact_past_one_window_is_next_reviewed_at_the_following_window() -> None:
    assert review_at(with_orders(order("o-1", ago(31), "1.00"))) == ago(31) + 90 * DAY


def test_a_fact_past_every_window_of_its_kind_schedules_nothing() -> None:
    assert review_at(views("tv", ago(31))) is None  # views are counted in 30-day windows only


def test_the_end_of_a_silence_and_a_new_month_are_changes() -> None:
    until = NOW + 3 * DAY
    assert review_at(silenced_until=until) == until
    expected = datetime(2026, 7, 1, tzinfo=SHANGHAI)
    assert review_at(birthday=date(1990, 7, 2)) == expected


def test_nothing_time_dependent_means_no_review() -> None:
    assert review_at(tier="gold") is None


def test_a_customer_re_evaluated_at_the_review_time_loses_the_expired_tag() -> None:
    facts = views("robot_vacuum", *(ago(days=20, minutes=m) for m in range(12)))
    assert "appliance_intent" in tags(facts)
    moment = next_change(inputs(facts), {"views": {30}})
    assert moment == ago(days=20, minutes=11) + 30 * DAY
    assert "appliance_intent" not in tags(facts, now=moment)
