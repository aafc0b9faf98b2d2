"""The bounded figures give what the whole history would: any sequence of orders, refunds
(before or after their order) and evaluations, the figures pruned at every evaluation, yields
the recency, frequency, monetary and monthly spend computed from every order ever."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from services.segmentation.rules.churn import monthly_spend
from services.segmentation.rules.facts import OrderFact
from services.segmentation.rules.figures import (
    CustomerFigures,
    month_of,
    months_before,
    pruned,
    with_last_order,
    with_order,
    with_refund,
)
from services.segmentation.rules.rfm import DAY, Rfm, rfm_at
from shared.money import to_yuan
from tests.unit.segmentation.rule_inputs import POLICY

START = datetime(2026, 1, 1, tzinfo=UTC)
TZ = POLICY.churn.timezone
MONTHS_KEPT = POLICY.churn.months_kept


@dataclass
class Order:
    placed_at: datetime | None = None
    amount: Decimal | None = None
    refunded: Decimal = Decimal(0)

    def fact(self) -> OrderFact | None:
        if self.placed_at is None or self.amount is None:
            return None
        return OrderFact(self.placed_at, self.amount, self.refunded)


def expected_rfm(orders: dict[int, Order], now: datetime) -> Rfm:
    """The rule as it was written over every order ever."""
    facts = [f for o in orders.values() if (f := o.fact()) is not None]
    kept = [f for f in facts if f.placed_at <= now and not f.fully_refunded]
    if not kept:
        return Rfm(None, 0, Decimal(0))
    recent = [f for f in kept if now - POLICY.window < f.placed_at <= now]
    return Rfm(
        (now - max(f.placed_at for f in kept)) // DAY,
        len(recent),
        sum((f.net for f in recent), Decimal(0)),
    )


def kept_months(series: list[tuple[date, Decimal]], now: datetime) -> list[tuple[date, Decimal]]:
    """The series over the months kept at ``now`` (the last ``months_kept``), from the first
    month with spend: months of nothing before it can neither start nor extend a falling
    streak."""
    oldest = months_before(month_of(now, TZ), MONTHS_KEPT)
    kept = [(month, spend) for month, spend in series if month >= oldest]
    while kept and not kept[0][1]:
        kept.pop(0)
    return kept


def expected_months(orders: dict[int, Order], now: datetime) -> list[tuple[date, Decimal]]:
    totals: dict[date, int] = {}
    for order in orders.values():
        fact = order.fact()
        if fact is not None:
            month = month_of(fact.placed_at, TZ)
            totals[month] = totals.get(month, 0) + int(fact.net * 100)
    return kept_months(monthly_spend(totals.items(), now, TZ), now)


def latest_kept(orders: dict[int, Order]) -> datetime | None:
    """What the repository looks up when a refund took back the latest order."""
    kept = [f.placed_at for o in orders.values() if (f := o.fact()) and not f.fully_refunded]
    return max(kept, default=None)


steps = st.lists(
    st.one_of(
        st.tuples(
            st.just("order"),
            st.integers(0, 5),
            st.integers(0, 900),
            st.integers(0, 500),
        ),
        st.tuples(st.just("refund"), st.integers(0, 5), st.integers(1, 400), st.just(0)),
        st.tuples(st.just("evaluate"), st.integers(0, 400), st.just(0), st.just(0)),
    ),
    max_size=30,
)


@settings(max_examples=300, deadline=None)
@given(steps)
def test_the_figures_agree_with_the_whole_history(script: list[tuple[str, int, int, int]]) -> None:
    orders: dict[int, Order] = {}
    figures = CustomerFigures()
    now = START
    for kind, number, value, amount in script:
        if kind == "order":
            order = orders.setdefault(number, Order())
            if order.placed_at is not None:
                continue  # an order republished counts once
            placed = START + timedelta(hours=value * 13)
            order.placed_at, order.amount = placed, Decimal(amount)
            figures = with_order(figures, OrderFact(placed, Decimal(amount), order.refunded), TZ)
            now = max(now, placed)
        elif kind == "refund":
            order = orders.setdefault(number, Order())
            before = order.fact()
            order.refunded += to_yuan(value * 100) / 4
            after = order.fact()
            if before is not None and after is not None:
                outcome = with_refund(figures, before, after, TZ)
                figures = outcome.figures
                if outcome.last_order_unknown:
                    figures = with_last_order(figures, latest_kept(orders))
        else:
            now += timedelta(days=value, hours=value % 7)
            figures = pruned(
                figures, now, window=POLICY.window, months_kept=MONTHS_KEPT, timezone=TZ
            )
        assert rfm_at(figures, now, POLICY.window) == expected_rfm(orders, now)
        months = kept_months(monthly_spend(figures.monthly_net, now, TZ), now)
        assert months == expected_months(orders, now)
    assert replace(figures, complete_since=None).last_order_at == latest_kept(orders)
