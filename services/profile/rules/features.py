"""The features tag rules may use: their names, windows and arguments. Pure.

A feature is named ``base`` or ``base.argument`` (``views.smart_appliance``,
``complaints.logistics``). Windowed features count facts whose business time lies in
``(now - window, now]``, a day of facts at a time (``rules/facts.py``): a fact exactly
``window_days`` old is outside. Ratios and averages
are None where undefined (no orders, no reviews), and None satisfies no condition.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from decimal import Decimal
from functools import cache
from typing import Literal

from services.profile.rules import feature_functions as fn
from services.profile.rules.days import DAY_US, micros, moment
from services.profile.rules.facts import FACT_RETENTION, VIEW_RETENTION
from services.profile.rules.feature_functions import ProfileInputs

Value = int | Decimal | bool | str | None
Argument = Literal[
    "category_group", "ticket_category", "refund_reason", "consent_channel", "order_channel"
]
Compute = Callable[[ProfileInputs, timedelta | None, str | None], Value]
PROFILE = "profile"
FACT_KINDS = ("views", "orders", "refunds", "reviews", "tickets", "complaints", "resolutions")


@dataclass(frozen=True)
class FeatureSpec:
    compute: Compute
    description: str
    retention: timedelta | None = None  # None: a lifetime feature, which takes no window
    argument: Argument | None = None
    argument_required: bool = False
    kind: Literal["number", "flag", "label"] = "number"
    sources: tuple[str, ...] = ()  # the kinds of facts whose times the window applies to
    reads: tuple[str, ...] = (PROFILE,)  # what a lifetime feature is worked out from

    @property
    def windowed(self) -> bool:
        return self.retention is not None

    @property
    def inputs(self) -> frozenset[str]:
        """What the feature is worked out from: kinds of facts (``views``, ``orders``, ...)
        or the profile (registration, birthday, tier, silence, open tickets, consents)."""
        if not self.sources:
            return frozenset(self.reads)
        return frozenset(PROFILE if s == "registration" else s for s in self.sources)


def _windowed(
    compute: Compute,
    description: str,
    argument: Argument | None = None,
    *,
    sources: tuple[str, ...] = ("orders",),
    retention: timedelta = FACT_RETENTION,
    required: bool = False,
) -> FeatureSpec:
    return FeatureSpec(compute, description, retention, argument, required, sources=sources)


def _over_views(
    compute: Compute, description: str, argument: Argument | None = None
) -> FeatureSpec:
    return _windowed(compute, description, argument, sources=("views",), retention=VIEW_RETENTION)


FEATURES: dict[str, FeatureSpec] = {
    "views": _over_views(fn.views, "product views (of a category group)", "category_group"),
    "viewed_categories": _over_views(fn.viewed_categories, "distinct categories viewed"),
    "orders": _windowed(
        fn.order_count, "orders placed (with an item of a group)", "category_group"
    ),
    "spend": _windowed(fn.spend, "yuan spent (on items of a group)", "category_group"),
    "net_spend": _windowed(
        fn.net_spend, "yuan spent minus yuan refunded", sources=("orders", "refunds")
    ),
    "avg_order_value": _windowed(fn.avg_order_value, "average order amount, yuan"),
    "max_order_value": _windowed(fn.max_order_value, "largest order amount, yuan"),
    "max_order_items": _windowed(fn.max_order_items, "most items in one order"),
    "categories_bought": _windowed(fn.categories_bought, "distinct categories bought"),
    "discounted_orders_share": _windowed(
        fn.discounted_orders_share, "share of orders paid at least 5 % below list value"
    ),
    "discount_share": _windowed(fn.discount_share, "discount yuan / list-value yuan"),
    "channel_share": _windowed(
        fn.channel_share, "share of orders placed on a channel", "order_channel", required=True
    ),
    "channels": _windowed(fn.channels, "distinct order channels"),
    "refunds": _windowed(
        fn.refunds, "refunds (for a reason)", "refund_reason", sources=("refunds",)
    ),
    "refund_amount": _windowed(fn.refund_amount, "yuan refunded", sources=("refunds",)),
    "refund_rate": _windowed(fn.refund_rate, "share of the window's orders refunded"),
    "reviews": _windowed(fn.reviews, "reviews posted", sources=("reviews",)),
    "avg_rating": _windowed(fn.avg_rating, "mean review rating", sources=("reviews",)),
    "low_ratings": _windowed(fn.low_ratings, "reviews rated 1-2", sources=("reviews",)),
    "high_ratings": _windowed(fn.high_ratings, "reviews rated 4-5", sources=("reviews",)),
    "inquiries": _windowed(
        fn.inquiries, "service inquiries (tickets of kind inquiry)", sources=("tickets",)
    ),
    "tickets": _windowed(
        fn.tickets, "tickets opened (in a category)", "ticket_category", sources=("tickets",)
    ),
    "complaints": _windowed(
        fn.complaints,
        "complaints opened (in a category)",
        "ticket_category",
        sources=("complaints",),
    ),
    "low_csat": _windowed(fn.low_csat, "resolutions rated CSAT 1-2", sources=("resolutions",)),
    "high_csat": _windowed(fn.high_csat, "resolutions rated CSAT 4-5", sources=("resolutions",)),
    "registrations": _windowed(
        fn.registrations, "1 if the customer registered in the window", sources=("registration",)
    ),
    "lifetime_orders": FeatureSpec(fn.lifetime_orders, "orders ever placed", reads=("orders",)),
    "lifetime_spend": FeatureSpec(fn.lifetime_spend, "yuan ever spent", reads=("orders",)),
    "open_tickets": FeatureSpec(fn.open_tickets, "tickets open now"),
    "tier": FeatureSpec(fn.tier, "latest loyalty tier", kind="label"),
    "silenced": FeatureSpec(fn.silenced, "in a marketing silence now", kind="flag"),
    "birthday_this_month": FeatureSpec(
        fn.birthday_this_month, "birthday in this month (business time zone)", kind="flag"
    ),
    "consent": FeatureSpec(
        fn.consent, "consented to a channel", None, "consent_channel", True, "flag"
    ),
    "consented_channels": FeatureSpec(fn.consented_channels, "channels consented to"),
    "consent_choices": FeatureSpec(fn.consent_choices, "channels with a stated consent choice"),
}


def split_feature(name: str) -> tuple[str, str | None]:
    base, _, argument = name.partition(".")
    return base, argument or None


def feature_getter(name: str, window_days: int | None) -> Callable[[ProfileInputs], Value]:
    """How to work out a (catalogue-validated) feature over a window, for any inputs."""
    base, argument = split_feature(name)
    spec = FEATURES[base]
    window = timedelta(days=window_days) if spec.windowed and window_days is not None else None
    compute = spec.compute
    return lambda inputs: compute(inputs, window, argument)


def feature_value(inputs: ProfileInputs, name: str, window_days: int | None) -> Value:
    """The value of a (catalogue-validated) feature for ``inputs``."""
    return feature_getter(name, window_days)(inputs)


def next_change(inputs: ProfileInputs, windows: Mapping[str, Iterable[int]]) -> datetime | None:
    """The earliest moment after ``now`` at which a feature could change with time alone: a
    day of facts leaving a window its kind is counted in (``windows``: fact kind -> window
    days), a silence ending, or a new month (for birthdays)."""
    starts = inputs.facts.day_starts()
    starts["registration"] = [micros(inputs.registered_at)] if inputs.registered_at else []
    now, leaving = inputs.now_us, []
    for source, days in windows.items():
        times = starts.get(source)
        if not times:
            continue
        times.sort()
        for window in map(_micros_of_days, set(days)):
            first_inside = bisect.bisect_right(times, now - window)
            if first_inside < len(times):
                leaving.append(times[first_inside] + window)
    candidates = [moment(min(leaving))] if leaving else []
    if inputs.silenced_until is not None:
        candidates.append(inputs.silenced_until)
    if inputs.birthday is not None:
        candidates.append(next_month_start(inputs.now, inputs.timezone))
    return min((c for c in candidates if c > inputs.now), default=None)


@cache
def _micros_of_days(days: int) -> int:
    return days * DAY_US


def next_month_start(now: datetime, timezone: tzinfo) -> datetime:
    local = now.astimezone(timezone)
    year, month = (local.year + 1, 1) if local.month == 12 else (local.year, local.month + 1)
    return datetime(year, month, 1, tzinfo=timezone)
