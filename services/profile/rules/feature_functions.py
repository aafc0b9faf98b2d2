"""How each feature is computed from a customer's facts at ``inputs.now``. Pure.

Every function takes (inputs, window, argument); ``window`` is None for lifetime features.
Windowed features read the window's total of their kind of day figures (``rules/days.py``),
added up once per evaluation (``ProfileInputs.total``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from decimal import Decimal
from functools import lru_cache
from typing import Any, TypeVar

from services.profile.rules.days import (
    ComplaintDay,
    DayFigures,
    OrderDay,
    RefundDay,
    ResolutionDay,
    ReviewDay,
    TicketDay,
    ViewDay,
    micros,
)
from services.profile.rules.facts import ZERO, CustomerFacts

CENT = Decimal("0.01")
Window = timedelta | None
D = TypeVar("D", bound=DayFigures)


@dataclass(frozen=True)
class ProfileInputs:
    """Everything the features of one customer are computed from, as of ``now``."""

    facts: CustomerFacts
    now: datetime
    timezone: tzinfo
    category_groups: Mapping[str, frozenset[str]]
    registered_at: datetime | None = None
    birthday: date | None = None
    tier: str | None = None
    silenced_until: datetime | None = None
    open_tickets: int = 0
    consents: Mapping[str, bool] = field(default_factory=dict)
    # The category groups a category is in (memoised by ``Tagging``); by default worked out.
    groups_of: Callable[[str], frozenset[str]] | None = field(
        default=None, compare=False, repr=False
    )
    # The windows each kind of fact is counted in by the catalogue and the 360 (``Tagging``):
    # the first total asked of a kind adds up all of them in one pass over its days.
    windows: Mapping[str, tuple[timedelta, ...]] = field(
        default_factory=dict, compare=False, repr=False
    )
    # Window totals already added up for this evaluation, by (kind, window).
    _totals: dict[tuple[str, Window], Any] = field(default_factory=dict, compare=False, repr=False)
    now_us: int = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "now_us", micros(self.now))

    def within(self, moment: datetime | None, window: Window) -> bool:
        """``moment`` lies in ``(now - window, now]``: exactly a window old is outside."""
        assert window is not None, "a windowed feature needs a window"
        return moment is not None and self.now - window < moment <= self.now

    def added_up(self, kind: str, window: timedelta) -> Any:
        """The window's figures of ``kind`` if a feature has added them up already (None:
        not yet)."""
        return self._totals.get((kind, window))

    def days_in(self, kind: str, window: timedelta) -> list[Any]:
        """The days of ``kind`` counted in the window, one by one: those ``total`` adds up
        (first fact after ``now - window``, not after ``now``), for a caller that needs one
        figure of them, not all."""
        upper = self.now_us
        lower = upper - _micros_of(window)
        return [day for day in getattr(self.facts, kind).values() if lower < day.start <= upper]

    def total(self, kind: str, window: Window, figures: type[D]) -> D:
        """The figures of the days of ``kind`` whose first fact lies in the window. Windows of
        a kind are nested, so every window of the kind is added up in one pass, latest day
        first, the first time one is asked."""
        assert window is not None, "a windowed feature needs a window"
        key = (kind, window)
        found: D | None = self._totals.get(key)
        if found is None:
            days = getattr(self.facts, kind)
            upper = self.now_us
            latest_first = sorted(
                (day for day in days.values() if day.start <= upper),
                key=_start,
                reverse=True,
            )
            windows = sorted({window, *self.windows.get(kind, ())})
            ends, end = [], 0
            for each in windows:
                lower = upper - _micros_of(each)
                while end < len(latest_first) and latest_first[end].start > lower:
                    end += 1
                ends.append(end)
            totals = figures.running(upper, latest_first, ends)
            for each, each_total in zip(windows, totals, strict=True):
                self._totals[(kind, each)] = each_total
            found = self._totals[key]
        return found


def _start(day: DayFigures) -> int:
    return day.start


@lru_cache(maxsize=64)
def _micros_of(window: timedelta) -> int:
    return window // timedelta(microseconds=1)


@lru_cache(maxsize=4096)
def in_group(category: str, members: frozenset[str]) -> bool:
    """A category path such as ``appliances/robot_vacuum`` is in a group if any part is."""
    parts = {part.strip("_") for part in re.split(r"[/>|]", category)}
    return category in members or not parts.isdisjoint(members)


def ratio(part: int | Decimal, whole: int | Decimal) -> Decimal | None:
    return None if not whole else Decimal(part) / Decimal(whole)


def _views(i: ProfileInputs, w: Window) -> ViewDay:
    return i.total("views", w, ViewDay)


def _orders(i: ProfileInputs, w: Window) -> OrderDay:
    return i.total("orders", w, OrderDay)


def _refunds(i: ProfileInputs, w: Window) -> RefundDay:
    return i.total("refunds", w, RefundDay)


def _reviews(i: ProfileInputs, w: Window) -> ReviewDay:
    return i.total("reviews", w, ReviewDay)


def _tickets(i: ProfileInputs, w: Window) -> TicketDay:
    return i.total("tickets", w, TicketDay)


def order_count(i: ProfileInputs, w: Window, group: str | None) -> int:
    if group is None:
        return _orders(i, w).orders
    return _by_group(i, w, "orders by group", _orders_of_groups).get(group, 0)


def groups_of(category: str, category_groups: Mapping[str, frozenset[str]]) -> frozenset[str]:
    """The groups ``category`` is in."""
    return frozenset(g for g, members in category_groups.items() if in_group(category, members))


def _groups(i: ProfileInputs, category: str) -> frozenset[str]:
    return groups_of(category, i.category_groups) if i.groups_of is None else i.groups_of(category)


def _orders_of_groups(i: ProfileInputs, w: Window) -> dict[str, int]:
    """The window's orders with an item of each group (an order counts once per group)."""
    found: dict[str, int] = {}
    for categories, n in _orders(i, w).by_categories.items():
        for group in frozenset().union(*(_groups(i, c) for c in categories)):
            found[group] = found.get(group, 0) + n
    return found


