"""A customer's facts: ``CustomerFacts`` <-> the JSON document in ``customers.features``.

The document holds the figures per day of each kind of fact (``rules/days.py``), the lifetime
counters and when the customer was last seen; orders known by id are rows of their own
(``repository/orders.py``). Each day is a list of its figures in a fixed order (format 3;
format 2 wrote order days as objects with their names: twice the bytes to encode, decode and
store, for every customer the handlers read and write). Times are integer microseconds since
the epoch (exact, and small); money is a decimal string.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

from services.profile.rules.days import (
    DAY_US,
    ComplaintDay,
    OrderDay,
    RefundDay,
    ResolutionDay,
    ReviewDay,
    TicketDay,
    ViewDay,
    micros,
    moment,
)
from services.profile.rules.facts import CustomerFacts, Lifetime

FORMAT_VERSION = 3
Day = TypeVar(
    "Day", ViewDay, OrderDay, RefundDay, ReviewDay, TicketDay, ComplaintDay, ResolutionDay
)


def _optional_micros(value: datetime | None) -> int | None:
    return None if value is None else micros(value)


def _optional_moment(value: int | None) -> datetime | None:
    return None if value is None else moment(value)


def _optional_money(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


class StoredDays:
    """The stored form of each day decoded in a transaction (``tx.held(StoredDays)``): a day
    the transaction did not change is written back as it was read, not encoded again."""

    def __init__(self) -> None:
        self._entries: dict[int, tuple[object, Any]] = {}

    def remember(self, day: object, entry: Any) -> None:
        self._entries[id(day)] = (day, entry)

    def entry(self, day: object) -> Any:
        found = self._entries.get(id(day))
        return found[1] if found is not None and found[0] is day else None


def facts_to_json(facts: CustomerFacts, stored: StoredDays | None = None) -> dict[str, Any]:
    lifetime = facts.lifetime
    return {
        "v": FORMAT_VERSION,
        "views": [[d.start, d.by_category] for d in facts.views.values()],
        "orders": [_order_day(d, stored) for d in facts.orders.values()],
        "refunds": [[d.start, d.by_reason, str(d.amount)] for d in facts.refunds.values()],
        "reviews": [
            [d.start, d.reviews, d.rating_sum, d.low, d.high] for d in facts.reviews.values()
        ],
        "tickets": [[d.start, d.by_category, d.inquiries] for d in facts.tickets.values()],
        "complaints": [[d.start, d.by_category] for d in facts.complaints.values()],
        "resolutions": [[d.start, d.low, d.high] for d in facts.resolutions.values()],
        "lifetime": {
            "orders": lifetime.orders,
            "spend": str(lifetime.spend),
            "first_order": _optional_micros(lifetime.first_order_at),
            "last_order": _optional_micros(lifetime.last_order_at),
        },
        "last_seen": _optional_micros(facts.last_seen_at),
    }


def _order_day(day: OrderDay, stored: StoredDays | None) -> list[Any]:
    entry = None if stored is None else stored.entry(day)
    if entry is not None:
        return entry  # type: ignore[no-any-return]
    return [
        day.start,
        day.orders,
        str(day.amount),
        None if day.max_amount is None else str(day.max_amount),
        day.max_items,
        [[list(categories), n] for categories, n in day.by_categories.items()],
        {c: str(v) for c, v in day.category_values.items()},
        day.channels,
        day.priced,
        day.discounted,
        str(day.list_value),
        str(day.discount),
        day.refunded,
    ]


def _order_day_from(o: list[Any]) -> OrderDay:
    return OrderDay(
        o[0],
        o[1],
        Decimal(o[2]),
        _optional_money(o[3]),
        o[4],
        {tuple(categories): n for categories, n in o[5]},
        {c: Decimal(v) for c, v in o[6].items()},
        o[7],
        o[8],
        o[9],
        Decimal(o[10]),
        Decimal(o[11]),
        o[12],
    )


def _days(entries: list[Any], build: Callable[[Any], Day]) -> dict[int, Day]:
    """Days by their key (``day_of``), from entries whose first item is ``start``."""
    return {entry[0] // DAY_US: build(entry) for entry in entries}


def facts_from_json(
    data: Mapping[str, Any] | None, stored: StoredDays | None = None
) -> CustomerFacts:
    """The facts of a stored document (None: none yet); ``stored`` remembers the stored form
    of the days that cost most to encode (orders)."""
    if not data:
        return CustomerFacts()
    lifetime = data["lifetime"]

    def order_day(entry: list[Any]) -> OrderDay:
        day = _order_day_from(entry)
        if stored is not None:
            stored.remember(day, entry)
        return day

    return CustomerFacts(
        views=_days(data["views"], lambda v: ViewDay(v[0], v[1])),
        orders=_days(data["orders"], order_day),
        refunds=_days(data["refunds"], lambda r: RefundDay(r[0], r[1], Decimal(r[2]))),
        reviews=_days(data["reviews"], lambda r: ReviewDay(*r)),
        tickets=_days(data["tickets"], lambda t: TicketDay(*t)),
        complaints=_days(data["complaints"], lambda c: ComplaintDay(*c)),
        resolutions=_days(data["resolutions"], lambda r: ResolutionDay(*r)),
        lifetime=Lifetime(
            orders=lifetime["orders"],
            spend=Decimal(lifetime["spend"]),
            first_order_at=_optional_moment(lifetime["first_order"]),
            last_order_at=_optional_moment(lifetime["last_order"]),
        ),
        last_seen_at=_optional_moment(data["last_seen"]),
    )
