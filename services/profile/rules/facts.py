"""A customer's event facts, kept as running figures per day: what the features are computed
from. Pure.

Each kind of fact (views, orders, refunds, reviews, tickets, complaints, resolutions) is kept
as one small set of figures per UTC day (``rules/days.py``), never as a list of the facts
themselves: a 30-day window is a sum over at most 30 days of figures. A day leaves a window
when its first fact does, so a fact exactly ``window_days`` old is outside, and a later fact
of the same day leaves with it (at most a day early). Days are kept for a retention counted
back from the evaluation moment (views 90 days, the rest 365 days), so a tag window can never
be longer than its facts' retention (the catalogue loader checks this). Lifetime counters
(orders, spend, first and last order) outlive the retention.

Orders are known by id (``OrderRecord``): the same order announced twice counts once, and a
refund marks its order refunded in the day it was placed (``refund_rate``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from types import MappingProxyType
from typing import Any, NamedTuple, Protocol, TypeVar

from services.profile.rules.days import (
    DAY_US,
    ComplaintDay,
    DayFigures,
    OrderDay,
    RefundDay,
    ResolutionDay,
    ReviewDay,
    TicketDay,
    ViewDay,
    day_of,
    micros,
)

VIEW_RETENTION = timedelta(days=90)
FACT_RETENTION = timedelta(days=365)
ZERO = Decimal("0.00")

_SEPARATORS = re.compile(r"[\s\-]+")


def normalise_category(category: str) -> str:
    """'Robot Vacuum' and 'robot-vacuum' are the same category: ``robot_vacuum``."""
    return _SEPARATORS.sub("_", category.strip().lower())


@dataclass(frozen=True)
class OrderFact:
    order_id: str
    at: datetime
    amount: Decimal
    list_value: Decimal | None  # sum of quantity x unit_price; None for an order without items
    quantity: int
    category_values: Mapping[str, Decimal]  # normalised category -> its line totals
    channel: str | None


@dataclass(frozen=True)
class RefundFact:
    order_id: str
    at: datetime
    amount: Decimal
    reason: str


@dataclass(frozen=True)
class ReviewFact:
    at: datetime
    rating: int


@dataclass(frozen=True)
class TicketFact:
    ticket_id: str
    at: datetime
    kind: str
    category: str


@dataclass(frozen=True)
class ComplaintFact:
    ticket_id: str
    at: datetime
    category: str


@dataclass(frozen=True)
class ResolutionFact:
    ticket_id: str
    at: datetime
    csat: int | None


@dataclass(frozen=True)
class OrderRecord:
    """What is known of an order by its id: when it was placed (None: a refund arrived before
    its placement) and whether it was refunded."""

    placed_at: datetime | None = None
    refunded: bool = False


@dataclass(frozen=True)
class Lifetime:
    orders: int = 0
    spend: Decimal = ZERO
    first_order_at: datetime | None = None
    last_order_at: datetime | None = None


D = TypeVar("D", bound=DayFigures)


_NO_DAYS: Mapping[int, Any] = MappingProxyType({})
_NO_ORDERS: Mapping[str, OrderRecord] = MappingProxyType({})


class CustomerFacts(NamedTuple):
    """Figures per day (key: days since the epoch, UTC), the lifetime counters, when the
    customer was last seen, and the orders this evaluation knows by id (those of the events in
    hand: they are stored by order id, not with the figures). Immutable: a change is a new
    value (``_replace``)."""

    views: Mapping[int, ViewDay] = _NO_DAYS
    orders: Mapping[int, OrderDay] = _NO_DAYS
    refunds: Mapping[int, RefundDay] = _NO_DAYS
    reviews: Mapping[int, ReviewDay] = _NO_DAYS
    tickets: Mapping[int, TicketDay] = _NO_DAYS
    complaints: Mapping[int, ComplaintDay] = _NO_DAYS
    resolutions: Mapping[int, ResolutionDay] = _NO_DAYS
    lifetime: Lifetime = Lifetime()
    last_seen_at: datetime | None = None
    known_orders: Mapping[str, OrderRecord] = _NO_ORDERS

    def day_starts(self) -> dict[str, list[int]]:
        """When each day's first fact happened (microseconds since the epoch), by kind: as a
        window boundary passes one, a feature over that kind of fact may change."""
        return {
            "views": [day.start for day in self.views.values()],
            "orders": [day.start for day in self.orders.values()],
            "refunds": [day.start for day in self.refunds.values()],
            "reviews": [day.start for day in self.reviews.values()],
            "tickets": [day.start for day in self.tickets.values()],
            "complaints": [day.start for day in self.complaints.values()],
            "resolutions": [day.start for day in self.resolutions.values()],
        }


class FactUpdate(Protocol):
    """What an event adds to a customer's facts, as of the evaluation moment ``now``."""

    def __call__(self, facts: CustomerFacts, *, now: datetime) -> CustomerFacts: ...


