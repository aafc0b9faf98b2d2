"""One typed builder per catalogue event: ``order_placed("c-1", amount="120.00")`` gives the
CloudEvent a storefront (or a service) would publish, as a dict ready to encode.

Each builder fills what a test does not care about with a valid value, builds the catalogue
model (so a wrong field fails here, not in the service) and wraps it with ``envelope``.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from shared.events.catalogue import (
    ChurnRiskDetected,
    ComplaintOpened,
    CustomerErased,
    CustomerEventData,
    CustomerRegistered,
    CustomerUpdated,
    MessageSent,
    MessageSuppressed,
    OrderItem,
    OrderPlaced,
    OrderRefunded,
    PointsEarned,
    PointsExpired,
    PointsHeld,
    PointsRedeemed,
    ProductViewed,
    ProfileTagged,
    ReviewPosted,
    SegmentChanged,
    SilenceStarted,
    SlaBreached,
    TicketOpened,
    TicketPrioritized,
    TicketResolved,
    TierChanged,
    event_type_of,
)

T0 = datetime(2025, 6, 1, 9, 0, tzinfo=UTC)


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def envelope(
    data: CustomerEventData,
    *,
    at: datetime | None = None,
    event_id: str | None = None,
    source: str = "storefront",
) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": event_id or str(uuid.uuid4()),
        "source": source,
        "type": event_type_of(type(data)),
        "time": (at or T0).isoformat(),
        "subject": data.customer_id,
        "datacontenttype": "application/json",
        "data": data.model_dump(mode="json", exclude_unset=True),
    }


def _meta(fields: dict[str, Any]) -> dict[str, Any]:
    return {k: fields.pop(k) for k in ("at", "event_id", "source") if k in fields}


# --- storefront --------------------------------------------------------------------------


def customer_registered(customer_id: str, **fields: Any) -> dict[str, Any]:
    meta = _meta(fields)
    return envelope(CustomerRegistered(customer_id=customer_id, **fields), **meta)


def customer_updated(customer_id: str, **fields: Any) -> dict[str, Any]:
    meta = _meta(fields)
    return envelope(CustomerUpdated(customer_id=customer_id, **fields), **meta)


def order_placed(
    customer_id: str,
    *,
    amount: str | Decimal = "100.00",
    order_id: str | None = None,
    category: str = "kitchen",
    items: list[dict[str, Any]] | None = None,
    **fields: Any,
) -> dict[str, Any]:
    meta = _meta(fields)
    if items is None:
        items = [{"sku": "sku-1", "category": category, "quantity": 1, "unit_price": amount}]
    data = OrderPlaced(
        customer_id=customer_id,
        order_id=order_id or new_id("o"),
        amount=Decimal(str(amount)),
        items=[OrderItem(**item) for item in items],
        **fields,
    )
    return envelope(data, **meta)


def order_refunded(
    customer_id: str, order_id: str, *, amount: str | Decimal = "100.00", **fields: Any
) -> dict[str, Any]:
    meta = _meta(fields)
    fields.setdefault("reason", "other")
    data = OrderRefunded(
        customer_id=customer_id, order_id=order_id, amount=Decimal(str(amount)), **fields
    )
    return envelope(data, **meta)


def product_viewed(
    customer_id: str, *, sku: str = "sku-1", category: str = "kitchen", **fields: Any
) -> dict[str, Any]:
    meta = _meta(fields)
    return envelope(
        ProductViewed(customer_id=customer_id, sku=sku, category=category, **fields), **meta
    )


def review_posted(
    customer_id: str, *, order_id: str | None = None, rating: int = 5, **fields: Any
) -> dict[str, Any]:
    meta = _meta(fields)
    data = ReviewPosted(
        customer_id=customer_id, order_id=order_id or new_id("o"), rating=rating, **fields
    )
    return envelope(data, **meta)


# --- published by the services ----------------------------------------------------------
# A default is a value, or a function of the event's time for ids and times.

Default = Any


def _published(
    model: type[CustomerEventData],
    source: str,
    customer_id: str,
    fields: dict[str, Any],
    defaults: dict[str, Default],
) -> dict[str, Any]:
    meta = _meta(fields)
    meta.setdefault("source", source)
    at = meta.get("at", T0)
    values = {k: v(at) if callable(v) else v for k, v in defaults.items() if k not in fields}
    return envelope(model(customer_id=customer_id, **values, **fields), **meta)


def _id(prefix: str) -> Default:
    return lambda _at: new_id(prefix)


def profile_tagged(customer_id: str, *, tags: list[str] | None = None, **fields: Any) -> dict:
    tags = tags or []
    return _published(
        ProfileTagged, "loopcrm/profile", customer_id, fields, {"tags": tags, "added": tags}
    )


def customer_erased(customer_id: str, **fields: Any) -> dict[str, Any]:
    return _published(
        CustomerErased, "loopcrm/profile", customer_id, fields, {"erased_at": lambda at: at}
    )


def segment_changed(
    customer_id: str, *, new_segment: str, old_segment: str | None = None, **fields: Any
) -> dict[str, Any]:
    defaults = {
        "old_segment": old_segment,
        "new_segment": new_segment,
        "rfm": {"recency_days": 1, "frequency": 1, "monetary": "100.00"},
    }
    return _published(SegmentChanged, "loopcrm/segmentation", customer_id, fields, defaults)


def churn_risk_detected(customer_id: str, **fields: Any) -> dict[str, Any]:
    defaults = {"reason": "monthly_spend_falling"}
    return _published(ChurnRiskDetected, "loopcrm/segmentation", customer_id, fields, defaults)


def silence_started(customer_id: str, **fields: Any) -> dict[str, Any]:
    defaults = {"until": lambda at: at + timedelta(days=30), "reason": "complaint"}
    return _published(SilenceStarted, "loopcrm/engagement", customer_id, fields, defaults)


_MESSAGE = {"message_id": _id("m"), "channel": "email", "purpose": "marketing", "template": "hi"}


def message_sent(customer_id: str, **fields: Any) -> dict[str, Any]:
    return _published(MessageSent, "loopcrm/engagement", customer_id, fields, _MESSAGE)


def message_suppressed(customer_id: str, **fields: Any) -> dict[str, Any]:
    defaults = {**_MESSAGE, "reason": "silenced"}
    return _published(MessageSuppressed, "loopcrm/engagement", customer_id, fields, defaults)


def ticket_opened(customer_id: str, **fields: Any) -> dict[str, Any]:
    opened_at = fields.get("opened_at") or fields.get("at", T0)
    defaults = {
        "opened_at": opened_at,
        "ticket_id": _id("t"),
        "kind": "inquiry",
        "category": "other",
        "priority": "P3",
        "tier": "bronze",
        "response_due_at": opened_at + timedelta(hours=24),
    }
    return _published(TicketOpened, "loopcrm/ticketing", customer_id, fields, defaults)


def complaint_opened(customer_id: str, **fields: Any) -> dict[str, Any]:
    defaults = {"opened_at": lambda at: at, "ticket_id": _id("t"), "category": "logistics"}
    return _published(ComplaintOpened, "loopcrm/ticketing", customer_id, fields, defaults)


def ticket_prioritized(customer_id: str, **fields: Any) -> dict[str, Any]:
    defaults = {
        "ticket_id": _id("t"),
        "old_priority": "P3",
        "new_priority": "P2",
        "response_due_at": lambda at: at + timedelta(hours=24),
        "tier": "bronze",
        "reason": "complaint",
    }
    return _published(TicketPrioritized, "loopcrm/ticketing", customer_id, fields, defaults)


def ticket_resolved(customer_id: str, **fields: Any) -> dict[str, Any]:
    defaults = {
        "ticket_id": _id("t"),
        "kind": "inquiry",
        "category": "other",
        "resolved_at": lambda at: at,
    }
    return _published(TicketResolved, "loopcrm/ticketing", customer_id, fields, defaults)


def sla_breached(customer_id: str, **fields: Any) -> dict[str, Any]:
    defaults = {
        "ticket_id": _id("t"),
        "tier": "bronze",
        "priority": "P3",
        "response_due_at": lambda at: at,
        "breached_at": lambda at: at,
    }
    return _published(SlaBreached, "loopcrm/ticketing", customer_id, fields, defaults)


def points_earned(customer_id: str, *, points: int = 100, **fields: Any) -> dict[str, Any]:
    defaults = {
        "points": points,
        "reason": "order",
        "source_id": _id("o"),
        "rule_version": 1,
        "balance": points,
    }
    return _published(PointsEarned, "loopcrm/loyalty", customer_id, fields, defaults)


def points_redeemed(customer_id: str, **fields: Any) -> dict[str, Any]:
    defaults = {
        "points": 100,
        "redemption_id": _id("r"),
        "coupon_value": Decimal("1.00"),
        "balance": 0,
    }
    return _published(PointsRedeemed, "loopcrm/loyalty", customer_id, fields, defaults)


def points_expired(customer_id: str, **fields: Any) -> dict[str, Any]:
    defaults = {"points": 100, "balance": 0}
    return _published(PointsExpired, "loopcrm/loyalty", customer_id, fields, defaults)


def points_held(customer_id: str, **fields: Any) -> dict[str, Any]:
    defaults = {"points": 100, "source_id": _id("o"), "business_day": date(2025, 6, 1)}
    return _published(PointsHeld, "loopcrm/loyalty", customer_id, fields, defaults)


def tier_changed(
    customer_id: str, *, new_tier: str, old_tier: str = "bronze", **fields: Any
) -> dict[str, Any]:
    defaults = {
        "old_tier": old_tier,
        "new_tier": new_tier,
        "net_spend_12m": Decimal("10000.00"),
        "reason": "upgrade",
    }
    return _published(TierChanged, "loopcrm/loyalty", customer_id, fields, defaults)
