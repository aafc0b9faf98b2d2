"""A customer's event facts, kept compact: what the tag features are computed from. Pure.

Facts are stamped with the event's business time. Windowed facts are kept for a retention
period counted back from the latest evaluation moment (views 90 days, the rest 365 days), so a
tag window can never be longer than its facts' retention (the catalogue loader checks this).
Lifetime counters (orders, spend, first and last order) outlive the retention.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Protocol

VIEW_RETENTION = timedelta(days=90)
FACT_RETENTION = timedelta(days=365)
VIEWS_KEPT_PER_CATEGORY = 200
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
class Lifetime:
    orders: int = 0
    spend: Decimal = ZERO
    first_order_at: datetime | None = None
    last_order_at: datetime | None = None


@dataclass(frozen=True)
class CustomerFacts:
    views: Mapping[str, tuple[datetime, ...]] = field(default_factory=dict)
    orders: tuple[OrderFact, ...] = ()
    refunds: tuple[RefundFact, ...] = ()
    reviews: tuple[ReviewFact, ...] = ()
    tickets: tuple[TicketFact, ...] = ()
    complaints: tuple[ComplaintFact, ...] = ()
    resolutions: tuple[ResolutionFact, ...] = ()
    lifetime: Lifetime = Lifetime()

    def timestamps(self) -> dict[str, list[datetime]]:
        """The times of the windowed facts, by kind: as a window boundary passes one of them,
        a feature over that kind of fact may change."""
        return {
            "views": [t for times in self.views.values() for t in times],
            "orders": [fact.at for fact in self.orders],
            "refunds": [fact.at for fact in self.refunds],
            "reviews": [fact.at for fact in self.reviews],
            "tickets": [fact.at for fact in self.tickets],
            "complaints": [fact.at for fact in self.complaints],
            "resolutions": [fact.at for fact in self.resolutions],
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
    key = normalise_category(category)
    if at <= now - VIEW_RETENTION:
        return pruned(facts, now)
    times = sorted((*facts.views.get(key, ()), at))[-VIEWS_KEPT_PER_CATEGORY:]
    return pruned(replace(facts, views={**facts.views, key: tuple(times)}), now)


def with_order(facts: CustomerFacts, order: OrderFact, now: datetime) -> CustomerFacts:
    if any(known.order_id == order.order_id for known in facts.orders):
        return pruned(facts, now)  # the same order announced twice counts once
    lifetime = facts.lifetime
    lifetime = Lifetime(
        orders=lifetime.orders + 1,
        spend=lifetime.spend + order.amount,
        first_order_at=_earliest(lifetime.first_order_at, order.at),
        last_order_at=_latest(lifetime.last_order_at, order.at),
    )
    return pruned(replace(facts, orders=(*facts.orders, order), lifetime=lifetime), now)


def with_refund(facts: CustomerFacts, refund: RefundFact, now: datetime) -> CustomerFacts:
    return pruned(replace(facts, refunds=(*facts.refunds, refund)), now)


def with_review(facts: CustomerFacts, review: ReviewFact, now: datetime) -> CustomerFacts:
    return pruned(replace(facts, reviews=(*facts.reviews, review)), now)


def with_ticket(facts: CustomerFacts, ticket: TicketFact, now: datetime) -> CustomerFacts:
    if any(known.ticket_id == ticket.ticket_id for known in facts.tickets):
        return pruned(facts, now)
    return pruned(replace(facts, tickets=(*facts.tickets, ticket)), now)


def with_complaint(facts: CustomerFacts, complaint: ComplaintFact, now: datetime) -> CustomerFacts:
    if any(known.ticket_id == complaint.ticket_id for known in facts.complaints):
        return pruned(facts, now)
    return pruned(replace(facts, complaints=(*facts.complaints, complaint)), now)


def with_resolution(
    facts: CustomerFacts, resolution: ResolutionFact, now: datetime
) -> CustomerFacts:
    if any(known.ticket_id == resolution.ticket_id for known in facts.resolutions):
        return pruned(facts, now)
    return pruned(replace(facts, resolutions=(*facts.resolutions, resolution)), now)


def pruned(facts: CustomerFacts, now: datetime) -> CustomerFacts:
    """Facts without what has left its retention as of ``now``."""
    view_horizon, horizon = now - VIEW_RETENTION, now - FACT_RETENTION
    views = {
        category: kept
        for category, times in facts.views.items()
        if (kept := tuple(t for t in times if t > view_horizon))
    }
    return replace(
        facts,
        views=views,
        orders=tuple(f for f in facts.orders if f.at > horizon),
        refunds=tuple(f for f in facts.refunds if f.at > horizon),
        reviews=tuple(f for f in facts.reviews if f.at > horizon),
        tickets=tuple(f for f in facts.tickets if f.at > horizon),
        complaints=tuple(f for f in facts.complaints if f.at > horizon),
        resolutions=tuple(f for f in facts.resolutions if f.at > horizon),
    )


def _earliest(current: datetime | None, candidate: datetime) -> datetime:
    return candidate if current is None else min(current, candidate)


def _latest(current: datetime | None, candidate: datetime) -> datetime:
    return candidate if current is None else max(current, candidate)