def order_fact(
    order_id: str,
    at: datetime,
    amount: Decimal,
    items: list[tuple[str, int, Decimal]],
    channel: str | None,
) -> OrderFact:
    """An order fact from (category, quantity, unit_price) lines."""
    values: dict[str, Decimal] = {}
    for category, quantity, unit_price in items:
        key = normalise_category(category)
        values[key] = values.get(key, ZERO) + quantity * unit_price
    return OrderFact(
        order_id=order_id,
        at=at,
        amount=amount,
        list_value=sum(values.values(), ZERO) if items else None,
        quantity=sum(quantity for _, quantity, _ in items),
        category_values=values,
        channel=channel,
    )


def with_view(facts: CustomerFacts, category: str, at: datetime, now: datetime) -> CustomerFacts:
    if at <= now - VIEW_RETENTION:
        return _seen(facts, at)
    day = ViewDay.of(at, normalise_category(category))
    return facts._replace(
        views=_added(facts.views, day), last_seen_at=_latest(facts.last_seen_at, at)
    )


def with_order(facts: CustomerFacts, order: OrderFact, now: datetime) -> CustomerFacts:
    """The order counted once per order id (in the lifetime counters, and in its day while
    that is kept); an order refunded before its placement arrived is counted refunded."""
    known = facts.known_orders.get(order.order_id)
    if known is not None and known.placed_at is not None:
        return facts  # the same order announced twice counts once
    refunded = known is not None and known.refunded
    lifetime = facts.lifetime
    facts = _seen(facts, order.at)._replace(
        lifetime=Lifetime(
            orders=lifetime.orders + 1,
            spend=lifetime.spend + order.amount,
            first_order_at=_earliest(lifetime.first_order_at, order.at),
            last_order_at=_latest(lifetime.last_order_at, order.at),
        ),
        known_orders={**facts.known_orders, order.order_id: OrderRecord(order.at, refunded)},
    )
    if order.at <= now - FACT_RETENTION:
        return facts
    day = OrderDay.of(
        order.at,
        order.amount,
        order.list_value,
        order.quantity,
        order.category_values,
        order.channel,
        refunded=refunded,
    )
    return facts._replace(orders=_added(facts.orders, day))


def with_refund(facts: CustomerFacts, refund: RefundFact, now: datetime) -> CustomerFacts:
    """A refund counts as a refund (two partial refunds of an order are two) and, the first
    time, marks its order refunded in the day the order was placed."""
    facts = _seen(facts, refund.at)
    known = facts.known_orders.get(refund.order_id, OrderRecord())
    if not known.refunded:
        facts = facts._replace(
            known_orders={**facts.known_orders, refund.order_id: replace(known, refunded=True)},
            orders=_order_refunded(facts.orders, known.placed_at),
        )
    if refund.at <= now - FACT_RETENTION:
        return facts
    return facts._replace(refunds=_added(facts.refunds, RefundDay.of(refund)))


