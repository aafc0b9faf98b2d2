"""The figures one day of a customer's facts adds up to, one small class per kind. Pure.

A day's figures are running aggregates (counts, sums, maxima, counts by category, reason or
channel), never the facts themselves; ``plus`` adds two days (or a day and a window total) up,
so a window's figures are the sum of its days'. ``start`` is when the day's first fact
happened, in microseconds since the epoch (``first`` as a datetime): the whole day counts in a
window while that fact does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from types import MappingProxyType
from typing import Any, NamedTuple, Protocol, Self

# An order is "discounted" when it was paid at least this share below its items' list value.
DISCOUNT_MIN_SHARE = Decimal("0.05")
_ZERO = Decimal("0.00")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
DAY_US = 86_400_000_000


def micros(moment: datetime) -> int:
    """``moment`` in microseconds since the epoch."""
    since = moment - _EPOCH
    return since.days * DAY_US + since.seconds * 1_000_000 + since.microseconds


def moment(value: int) -> datetime:
    """The moment ``value`` microseconds after the epoch."""
    return _EPOCH + timedelta(microseconds=value)


def day_of(moment: datetime) -> int:
    """The UTC day of ``moment``, counted from the epoch."""
    return micros(moment) // DAY_US


class DayFigures(Protocol):
    @property
    def start(self) -> int: ...

    @property
    def first(self) -> datetime: ...

    def plus(self, other: Self) -> Self: ...

    @classmethod
    def running(cls, start: int, days: Sequence[Self], ends: Sequence[int]) -> list[Self]: ...


# Day figures are named tuples: a customer's days are decoded, added up and built anew for
# every evaluation, and a tuple is several times cheaper to make than a frozen dataclass.


def _total(empty: Any, days: Sequence[Any]) -> Any:
    """``days`` added up (nothing: ``empty``)."""
    if not days:
        return empty
    found = days[0]
    for day in days[1:]:
        found = found.plus(day)
    return found


def _running(empty: Any, days: Sequence[Any], ends: Sequence[int]) -> list[Any]:
    """The totals of ``days[:end]`` for each of the ascending ``ends``, each from the last."""
    totals, found, done = [], None, 0
    for end in ends:
        if end > done:
            more = _total(empty, days[done:end])
            found = more if found is None else found.plus(more)
            done = end
        totals.append(empty if found is None else found)
    return totals


Counts = Mapping[str, int]
_NONE: Mapping[Any, Any] = MappingProxyType({})


def _add_counts(a: Counts, b: Counts) -> dict[str, int]:
    total = dict(a)
    for key, n in b.items():
        total[key] = total.get(key, 0) + n
    return total


def _add_sums(a: Mapping[str, Decimal], b: Mapping[str, Decimal]) -> dict[str, Decimal]:
    total = dict(a)
    for key, value in b.items():
        total[key] = total.get(key, _ZERO) + value
    return total


class ViewDay(NamedTuple):
    start: int
    by_category: Counts = _NONE

    @property
    def first(self) -> datetime:
        """When the day's first fact happened."""
        return moment(self.start)

    @classmethod
    def of(cls, at: datetime, category: str) -> ViewDay:
        return cls(micros(at), {category: 1})

    @classmethod
    def running(cls, start: int, days: Sequence[ViewDay], ends: Sequence[int]) -> list[ViewDay]:
        return _running(cls(start), days, ends)

    def plus(self, other: ViewDay) -> ViewDay:
        return ViewDay(
            min(self.start, other.start), _add_counts(self.by_category, other.by_category)
        )


