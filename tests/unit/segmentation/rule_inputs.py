"""Orders, facts and moments for the segmentation rule tests."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from services.segmentation.rules.facts import OrderFact
from services.segmentation.rules.figures import CustomerFigures, figures_of
from services.segmentation.rules.rfm import SegmentationPolicy, evaluate

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
POLICY = SegmentationPolicy()
BEHAVIOUR_TAGS = frozenset({"appliance_intent", "bargain_hunter", "light_luxury_style"})


def days_ago(days: float, now: datetime = NOW) -> datetime:
    return now - timedelta(days=days)


def order(age_days: float, amount: str = "100", refunded: str = "0") -> OrderFact:
    return OrderFact(days_ago(age_days), Decimal(amount), Decimal(refunded))


def orders(*ages: float, amount: str = "100") -> tuple[OrderFact, ...]:
    return tuple(order(age, amount) for age in ages)


def facts(
    order_facts: Iterable[OrderFact] = (),
    tags: Iterable[str] = (),
    complaint_ages: Iterable[float] = (),
) -> CustomerFigures:
    """The figures of a customer known by these orders, tags and complaints."""
    return figures_of(
        order_facts,
        complaints=[days_ago(age) for age in complaint_ages],
        tags=tags,
        timezone=POLICY.churn.timezone,
    )


def segment_of(customer: CustomerFigures, now: datetime = NOW) -> str:
    return evaluate(customer, now, POLICY).segment