def _spend_of_groups(i: ProfileInputs, w: Window) -> dict[str, Decimal]:
    found: dict[str, Decimal] = {}
    for category, value in _orders(i, w).category_values.items():
        for group in _groups(i, category):
            found[group] = found.get(group, ZERO) + value
    return found


def _views_of_groups(i: ProfileInputs, w: Window) -> dict[str, int]:
    found: dict[str, int] = {}
    for category, n in _views(i, w).by_category.items():
        for group in _groups(i, category):
            found[group] = found.get(group, 0) + n
    return found


G = TypeVar("G", int, Decimal)


def _by_group(
    i: ProfileInputs,
    w: Window,
    name: str,
    work_out: Callable[[ProfileInputs, Window], dict[str, G]],
) -> dict[str, G]:
    """A window's figures per category group, worked out once per evaluation."""
    key = (name, w)
    found: dict[str, G] | None = i._totals.get(key)
    if found is None:
        found = i._totals[key] = work_out(i, w)
    return found


def views(i: ProfileInputs, w: Window, group: str | None) -> int:
    if group is None:
        return sum(_views(i, w).by_category.values())
    return _by_group(i, w, "views by group", _views_of_groups).get(group, 0)


def viewed_categories(i: ProfileInputs, w: Window, _: str | None) -> int:
    return sum(1 for n in _views(i, w).by_category.values() if n)


def spend(i: ProfileInputs, w: Window, group: str | None) -> Decimal:
    if group is None:
        return _orders(i, w).amount
    return _by_group(i, w, "spend by group", _spend_of_groups).get(group, ZERO)


def refund_amount(i: ProfileInputs, w: Window, _: str | None) -> Decimal:
    return _refunds(i, w).amount


def net_spend(i: ProfileInputs, w: Window, _: str | None) -> Decimal:
    return spend(i, w, None) - refund_amount(i, w, None)


def avg_order_value(i: ProfileInputs, w: Window, _: str | None) -> Decimal | None:
    orders = _orders(i, w)
    average = ratio(orders.amount, orders.orders)
    return None if average is None else average.quantize(CENT)


def max_order_value(i: ProfileInputs, w: Window, _: str | None) -> Decimal | None:
    return _orders(i, w).max_amount


