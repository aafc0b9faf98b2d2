"""RFM features and the segment of a customer at a given moment, from the customer's figures
(``rules/figures.py``). Pure: no I/O, no clock.

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
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo

from services.segmentation.rules.churn import ChurnPolicy, next_month
from services.segmentation.rules.figures import CustomerFigures, month_of
from services.segmentation.rules.segments import (
    DEFAULT_SEGMENTS,
    Feature,
    FeatureValues,
    SegmentTable,
)
from shared.money import to_yuan

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

    @cached_property
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
    """When to look again: when recency next ticks, at least daily, and no later than
    ``settled_until``."""
    settled_until: datetime | None
    """Until then the segment, frequency, monetary and churn cannot change with time alone
    (None: not until a new event); a review before it only moves recency."""


def in_window(at: datetime, now: datetime, window: timedelta) -> bool:
    return now - window < at <= now


def last_order_by(figures: CustomerFigures, now: datetime) -> datetime | None:
    """When the latest kept order placed by ``now`` was placed."""
    last = figures.last_order_at
    if last is None or last <= now:
        return last
    return max((at for at, _ in figures.recent_orders if at <= now), default=None)


def rfm_at(figures: CustomerFigures, now: datetime, window: timedelta) -> Rfm:
    start = now - window
    frequency, net = 0, 0
    for placed_at, fen in figures.recent_orders:
        if start < placed_at <= now:
            frequency += 1
            net += fen
    last = last_order_by(figures, now)
    return Rfm(
        recency_days=None if last is None else (now - last) // DAY,
        frequency=frequency,
        monetary=to_yuan(net),
    )


def behaviour_tag_count(tags: Iterable[str], policy: SegmentationPolicy) -> int:
    return len(set(tags) - policy.non_behaviour_tags)


def features_of(
    figures: CustomerFigures, rfm: Rfm, now: datetime, policy: SegmentationPolicy
) -> FeatureValues:
    window = policy.window
    complaints = sum(1 for at in figures.complaints if in_window(at, now, window))
    return {
        Feature.RECENCY_DAYS: rfm.recency_days,
        Feature.FREQUENCY: rfm.frequency,
        Feature.MONETARY: rfm.monetary,
        Feature.BEHAVIOUR_TAGS: behaviour_tag_count(figures.tags, policy),
        Feature.COMPLAINTS: complaints,
    }


def recency_tick(last_order_at: datetime | None, now: datetime) -> datetime:
    """When recency next grows by a day (a whole day after the last order's time of day); a
    day from now for a customer without orders."""
    if last_order_at is None:
        return now + DAY
    return last_order_at + ((now - last_order_at) // DAY + 1) * DAY


def next_review_at(figures: CustomerFigures, now: datetime) -> datetime:
    """When to look at the customer again with no new event: when recency next ticks, and at
    least daily for everyone."""
    return recency_tick(last_order_by(figures, now), now)


def settled_until(
    figures: CustomerFigures,
    features: FeatureValues,
    recency_turn: int | None,
    now: datetime,
    policy: SegmentationPolicy,
) -> datetime | None:
    """The earliest moment the segment, frequency, monetary or a churn alert could change
    with no new event: recency reaching ``recency_turn`` (where the table gives another
    segment), an order or a complaint leaving the window, or (for a customer the churn rule
    watches) a month ending. None: not before a new event."""
    window = policy.window
    moments: list[datetime] = []
    last = last_order_by(figures, now)
    if last is not None and recency_turn is not None:
        moments.append(last + recency_turn * DAY)
    start = now - window
    for times in ([at for at, _ in figures.recent_orders], figures.complaints):
        # Oldest first: the first still in the window leaves first, the first after now
        # enters first.
        leaving = next((at for at in times if at > start), None)
        if leaving is not None:
            moments.append(leaving + window if leaving <= now else leaving)
            if leaving <= now and times[-1] > now:
                moments.append(next(at for at in times if at > now))
    monetary = features[Feature.MONETARY]
    if monetary is not None and monetary >= policy.churn.min_monetary:
        moments.append(_month_start(next_month(month_of(now, policy.churn.timezone)), policy))
    return min(moments, default=None)


def _month_start(month: date, policy: SegmentationPolicy) -> datetime:
    """The first moment of ``month`` in the business timezone, in UTC."""
    zone = ZoneInfo(policy.churn.timezone)
    return datetime(month.year, month.month, 1, tzinfo=zone).astimezone(UTC)


def evaluate(figures: CustomerFigures, now: datetime, policy: SegmentationPolicy) -> Evaluation:
    """The customer's segment at ``now``: the first segment of the table whose rule holds."""
    rfm = rfm_at(figures, now, policy.window)
    features = features_of(figures, rfm, now, policy)
    segment, recency_turn = policy.segments.classify_as_recency_grows(features)
    settled = settled_until(figures, features, recency_turn, now, policy)
    review_at = next_review_at(figures, now)
    return Evaluation(
        segment=segment,
        rfm=rfm,
        review_at=review_at if settled is None else min(review_at, settled),
        settled_until=settled,
    )
