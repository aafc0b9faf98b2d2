"""How each feature is computed from a customer's facts at ``inputs.now``. Pure.

Every function takes (inputs, window, argument); ``window`` is None for lifetime features.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from decimal import Decimal
from typing import Protocol, TypeVar

from services.profile.rules.facts import ZERO, CustomerFacts, OrderFact

# An order is "discounted" when it was paid at least this share below its items' list value.
DISCOUNT_MIN_SHARE = Decimal("0.05")
CENT = Decimal("0.01")
Window = timedelta | None


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

    def within(self, moment: datetime | None, window: Window) -> bool:
        """``moment`` lies in ``(now - window, now]``: exactly a window old is outside."""
        assert window is not None, "a windowed feature needs a window"
        return moment is not None and self.now - window < moment <= self.now


class _Timed(Protocol):
    @property
    def at(self) -> datetime: ...


TimedT = TypeVar("TimedT", bound=_Timed)


def in_group(category: str, members: frozenset[str]) -> bool:
    """A category path such as ``appliances/robot_vacuum`` is in a group if any part is."""
    parts = {part.strip("_") for part in re.split(r"[/>|]", category)}
    return category in members or not parts.isdisjoint(members)


def recent(facts: Iterable[TimedT], i: ProfileInputs, window: Window) -> list[TimedT]:
    return [fact for fact in facts if i.within(fact.at, window)]


def ratio(part: int | Decimal, whole: int | Decimal) -> Decimal | None:
    return None if not whole else Decimal(part) / Decimal(whole)


def orders(i: ProfileInputs, w: Window, group: str | None = None) -> list[OrderFact]:
    found = recent(i.facts.orders, i, w)
    if group is None:
        return found
    members = i.category_groups[group]
    return [o for o in found if any(in_group(c, members) for c in o.category_values)]


def order_count(i: ProfileInputs, w: Window, group: str | None) -> int:
    return len(orders(i, w, group))


def views(i: ProfileInputs, w: Window, group: str | None) -> int:
    members = None if group is None else i.category_groups[group]
    return sum(
        1
        for category, times in i.facts.views.items()
        if members is None or in_group(category, members)
        for t in times
        if i.within(t, w)
    )


def viewed_categories(i: ProfileInputs, w: Window, _: str | None) -> int:
    return sum(1 for times in i.facts.views.values() if any(i.within(t, w) for t in times))


def spend(i: ProfileInputs, w: Window, group: str | None) -> Decimal:
    if group is None:
        return sum((o.amount for o in orders(i, w)), ZERO)
    members = i.category_groups[group]
    lines = (v for o in orders(i, w) for c, v in o.category_values.items() if in_group(c, members))
    return sum(lines, ZERO)


def refund_amount(i: ProfileInputs, w: Window, _: str | None) -> Decimal:
    return sum((r.amount for r in recent(i.facts.refunds, i, w)), ZERO)


def net_spend(i: ProfileInputs, w: Window, _: str | None) -> Decimal:
    return spend(i, w, None) - refund_amount(i, w, None)


def avg_order_value(i: ProfileInputs, w: Window, _: str | None) -> Decimal | None:
    found = orders(i, w)
    average = ratio(sum((o.amount for o in found), ZERO), len(found))
    return None if average is None else average.quantize(CENT)


def max_order_value(i: ProfileInputs, w: Window, _: str | None) -> Decimal | None:
    return max((o.amount for o in orders(i, w)), default=None)


def max_order_items(i: ProfileInputs, w: Window, _: str | None) -> int:
    return max((o.quantity for o in orders(i, w)), default=0)


def categories_bought(i: ProfileInputs, w: Window, _: str | None) -> int:
    return len({c for o in orders(i, w) for c in o.category_values})


def _priced(i: ProfileInputs, w: Window) -> list[tuple[Decimal, Decimal]]:
    """(amount paid, list value) of the window's orders that carried items."""
    return [(o.amount, o.list_value) for o in orders(i, w) if o.list_value]


def discounted_orders_share(i: ProfileInputs, w: Window, _: str | None) -> Decimal | None:
    priced = _priced(i, w)
    discounted = sum(1 for paid, listed in priced if paid <= listed * (1 - DISCOUNT_MIN_SHARE))
    return ratio(discounted, len(priced))


def discount_share(i: ProfileInputs, w: Window, _: str | None) -> Decimal | None:
    priced = _priced(i, w)
    discount = sum((max(ZERO, listed - paid) for paid, listed in priced), ZERO)
    return ratio(discount, sum((listed for _, listed in priced), ZERO))


def channel_share(i: ProfileInputs, w: Window, channel: str | None) -> Decimal | None:
    known = [o.channel for o in orders(i, w) if o.channel is not None]
    return ratio(sum(1 for c in known if c == channel), len(known))


def channels(i: ProfileInputs, w: Window, _: str | None) -> int:
    return len({o.channel for o in orders(i, w) if o.channel is not None})


def refunds(i: ProfileInputs, w: Window, reason: str | None) -> int:
    return sum(1 for r in recent(i.facts.refunds, i, w) if reason in (None, r.reason))


def refund_rate(i: ProfileInputs, w: Window, _: str | None) -> Decimal | None:
    """Of the orders placed in the window, the share refunded (in part or in full)."""
    refunded = {r.order_id for r in i.facts.refunds}
    found = orders(i, w)
    return ratio(sum(1 for o in found if o.order_id in refunded), len(found))


def _ratings(i: ProfileInputs, w: Window) -> list[int]:
    return [r.rating for r in recent(i.facts.reviews, i, w)]


def reviews(i: ProfileInputs, w: Window, _: str | None) -> int:
    return len(_ratings(i, w))


def avg_rating(i: ProfileInputs, w: Window, _: str | None) -> Decimal | None:
    ratings = _ratings(i, w)
    return ratio(sum(ratings), len(ratings))


def low_ratings(i: ProfileInputs, w: Window, _: str | None) -> int:
    return sum(1 for rating in _ratings(i, w) if rating <= 2)


def high_ratings(i: ProfileInputs, w: Window, _: str | None) -> int:
    return sum(1 for rating in _ratings(i, w) if rating >= 4)


def inquiries(i: ProfileInputs, w: Window, _: str | None) -> int:
    return sum(1 for t in recent(i.facts.tickets, i, w) if t.kind == "inquiry")


def tickets(i: ProfileInputs, w: Window, category: str | None) -> int:
    return sum(1 for t in recent(i.facts.tickets, i, w) if category in (None, t.category))


def complaints(i: ProfileInputs, w: Window, category: str | None) -> int:
    return sum(1 for c in recent(i.facts.complaints, i, w) if category in (None, c.category))


def _csat(i: ProfileInputs, w: Window) -> list[int]:
    return [r.csat for r in recent(i.facts.resolutions, i, w) if r.csat is not None]


def low_csat(i: ProfileInputs, w: Window, _: str | None) -> int:
    return sum(1 for score in _csat(i, w) if score <= 2)


def high_csat(i: ProfileInputs, w: Window, _: str | None) -> int:
    return sum(1 for score in _csat(i, w) if score >= 4)


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
