"""Churn risk: monthly spend of a high-value customer falling three complete months in a row."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from services.segmentation.rules.churn import (
    ChurnPolicy,
    FallingStreak,
    churn_risk,
    falling_streak,
    monthly_spend,
)
from services.segmentation.rules.facts import OrderFact
from services.segmentation.rules.figures import figures_of

POLICY = ChurnPolicy()
TZ = POLICY.timezone
HIGH = Decimal("1000")


def months(orders: list[OrderFact]) -> tuple[tuple[date, int], ...]:
    """The monthly figures the churn rule reads, of these orders."""
    return figures_of(orders, timezone=TZ).monthly_net


def spent(year: int, month: int, amount: str, refunded: str = "0") -> OrderFact:
    return OrderFact(datetime(year, month, 10, 4, tzinfo=UTC), Decimal(amount), Decimal(refunded))


FALLING = [
    spent(2026, 1, "400"),
    spent(2026, 2, "300"),
    spent(2026, 3, "200"),
    spent(2026, 4, "100"),
]
IN_MAY = datetime(2026, 5, 2, tzinfo=UTC)


def risk(
    orders: list[OrderFact],
    now: datetime,
    *,
    monetary: Decimal = HIGH,
    alerted_peak: date | None = None,
) -> FallingStreak | None:
    return churn_risk(
        months(orders), monetary=monetary, now=now, alerted_peak=alerted_peak, policy=POLICY
    )


def test_three_falling_months_raise_churn_risk() -> None:
    streak = risk(FALLING, IN_MAY)

    assert streak is not None
    assert streak.peak_month == date(2026, 1, 1)
    assert streak.spend == (Decimal(400), Decimal(300), Decimal(200), Decimal(100))


def test_two_falls_are_not_enough() -> None:
    assert risk(FALLING[1:], IN_MAY) is None


def test_only_high_value_customers_are_watched() -> None:
    assert risk(FALLING, IN_MAY, monetary=Decimal("499.99")) is None
    assert risk(FALLING, IN_MAY, monetary=Decimal("500")) is not None


def test_the_month_in_progress_does_not_count() -> None:
    assert risk(FALLING, datetime(2026, 4, 30, tzinfo=UTC)) is None


def test_a_streak_raises_once_even_as_it_keeps_falling() -> None:
    assert risk(FALLING, IN_MAY, alerted_peak=date(2026, 1, 1)) is None
    still_falling = [*FALLING, spent(2026, 5, "50")]
    assert (
        risk(still_falling, datetime(2026, 6, 2, tzinfo=UTC), alerted_peak=date(2026, 1, 1)) is None
    )


def test_a_new_streak_after_a_rise_raises_again() -> None:
    later = [
        *FALLING,
        spent(2026, 5, "900"),
        spent(2026, 6, "600"),
        spent(2026, 7, "300"),
        spent(2026, 8, "10"),
    ]

    streak = risk(later, datetime(2026, 9, 1, tzinfo=UTC), alerted_peak=date(2026, 1, 1))

    assert streak is not None and streak.peak_month == date(2026, 5, 1)


def test_a_flat_month_breaks_the_streak() -> None:
    flat = [
        spent(2026, 1, "400"),
        spent(2026, 2, "300"),
        spent(2026, 3, "300"),
        spent(2026, 4, "100"),
    ]

    assert falling_streak(months(flat), IN_MAY, TZ).falls == 1


def test_spend_is_net_of_refunds_in_the_month_of_the_order() -> None:
    refunded = [*FALLING[:3], spent(2026, 4, "350", refunded="250")]

    assert risk(refunded, IN_MAY) is not None
    assert risk([*FALLING[:3], spent(2026, 4, "350")], IN_MAY) is None


def test_a_month_with_no_orders_counts_as_zero() -> None:
    gap = [spent(2026, 1, "400"), spent(2026, 2, "300"), spent(2026, 3, "200")]

    streak = risk(gap, IN_MAY)

    assert streak is not None and streak.spend[-1] == Decimal(0)


def test_months_are_business_months() -> None:
    # 20:00 UTC on 31 March is already 1 April in Shanghai.
    late_march = OrderFact(datetime(2026, 3, 31, 20, tzinfo=UTC), Decimal("10"))

    assert monthly_spend(months([late_march]), IN_MAY, TZ) == [(date(2026, 4, 1), Decimal("10"))]