def max_order_items(i: ProfileInputs, w: Window, _: str | None) -> int:
    return _orders(i, w).max_items


def categories_bought(i: ProfileInputs, w: Window, _: str | None) -> int:
    return len(_orders(i, w).category_values)


def discounted_orders_share(i: ProfileInputs, w: Window, _: str | None) -> Decimal | None:
    orders = _orders(i, w)
    return ratio(orders.discounted, orders.priced)


def discount_share(i: ProfileInputs, w: Window, _: str | None) -> Decimal | None:
    orders = _orders(i, w)
    return ratio(orders.discount, orders.list_value)


def channel_share(i: ProfileInputs, w: Window, channel: str | None) -> Decimal | None:
    channels = _orders(i, w).channels
    return ratio(channels.get(channel or "", 0), sum(channels.values()))


def channels(i: ProfileInputs, w: Window, _: str | None) -> int:
    return sum(1 for n in _orders(i, w).channels.values() if n)


def refunds(i: ProfileInputs, w: Window, reason: str | None) -> int:
    by_reason = _refunds(i, w).by_reason
    return sum(by_reason.values()) if reason is None else by_reason.get(reason, 0)


def refund_rate(i: ProfileInputs, w: Window, _: str | None) -> Decimal | None:
    """Of the orders placed in the window, the share refunded (in part or in full)."""
    orders = _orders(i, w)
    return ratio(orders.refunded, orders.orders)


def reviews(i: ProfileInputs, w: Window, _: str | None) -> int:
    return _reviews(i, w).reviews


def avg_rating(i: ProfileInputs, w: Window, _: str | None) -> Decimal | None:
    found = _reviews(i, w)
    return ratio(found.rating_sum, found.reviews)


def low_ratings(i: ProfileInputs, w: Window, _: str | None) -> int:
    return _reviews(i, w).low


def high_ratings(i: ProfileInputs, w: Window, _: str | None) -> int:
    return _reviews(i, w).high


def inquiries(i: ProfileInputs, w: Window, _: str | None) -> int:
    return _tickets(i, w).inquiries


def tickets(i: ProfileInputs, w: Window, category: str | None) -> int:
    by_category = _tickets(i, w).by_category
    return sum(by_category.values()) if category is None else by_category.get(category, 0)


def complaints(i: ProfileInputs, w: Window, category: str | None) -> int:
    by_category = i.total("complaints", w, ComplaintDay).by_category
    return sum(by_category.values()) if category is None else by_category.get(category, 0)


def low_csat(i: ProfileInputs, w: Window, _: str | None) -> int:
    return i.total("resolutions", w, ResolutionDay).low


def high_csat(i: ProfileInputs, w: Window, _: str | None) -> int:
    return i.total("resolutions", w, ResolutionDay).high


def registrations(i: ProfileInputs, w: Window, _: str | None) -> int:
    return int(i.within(i.registered_at, w))


def lifetime_orders(i: ProfileInputs, _w: Window, _a: str | None) -> int:
    return i.facts.lifetime.orders


def lifetime_spend(i: ProfileInputs, _w: Window, _a: str | None) -> Decimal:
    return i.facts.lifetime.spend


def open_tickets(i: ProfileInputs, _w: Window, _a: str | None) -> int:
    return i.open_tickets


def tier(i: ProfileInputs, _w: Window, _a: str | None) -> str | None:
    return i.tier


def silenced(i: ProfileInputs, _w: Window, _a: str | None) -> bool:
    return i.silenced_until is not None and i.silenced_until > i.now


def birthday_this_month(i: ProfileInputs, _w: Window, _a: str | None) -> bool:
    return i.birthday is not None and i.birthday.month == i.now.astimezone(i.timezone).month


def consent(i: ProfileInputs, _w: Window, channel: str | None) -> bool:
    return bool(i.consents.get(channel or ""))


def consented_channels(i: ProfileInputs, _w: Window, _a: str | None) -> int:
    return sum(1 for given in i.consents.values() if given)


def consent_choices(i: ProfileInputs, _w: Window, _a: str | None) -> int:
    """Channels the customer stated a choice for, yes or no (unknown is not a no)."""
    return len(i.consents)