class OrderDay(NamedTuple):
    start: int
    orders: int = 0
    amount: Decimal = _ZERO
    max_amount: Decimal | None = None
    max_items: int = 0
    # Orders by the set of categories they had items of (an order counts once per group).
    by_categories: Mapping[tuple[str, ...], int] = _NONE
    category_values: Mapping[str, Decimal] = _NONE
    channels: Counts = _NONE
    priced: int = 0  # orders with a list value (with items)
    discounted: int = 0  # of those, paid at least DISCOUNT_MIN_SHARE below it
    list_value: Decimal = _ZERO  # of the priced orders
    discount: Decimal = _ZERO  # list value minus amount paid, of the priced orders
    refunded: int = 0  # orders of the day refunded (at any time)

    @property
    def first(self) -> datetime:
        """When the day's first fact happened."""
        return moment(self.start)

    @classmethod
    def of(
        cls,
        at: datetime,
        amount: Decimal,
        list_value: Decimal | None,
        quantity: int,
        category_values: Mapping[str, Decimal],
        channel: str | None,
        *,
        refunded: bool,
    ) -> OrderDay:
        categories = tuple(sorted(category_values))
        priced = bool(list_value)
        listed = list_value if priced and list_value is not None else _ZERO
        return cls(
            micros(at),
            1,
            amount,
            amount,
            quantity,
            {categories: 1} if categories else {},
            dict(category_values),
            {} if channel is None else {channel: 1},
            int(priced),
            int(priced and amount <= listed * (1 - DISCOUNT_MIN_SHARE)),
            listed,
            max(_ZERO, listed - amount) if priced else _ZERO,
            int(refunded),
        )

    def plus(self, other: OrderDay) -> OrderDay:
        return OrderDay.total(self.start, (self, other))

    @classmethod
    def total(cls, start: int, days: Sequence[OrderDay]) -> OrderDay:
        if len(days) < 2:
            return days[0] if days else cls(start)
        return cls.running(start, days, (len(days),))[0]

    @classmethod
    def running(cls, start: int, days: Sequence[OrderDay], ends: Sequence[int]) -> list[OrderDay]:
        """The totals of ``days[:end]`` for each of the ascending ``ends``, in one pass (adding
        two at a time copies the maps each time)."""
        totals: list[OrderDay] = []
        by_categories: dict[tuple[str, ...], int] = {}
        category_values: dict[str, Decimal] = {}
        channels: dict[str, int] = {}
        first: int | None = None
        orders, items, priced, discounted, refunded = 0, 0, 0, 0, 0
        amount, list_value, discount = _ZERO, _ZERO, _ZERO
        max_amount: Decimal | None = None
        done = 0
        for end in ends:
            for day in days[done:end]:
                first = day.start if first is None else min(first, day.start)
                orders += day.orders
                amount += day.amount
                if day.max_amount is not None and (
                    max_amount is None or day.max_amount > max_amount
                ):
                    max_amount = day.max_amount
                items = max(items, day.max_items)
                priced += day.priced
                discounted += day.discounted
                list_value += day.list_value
                discount += day.discount
                refunded += day.refunded
                for categories, n in day.by_categories.items():
                    by_categories[categories] = by_categories.get(categories, 0) + n
                for category, value in day.category_values.items():
                    category_values[category] = category_values.get(category, _ZERO) + value
                for channel, n in day.channels.items():
                    channels[channel] = channels.get(channel, 0) + n
            done = max(done, end)
            if first is None:
                totals.append(cls(start))
                continue
            totals.append(
                cls(
                    first,
                    orders,
                    amount,
                    max_amount,
                    items,
                    dict(by_categories),
                    dict(category_values),
                    dict(channels),
                    priced,
                    discounted,
                    list_value,
                    discount,
                    refunded,
                )
            )
        return totals

    def with_refunded_order(self) -> OrderDay:
        return self._replace(refunded=self.refunded + 1)