def with_review(facts: CustomerFacts, review: ReviewFact, now: datetime) -> CustomerFacts:
    facts = _seen(facts, review.at)
    if review.at <= now - FACT_RETENTION:
        return facts
    return facts._replace(reviews=_added(facts.reviews, ReviewDay.of(review.at, review.rating)))


def with_ticket(facts: CustomerFacts, ticket: TicketFact, now: datetime) -> CustomerFacts:
    """A ticket opened (counted once per ticket: the handler asks ``first_opening``)."""
    facts = _seen(facts, ticket.at)
    if ticket.at <= now - FACT_RETENTION:
        return facts
    day = TicketDay.of(ticket.at, ticket.kind, ticket.category)
    return facts._replace(tickets=_added(facts.tickets, day))


def with_complaint(facts: CustomerFacts, complaint: ComplaintFact, now: datetime) -> CustomerFacts:
    """A complaint (counted once per ticket: the handler asks ``first_complaint``)."""
    facts = _seen(facts, complaint.at)
    if complaint.at <= now - FACT_RETENTION:
        return facts
    day = ComplaintDay.of(complaint.at, complaint.category)
    return facts._replace(complaints=_added(facts.complaints, day))


def with_resolution(
    facts: CustomerFacts, resolution: ResolutionFact, now: datetime
) -> CustomerFacts:
    """A ticket resolved (counted once per ticket: the handler asks ``ticket_resolved``)."""
    if resolution.at <= now - FACT_RETENTION:
        return facts
    day = ResolutionDay.of(resolution.at, resolution.csat)
    return facts._replace(resolutions=_added(facts.resolutions, day))


def pruned(facts: CustomerFacts, now: datetime) -> CustomerFacts:
    """Facts without the days that have left their retention as of ``now`` (the same facts
    when none has)."""
    view_horizon, horizon = micros(now - VIEW_RETENTION), micros(now - FACT_RETENTION)
    views, orders = _kept(facts.views, view_horizon), _kept(facts.orders, horizon)
    refunds, reviews = _kept(facts.refunds, horizon), _kept(facts.reviews, horizon)
    tickets, complaints = _kept(facts.tickets, horizon), _kept(facts.complaints, horizon)
    resolutions = _kept(facts.resolutions, horizon)
    if (
        views is facts.views
        and orders is facts.orders
        and refunds is facts.refunds
        and reviews is facts.reviews
        and tickets is facts.tickets
        and complaints is facts.complaints
        and resolutions is facts.resolutions
    ):
        return facts
    return facts._replace(
        views=views,
        orders=orders,
        refunds=refunds,
        reviews=reviews,
        tickets=tickets,
        complaints=complaints,
        resolutions=resolutions,
    )


def _added(days: Mapping[int, D], fresh: D) -> dict[int, D]:
    key = fresh.start // DAY_US
    known = days.get(key)
    return {**days, key: fresh if known is None else known.plus(fresh)}


def _kept(days: Mapping[int, D], horizon: int) -> Mapping[int, D]:
    for day in days.values():
        if day.start <= horizon:
            return {key: day for key, day in days.items() if day.start > horizon}
    return days


def _order_refunded(
    days: Mapping[int, OrderDay], placed_at: datetime | None
) -> Mapping[int, OrderDay]:
    key = None if placed_at is None else day_of(placed_at)
    if key is None or key not in days:
        return days
    return {**days, key: days[key].with_refunded_order()}


def _seen(facts: CustomerFacts, at: datetime) -> CustomerFacts:
    if facts.last_seen_at is not None and facts.last_seen_at >= at:
        return facts
    return facts._replace(last_seen_at=at)


def _earliest(current: datetime | None, candidate: datetime) -> datetime:
    return candidate if current is None else min(current, candidate)


def _latest(current: datetime | None, candidate: datetime) -> datetime:
    return candidate if current is None else max(current, candidate)
