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
    rating = fn.avg_rating(i, DAYS_365, None)
    return Activity(
        as_of=i.now,
        lifetime_orders=i.facts.lifetime.orders,
        lifetime_spend=i.facts.lifetime.spend,
        last_order_at=i.facts.lifetime.last_order_at,
        last_seen_at=i.facts.last_seen_at,
        orders_365d=fn.order_count(i, DAYS_365, None),
        spend_365d=fn.spend(i, DAYS_365, None),
        avg_order_value_365d=fn.avg_order_value(i, DAYS_365, None),
        refunds_90d=fn.refunds(i, DAYS_90, None),
        views_30d=fn.views(i, DAYS_30, None),
        inquiries_30d=fn.inquiries(i, DAYS_30, None),
        complaints_365d=fn.complaints(i, DAYS_365, None),
        avg_rating_365d=None if rating is None else rating.quantize(fn.CENT),
    )
