"""RFM features and the segment of a customer at a given moment. Pure: no I/O, no clock.

- Frequency and monetary count orders placed in the window (the last ``window_days`` before
  ``now``, an order exactly ``window_days`` old is outside); monetary is net of refunds.
- Recency is whole days (elapsed 24-hour periods) since the customer's last order, ever: a
  customer whose last order left the window is dormant, not a prospect. None if never ordered.
- A fully refunded order counts nowhere (a cancelled purchase): not in frequency, not in
  monetary, not in recency.
- Behaviour tags are the customer's profile tags minus the policy's non-behaviour tags
  (status or calendar tags such as ``vip`` and ``birthday_this_month``).
- Complaints count those opened in the window.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from services.segmentation.rules.churn import ChurnPolicy
from services.segmentation.rules.facts import ZERO, CustomerFacts, OrderFact
from services.segmentation.rules.segments import (
    DEFAULT_SEGMENTS,
    Feature,
    FeatureValues,
    SegmentTable,
)

DAY = timedelta(days=1)
DEFAULT_NON_BEHAVIOUR_TAGS = frozenset({"vip", "birthday_this_month"})


@dataclass(frozen=True)
class SegmentationPolicy:
    window_days: int = 365
    non_behaviour_tags: frozenset[str] = DEFAULT_NON_BEHAVIOUR_TAGS
    segments: SegmentTable = DEFAULT_SEGMENTS
    churn: ChurnPolicy = field(default_factory=ChurnPolicy)

    def __post_init__(self) -> None:
        if self.window_days < 1:
            raise ValueError("window_days must be at least 1")

    @property
    def window(self) -> timedelta:
        return self.window_days * DAY


@dataclass(frozen=True)
class Rfm:
    recency_days: int | None
    frequency: int
    monetary: Decimal

    def as_event_data(self) -> dict[str, Any]:
        return {
            "recency_days": self.recency_days,
            "frequency": self.frequency,
            "monetary": str(self.monetary),
        }


@dataclass(frozen=True)
class Evaluation:
    segment: str
    rfm: Rfm
    review_at: datetime


def kept_orders(orders: Iterable[OrderFact], now: datetime) -> list[OrderFact]:
    """Orders placed by ``now`` that were not refunded in full."""
    return [o for o in orders if o.placed_at <= now and not o.fully_refunded]


def in_window(at: datetime, now: datetime, window: timedelta) -> bool:
    return now - window < at <= now


def rfm_at(orders: Iterable[OrderFact], now: datetime, window: timedelta) -> Rfm:
    kept = kept_orders(orders, now)
    if not kept:
        return Rfm(recency_days=None, frequency=0, monetary=ZERO)
    last = max(order.placed_at for order in kept)
    recent = [order for order in kept if in_window(order.placed_at, now, window)]
    return Rfm(
        recency_days=(now - last) // DAY,
        frequency=len(recent),
        monetary=sum((order.net for order in recent), ZERO),
    )


def behaviour_tag_count(tags: Iterable[str], policy: SegmentationPolicy) -> int:
    return len(set(tags) - policy.non_behaviour_tags)


def features_of(
    facts: CustomerFacts, rfm: Rfm, now: datetime, policy: SegmentationPolicy
) -> FeatureValues:
    complaints = sum(1 for at in facts.complaints_opened_at if in_window(at, now, policy.window))
    return {
        Feature.RECENCY_DAYS: rfm.recency_days,
        Feature.FREQUENCY: rfm.frequency,
        Feature.MONETARY: rfm.monetary,
        Feature.BEHAVIOUR_TAGS: behaviour_tag_count(facts.tags, policy),
        Feature.COMPLAINTS: complaints,
    }


def next_review_at(orders: Iterable[OrderFact], now: datetime) -> datetime:
    """When to look at the customer again with no new event: when recency next ticks (a whole
    day after the last order's time of day), and at least daily for everyone. Orders leaving
    the window, complaints ageing out and month ends are all caught by the next daily review."""
    kept = kept_orders(orders, now)
    if not kept:
        return now + DAY
    last = max(order.placed_at for order in kept)
    return last + ((now - last) // DAY + 1) * DAY


def evaluate(facts: CustomerFacts, now: datetime, policy: SegmentationPolicy) -> Evaluation:
    """The customer's segment at ``now``: the first segment of the table whose rule holds."""
    rfm = rfm_at(facts.orders, now, policy.window)
    return Evaluation(
        segment=policy.segments.classify(features_of(facts, rfm, now, policy)),
        rfm=rfm,
        review_at=next_review_at(facts.orders, now),
    )
