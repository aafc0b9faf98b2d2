"""A simulated storefront for ``loopcrm demo``: customers with names, consents, birthdays and
referrals, who browse, order, refund, review and complain over a stretch of business time.
Pure and deterministic: the same seed, size and end give the same events."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

_FAMILY = ("Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Huang", "Zhao", "Wu", "Zhou", "Xu")
_GIVEN = ("Wei", "Fang", "Na", "Min", "Jing", "Lei", "Yan", "Jun", "Tao", "Ming", "Xiu", "Hui")
_CATALOGUE: dict[str, tuple[str, Decimal, Decimal]] = {
    # category: (sku prefix, lowest price, highest price)
    "robot_vacuum": ("rv", Decimal("899"), Decimal("3999")),
    "smartphone": ("ph", Decimal("1299"), Decimal("6999")),
    "skincare": ("sk", Decimal("79"), Decimal("899")),
    "womenswear": ("ww", Decimal("99"), Decimal("1299")),
    "handbags": ("hb", Decimal("1999"), Decimal("12999")),
    "bedding": ("bd", Decimal("199"), Decimal("1599")),
    "baby_food": ("bf", Decimal("49"), Decimal("399")),
    "fitness": ("ft", Decimal("59"), Decimal("2599")),
    "snacks": ("sn", Decimal("19"), Decimal("199")),
}
_REFUND_REASONS = ("size_mismatch", "quality_defect", "logistics_damage", "changed_mind")
_COMPLAINTS = ("logistics", "quality", "size", "service")


@dataclass(frozen=True)
class Complaint:
    customer_id: str
    category: str
    subject: str
    opened_at: datetime


@dataclass(frozen=True)
class Story:
    """What the storefront does: its events in business-time order, and the complaints its
    customers make (opened as tickets through ticketing's API)."""

    events: list[dict[str, Any]]
    complaints: list[Complaint]
    customer_ids: list[str]


def simulate(customers: int, days: int, end: datetime, seed: int) -> Story:
    rng = random.Random(seed)
    start = end - timedelta(days=days)
    events: list[dict[str, Any]] = []
    complaints: list[Complaint] = []
    ids = [f"demo-{seed}-{n:05d}" for n in range(customers)]
    for n, customer_id in enumerate(ids):
        registered_at = start + timedelta(seconds=rng.uniform(0, days * 86_400 * 0.6))
        referrer = ids[rng.randrange(n)] if n and rng.random() < 0.15 else None
        events.append(_event(rng, "customer.registered", customer_id, registered_at,
                             _registration(rng, customer_id, referrer)))  # fmt: skip
        favourites = rng.sample(sorted(_CATALOGUE), k=rng.randint(1, 3))
        moment = registered_at
        orders: list[tuple[str, Decimal, datetime]] = []
        buyer = rng.random()  # how keen: some only browse, a few buy every week
        while True:
            moment += timedelta(hours=rng.expovariate(1 / 40))
            if moment >= end:
                break
            category = (
                rng.choice(favourites) if rng.random() < 0.8 else rng.choice(list(_CATALOGUE))
            )
            events.append(_view(rng, customer_id, category, moment))
            if rng.random() < buyer * 0.25 and moment + timedelta(minutes=30) < end:
                order_id, amount, placed = _order(rng, customer_id, category, moment, events)
                orders.append((order_id, amount, placed))
        for order_id, amount, placed in orders:
            later = placed + timedelta(days=rng.uniform(1, 10))
            if later < end and rng.random() < 0.08:
                refund = amount if rng.random() < 0.6 else (amount / 2).quantize(Decimal("0.01"))
                events.append(_event(rng, "order.refunded", customer_id, later, {
                    "customer_id": customer_id, "order_id": order_id, "amount": str(refund),
                    "reason": rng.choice(_REFUND_REASONS)}))  # fmt: skip
            elif later < end and rng.random() < 0.3:
                events.append(_event(rng, "review.posted", customer_id, later, {
                    "customer_id": customer_id, "order_id": order_id,
                    "rating": rng.choices((1, 2, 3, 4, 5), (1, 1, 2, 4, 6))[0]}))  # fmt: skip
        recent = end - timedelta(days=min(days, 10) * rng.random())
        if orders and rng.random() < 0.12 and recent > registered_at:
            category = rng.choice(_COMPLAINTS)
            subject = f"Problem with my order ({category})"
            complaints.append(Complaint(customer_id, category, subject, recent))
    events.sort(key=lambda event: event["time"])
    return Story(events=events, complaints=complaints, customer_ids=ids)


def _registration(rng: random.Random, customer_id: str, referrer: str | None) -> dict[str, Any]:
    family, given = rng.choice(_FAMILY), rng.choice(_GIVEN)
    birthday = date(rng.randint(1960, 2005), rng.randint(1, 12), rng.randint(1, 28))
    data: dict[str, Any] = {
        "customer_id": customer_id,
        "name": f"{family} {given}",
        "email": f"{given.lower()}.{family.lower()}.{customer_id[-5:]}@example.com",
        "phone": f"+86138{rng.randint(0, 99_999_999):08d}",
        "birthday": birthday.isoformat(),
        "consents": {
            channel: rng.random() < share
            for channel, share in (("email", 0.7), ("sms", 0.5), ("push", 0.4), ("wecom", 0.3))
        },
    }
    if referrer is not None:
        data["referrer_id"] = referrer
    return data


def _view(rng: random.Random, customer_id: str, category: str, at: datetime) -> dict[str, Any]:
    prefix = _CATALOGUE[category][0]
    return _event(rng, "product.viewed", customer_id, at, {
        "customer_id": customer_id, "sku": f"{prefix}-{rng.randint(1, 40):03d}",
        "category": category, "duration_s": rng.randint(5, 240)})  # fmt: skip


def _order(
    rng: random.Random,
    customer_id: str,
    category: str,
    at: datetime,
    events: list[dict[str, Any]],
) -> tuple[str, Decimal, datetime]:
    prefix, low, high = _CATALOGUE[category]
    quantity = rng.choice((1, 1, 1, 2, 3))
    unit = Decimal(rng.uniform(float(low), float(high))).quantize(Decimal("1.00"))
    amount = unit * quantity
    order_id = f"o-{uuid.UUID(int=rng.getrandbits(128)).hex[:16]}"
    placed = at + timedelta(minutes=rng.uniform(1, 30))
    events.append(_event(rng, "order.placed", customer_id, placed, {
        "customer_id": customer_id, "order_id": order_id, "amount": str(amount),
        "currency": "CNY", "channel": "store" if rng.random() < 0.2 else "online",
        "items": [{"sku": f"{prefix}-{rng.randint(1, 40):03d}", "category": category,
                   "quantity": quantity, "unit_price": str(unit)}]}))  # fmt: skip
    return order_id, amount, placed


def _event(
    rng: random.Random, event_type: str, customer_id: str, at: datetime, data: dict[str, Any]
) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": str(uuid.UUID(int=rng.getrandbits(128))),
        "source": "storefront/demo",
        "type": event_type,
        "time": at.isoformat(),
        "subject": customer_id,
        "datacontenttype": "application/json",
        "data": data,
    }
