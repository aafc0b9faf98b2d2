"""Valid storefront and service events for the bench, built with tests/support/builders.py:
a topic pre-filled for one service, a customer seed, and the storefront mix."""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from tests.support import builders

Event = dict[str, Any]

_CATEGORY_NAMES = (
    "smart_home robot_vacuum air_purifier refrigerator kitchen_appliance smartphone laptop "
    "headphones smartwatch skincare makeup fragrance womenswear menswear shoes handbags jewelry "
    "luxury_watches furniture bedding kitchenware baby toys sportswear outdoor pet_food snacks "
    "wine"
)
CATEGORIES = tuple(_CATEGORY_NAMES.split())
SEGMENTS = ("loyal", "potential", "new", "win_back", "at_risk", "dormant", "prospect", "regular")
TIERS = ("bronze", "silver", "gold", "platinum")
REFUND_REASONS = ("size_mismatch", "quality_defect", "logistics_damage", "changed_mind", "other")
MIX_KINDS = ("product.viewed", "order.placed", "order.refunded", "customer.registered")
MIX_WEIGHTS = (70, 20, 5, 5)


def customer_ids(prefix: str, count: int) -> list[str]:
    return [f"{prefix}-{i:07d}" for i in range(count)]


def _amount(rng: random.Random) -> Decimal:
    # Mostly small baskets, a long tail of large ones (appliances, luxury).
    return Decimal(f"{min(20_000.0, rng.lognormvariate(5.3, 1.0)):.2f}")


def _order(customer: str, rng: random.Random, at: datetime) -> Event:
    category = rng.choice(CATEGORIES)
    amount = _amount(rng)
    items = [
        {
            "sku": f"sku-{category}-{rng.randrange(500)}",
            "category": category,
            "quantity": 1,
            "unit_price": str(amount),
        }
    ]
    return builders.order_placed(customer, amount=amount, items=items, channel="online", at=at)


def _view(customer: str, rng: random.Random, at: datetime) -> Event:
    category = rng.choice(CATEGORIES)
    sku = f"sku-{category}-{rng.randrange(500)}"
    duration = round(rng.uniform(2, 180), 1)
    return builders.product_viewed(customer, sku=sku, category=category, duration_s=duration, at=at)


def _registration(customer: str, rng: random.Random, at: datetime) -> Event:
    consents = {
        "email": rng.random() < 0.7,
        "sms": rng.random() < 0.5,
        "push": rng.random() < 0.4,
        "wecom": rng.random() < 0.3,
    }
    return builders.customer_registered(
        customer,
        name=f"Customer {customer[-5:]}",
        email=f"{customer}@example.com",
        consents=consents,
        at=at,
    )


def prefill_events(topic: str, count: int, customers: int, seed: int = 1) -> list[Event]:
    """``count`` events of ``topic`` over ``customers`` customers, business times spread over
    the past year in order (a customer's events stay in time order)."""
    rng = random.Random(seed)
    ids = customer_ids("bench-c", customers)
    start = datetime.now(UTC) - timedelta(days=365)
    step = timedelta(days=365) / count
    segment: dict[str, str] = {}
    tier: dict[str, str] = {}
    events = []
    for i in range(count):
        customer, at = rng.choice(ids), start + step * i
        if topic == "order.placed":
            events.append(_order(customer, rng, at))
        elif topic == "product.viewed":
            events.append(_view(customer, rng, at))
        elif topic == "segment.changed":
            old = segment.get(customer)
            new = rng.choice([s for s in SEGMENTS if s != old])
            segment[customer] = new
            rfm = {
                "recency_days": rng.randrange(400),
                "frequency": rng.randrange(1, 12),
                "monetary": f"{rng.uniform(0, 5000):.2f}",
            }
            events.append(
                builders.segment_changed(customer, new_segment=new, old_segment=old, rfm=rfm, at=at)
            )
        elif topic == "tier.changed":
            old = tier.get(customer, "bronze")
            new = rng.choice([t for t in TIERS if t != old])
            tier[customer] = new
            reason = "upgrade" if TIERS.index(new) > TIERS.index(old) else "downgrade_review"
            events.append(
                builders.tier_changed(customer, new_tier=new, old_tier=old, reason=reason, at=at)
            )
        else:
            raise ValueError(f"no pre-fill for {topic}")
    return events


def seed_events(customers: list[str], seed: int = 2) -> list[Event]:
    """A registration per customer, then views for most and an order for half."""
    rng = random.Random(seed)
    now = datetime.now(UTC)
    events = []
    for customer in customers:
        at = now - timedelta(days=rng.uniform(30, 400))
        events.append(_registration(customer, rng, at))
        for _ in range(rng.randrange(3)):
            at += timedelta(hours=rng.uniform(1, 200))
            events.append(_view(customer, rng, at))
        if rng.random() < 0.5:
            events.append(_order(customer, rng, at + timedelta(hours=1)))
    return events


class StorefrontMix:
    """70 % product.viewed, 20 % order.placed, 5 % order.refunded (of earlier orders),
    5 % customer.registered (new customers join the population); business time = now."""

    def __init__(self, customers: list[str], seed: int = 3, prefix: str = "bench-new") -> None:
        self._rng = random.Random(seed)
        self._customers = list(customers)
        self._prefix = prefix
        self._orders: deque[Event] = deque(maxlen=20_000)
        self._kinds, self._weights = list(MIX_KINDS), list(MIX_WEIGHTS)
        self.counts: dict[str, int] = dict.fromkeys(self._kinds, 0)

    def __iter__(self) -> Iterator[Event]:
        return self

    def __next__(self) -> Event:
        kind = self._rng.choices(self._kinds, self._weights)[0]
        if kind == "order.refunded" and not self._orders:
            kind = "order.placed"
        event = self._make(kind, datetime.now(UTC))
        self.counts[kind] += 1
        return event

    def _make(self, kind: str, now: datetime) -> Event:
        rng = self._rng
        if kind == "product.viewed":
            return _view(rng.choice(self._customers), rng, now)
        if kind == "order.placed":
            order = _order(rng.choice(self._customers), rng, now)
            self._orders.append(order)
            return order
        if kind == "order.refunded":
            order = self._orders.popleft() if rng.random() < 0.5 else self._orders.pop()
            data = order["data"]
            share = Decimal(rng.choice(("1", "1", "0.5")))
            amount = (Decimal(str(data["amount"])) * share).quantize(Decimal("0.01"))
            reason = rng.choice(REFUND_REASONS)
            return builders.order_refunded(
                data["customer_id"], data["order_id"], amount=amount, reason=reason, at=now
            )
        customer = f"{self._prefix}-{len(self._customers):07d}"
        self._customers.append(customer)
        return _registration(customer, rng, now)