class RefundDay(NamedTuple):
    start: int
    by_reason: Counts = _NONE
    amount: Decimal = _ZERO

    @property
    def first(self) -> datetime:
        """When the day's first fact happened."""
        return moment(self.start)

    @classmethod
    def of(cls, refund: _Refund) -> RefundDay:
        return cls(micros(refund.at), {refund.reason: 1}, refund.amount)

    @classmethod
    def running(cls, start: int, days: Sequence[RefundDay], ends: Sequence[int]) -> list[RefundDay]:
        return _running(cls(start), days, ends)

    def plus(self, other: RefundDay) -> RefundDay:
        return RefundDay(
            min(self.start, other.start),
            _add_counts(self.by_reason, other.by_reason),
            self.amount + other.amount,
        )


class _Refund(Protocol):
    @property
    def at(self) -> datetime: ...
    @property
    def reason(self) -> str: ...
    @property
    def amount(self) -> Decimal: ...


class ReviewDay(NamedTuple):
    start: int
    reviews: int = 0
    rating_sum: int = 0
    low: int = 0  # rated 1-2
    high: int = 0  # rated 4-5

    @property
    def first(self) -> datetime:
        """When the day's first fact happened."""
        return moment(self.start)

    @classmethod
    def of(cls, at: datetime, rating: int) -> ReviewDay:
        return cls(micros(at), 1, rating, int(rating <= 2), int(rating >= 4))

    @classmethod
    def running(cls, start: int, days: Sequence[ReviewDay], ends: Sequence[int]) -> list[ReviewDay]:
        return _running(cls(start), days, ends)

    def plus(self, other: ReviewDay) -> ReviewDay:
        return ReviewDay(
            min(self.start, other.start),
            self.reviews + other.reviews,
            self.rating_sum + other.rating_sum,
            self.low + other.low,
            self.high + other.high,
        )


class TicketDay(NamedTuple):
    start: int
    by_category: Counts = _NONE
    inquiries: int = 0  # tickets of kind inquiry

    @property
    def first(self) -> datetime:
        """When the day's first fact happened."""
        return moment(self.start)

    @classmethod
    def of(cls, at: datetime, kind: str, category: str) -> TicketDay:
        return cls(micros(at), {category: 1}, int(kind == "inquiry"))

    @classmethod
    def running(cls, start: int, days: Sequence[TicketDay], ends: Sequence[int]) -> list[TicketDay]:
        return _running(cls(start), days, ends)

    def plus(self, other: TicketDay) -> TicketDay:
        return TicketDay(
            min(self.start, other.start),
            _add_counts(self.by_category, other.by_category),
            self.inquiries + other.inquiries,
        )


class ComplaintDay(NamedTuple):
    start: int
    by_category: Counts = _NONE

    @property
    def first(self) -> datetime:
        """When the day's first fact happened."""
        return moment(self.start)

    @classmethod
    def of(cls, at: datetime, category: str) -> ComplaintDay:
        return cls(micros(at), {category: 1})

    @classmethod
    def running(
        cls, start: int, days: Sequence[ComplaintDay], ends: Sequence[int]
    ) -> list[ComplaintDay]:
        return _running(cls(start), days, ends)

    def plus(self, other: ComplaintDay) -> ComplaintDay:
        return ComplaintDay(
            min(self.start, other.start), _add_counts(self.by_category, other.by_category)
        )


class ResolutionDay(NamedTuple):
    start: int
    low: int = 0  # CSAT 1-2
    high: int = 0  # CSAT 4-5

    @property
    def first(self) -> datetime:
        """When the day's first fact happened."""
        return moment(self.start)

    @classmethod
    def of(cls, at: datetime, csat: int | None) -> ResolutionDay:
        return cls(
            micros(at), int(csat is not None and csat <= 2), int(csat is not None and csat >= 4)
        )

    @classmethod
    def running(
        cls, start: int, days: Sequence[ResolutionDay], ends: Sequence[int]
    ) -> list[ResolutionDay]:
        return _running(cls(start), days, ends)

    def plus(self, other: ResolutionDay) -> ResolutionDay:
        return ResolutionDay(
            min(self.start, other.start), self.low + other.low, self.high + other.high
        )
