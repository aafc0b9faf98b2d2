"""The activity block of the customer 360: a few features at a glance. Pure.

The 360 is a stored document (``repository/documents.py``), so the block is worked out when
the customer is evaluated and is true as of that moment (``as_of``); its windows are among
those that schedule the next evaluation (``ACTIVITY_WINDOWS``), so the sweep refreshes the
block when time alone changes it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from services.profile.rules import feature_functions as fn
from services.profile.rules.facts import ZERO
from services.profile.rules.feature_functions import ProfileInputs

DAYS_30, DAYS_90, DAYS_365 = (timedelta(days=d) for d in (30, 90, 365))
ACTIVITY_WINDOWS: Mapping[str, frozenset[int]] = {
    "orders": frozenset({365}),
    "refunds": frozenset({90}),
    "views": frozenset({30}),
    "tickets": frozenset({30}),
    "complaints": frozenset({365}),
    "reviews": frozenset({365}),
}


@dataclass(frozen=True)
class Activity:
    as_of: datetime
    lifetime_orders: int
    lifetime_spend: Decimal
    last_order_at: datetime | None
    last_seen_at: datetime | None
    orders_365d: int
    spend_365d: Decimal
    avg_order_value_365d: Decimal | None
    refunds_90d: int
    views_30d: int
    inquiries_30d: int
    complaints_365d: int
    avg_rating_365d: Decimal | None


def activity(i: ProfileInputs) -> Activity:
    """The block as of ``i.now``: the same figures as the catalogue's features of the same
    names (``feature_functions``), added up straight from the days in each window. The
    features' totals carry every figure of a day (maps of categories included) and most
    evaluations need none of them but those the changed tags read, so a window already added
    up for the tags is reused and any other is summed here, only what the block shows."""
    facts = i.facts
    orders, spend = _order_figures(i)
    reviews, rating_sum = _review_figures(i)
    rating = fn.ratio(rating_sum, reviews)
    average = fn.ratio(spend, orders)
    return Activity(
        as_of=i.now,
        lifetime_orders=facts.lifetime.orders,
        lifetime_spend=facts.lifetime.spend,
        last_order_at=facts.lifetime.last_order_at,
        last_seen_at=facts.last_seen_at,
        orders_365d=orders,
        spend_365d=spend,
        avg_order_value_365d=None if average is None else average.quantize(fn.CENT),
        refunds_90d=sum(sum(d.by_reason.values()) for d in i.days_in("refunds", DAYS_90)),
        views_30d=sum(sum(d.by_category.values()) for d in i.days_in("views", DAYS_30)),
        inquiries_30d=sum(d.inquiries for d in i.days_in("tickets", DAYS_30)),
        complaints_365d=sum(sum(d.by_category.values()) for d in i.days_in("complaints", DAYS_365)),
        avg_rating_365d=None if rating is None else rating.quantize(fn.CENT),
    )


def _order_figures(i: ProfileInputs) -> tuple[int, Decimal]:
    added_up = i.added_up("orders", DAYS_365)
    if added_up is not None:
        return added_up.orders, added_up.amount
    days = i.days_in("orders", DAYS_365)
    return sum(d.orders for d in days), sum((d.amount for d in days), ZERO)


def _review_figures(i: ProfileInputs) -> tuple[int, int]:
    added_up = i.added_up("reviews", DAYS_365)
    if added_up is not None:
        return added_up.reviews, added_up.rating_sum
    days = i.days_in("reviews", DAYS_365)
    return sum(d.reviews for d in days), sum(d.rating_sum for d in days)
