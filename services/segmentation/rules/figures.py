"""What segmentation keeps about a customer, bounded by the window, and how each new fact
changes it. Pure: no I/O, no clock.

No rule needs a customer's whole history:
- the kept orders (not refunded in full) placed within the window, with their net spend,
  give frequency and monetary, and let a refund find what it changes;
- the latest kept order ever gives recency;
- net spend per business month, for the last ``months_kept`` months, feeds the churn rule
  (a refund nets against the month of its order);
- the complaints opened within the window, and the behaviour tags of the newest snapshot.

Money is in fen (integer hundredths of a yuan), as it is stored.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from services.segmentation.rules.facts import OrderFact
from shared.money import to_fen

RecentOrder = tuple[datetime, int]
"""(placed_at, net spend in fen) of a kept order."""


@dataclass(frozen=True)
class CustomerFigures:
    recent_orders: tuple[RecentOrder, ...] = ()
    """Kept orders placed within the window, oldest first (late arrivals until the next prune)."""
    last_order_at: datetime | None = None
    """When the latest kept order was placed, ever: recency counts from it."""
    monthly_net: tuple[tuple[date, int], ...] = ()
    """Net spend (fen) of the orders placed in each business month, oldest first; months
    without any are left out."""
    complaints: tuple[datetime, ...] = ()
    """When each complaint within the window was opened, oldest first."""
    tags: frozenset[str] = field(default_factory=frozenset)
    complete_since: datetime | None = None
    """Every kept order placed after this moment is in ``recent_orders`` (None: every kept
    order is); older ones were left behind by the window."""

    @property
    def newest_order_at(self) -> datetime | None:
        """When the newest kept order counted here was placed."""
        placed = [at for at, _ in self.recent_orders]
        if self.last_order_at is not None:
            placed.append(self.last_order_at)
        return max(placed, default=None)


@dataclass(frozen=True)
class RefundOutcome:
    figures: CustomerFigures
    last_order_unknown: bool
    """The refund took back the latest kept order and the one before it has left the window:
    the caller looks it up (``with_last_order``)."""


def month_of(at: datetime, timezone: str) -> date:
    local = at.astimezone(_zone(timezone))
    return date(local.year, local.month, 1)


@cache
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def months_before(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 - count
    return date(index // 12, index % 12 + 1, 1)


def with_order(figures: CustomerFigures, order: OrderFact, timezone: str) -> CustomerFigures:
    """A newly placed order (``refunded`` holds refunds that arrived before it)."""
    net = to_fen(order.net)
    monthly = _added(figures.monthly_net, month_of(order.placed_at, timezone), net)
    if order.fully_refunded:
        return replace(figures, monthly_net=monthly)
    last = figures.last_order_at
    return replace(
        figures,
        recent_orders=_inserted(figures.recent_orders, (order.placed_at, net)),
        last_order_at=order.placed_at if last is None else max(last, order.placed_at),
        monthly_net=monthly,
    )


def with_refund(
    figures: CustomerFigures, before: OrderFact, after: OrderFact, timezone: str
) -> RefundOutcome:
    """An order refunded (again): ``before`` and ``after`` are the order around the refund.
    The refund nets against the month the order was placed in."""
    net_before, net_after = to_fen(before.net), to_fen(after.net)
    month = month_of(before.placed_at, timezone)
    updated = replace(
        figures, monthly_net=_added(figures.monthly_net, month, net_after - net_before)
    )
    if before.fully_refunded:
        return RefundOutcome(updated, last_order_unknown=False)
    recent = list(figures.recent_orders)
    was = (before.placed_at, net_before)
    if was in recent:
        recent.remove(was)
        if not after.fully_refunded:
            bisect.insort(recent, (after.placed_at, net_after))
    updated = replace(updated, recent_orders=tuple(recent))
    if not after.fully_refunded or before.placed_at != figures.last_order_at:
        return RefundOutcome(updated, last_order_unknown=False)
    # The latest kept order is refunded in full: the latest of the others takes its place.
    since = figures.complete_since
    complete = [at for at, _ in recent if since is None or at > since]
    if complete or since is None:
        return RefundOutcome(replace(updated, last_order_at=max(complete, default=None)), False)
    return RefundOutcome(replace(updated, last_order_at=None), last_order_unknown=True)


def with_last_order(figures: CustomerFigures, last_order_at: datetime | None) -> CustomerFigures:
    return replace(figures, last_order_at=last_order_at)


def with_complaint(figures: CustomerFigures, opened_at: datetime) -> CustomerFigures:
    complaints = list(figures.complaints)
    bisect.insort(complaints, opened_at)
    return replace(figures, complaints=tuple(complaints))


def with_tags(figures: CustomerFigures, tags: Iterable[str]) -> CustomerFigures:
    return replace(figures, tags=frozenset(tags))


def pruned(
    figures: CustomerFigures, now: datetime, *, window: timedelta, months_kept: int, timezone: str
) -> CustomerFigures:
    """What is still needed at ``now``: orders and complaints of the window, and the last
    ``months_kept`` months before the current one."""
    start = now - window
    orders, complaints, monthly = figures.recent_orders, figures.complaints, figures.monthly_net
    if orders and orders[0][0] <= start:
        orders = tuple(order for order in orders if order[0] > start)
    if complaints and complaints[0] <= start:
        complaints = tuple(at for at in complaints if at > start)
    if monthly:
        oldest_month = months_before(month_of(now, timezone), months_kept)
        if monthly[0][0] < oldest_month:
            monthly = tuple(item for item in monthly if item[0] >= oldest_month)
    return replace(
        figures,
        recent_orders=orders,
        complaints=complaints,
        monthly_net=monthly,
        complete_since=start,
    )


def figures_of(
    orders: Iterable[OrderFact],
    *,
    complaints: Iterable[datetime] = (),
    tags: Iterable[str] = (),
    timezone: str,
) -> CustomerFigures:
    """The figures of a customer known by all their orders and complaints."""
    figures = CustomerFigures(tags=frozenset(tags))
    for order in orders:
        figures = with_order(figures, order, timezone)
    for opened_at in complaints:
        figures = with_complaint(figures, opened_at)
    return figures


def _inserted(orders: tuple[RecentOrder, ...], order: RecentOrder) -> tuple[RecentOrder, ...]:
    if not orders or orders[-1] <= order:
        return (*orders, order)
    ordered = list(orders)
    bisect.insort(ordered, order)
    return tuple(ordered)


def _added(
    monthly: tuple[tuple[date, int], ...], month: date, fen: int
) -> tuple[tuple[date, int], ...]:
    totals = dict(monthly)
    total = totals.get(month, 0) + fen
    if total:
        totals[month] = total
    else:
        totals.pop(month, None)
    return tuple(sorted(totals.items()))
