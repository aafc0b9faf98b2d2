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


def profile_tagged(customer_id: str, *, tags: list[str] | None = None, **fields: Any) -> dict:
    meta = _meta({"source": "loopcrm/profile", **fields})
    fields.pop("source", None)
    tags = tags or []
    fields.setdefault("added", tags)
    return envelope(ProfileTagged(customer_id=customer_id, tags=tags, **fields), **meta)


def customer_erased(customer_id: str, **fields: Any) -> dict[str, Any]:
    meta = _meta({"source": "loopcrm/profile", **fields})
    fields.pop("source", None)
    fields.setdefault("erased_at", meta.get("at", T0))
    return envelope(CustomerErased(customer_id=customer_id, **fields), **meta)


def segment_changed(
    customer_id: str, *, new_segment: str, old_segment: str | None = None, **fields: Any
) -> dict[str, Any]:
    meta = _meta({"source": "loopcrm/segmentation", **fields})
    fields.pop("source", None)
    fields.setdefault("rfm", {"recency_days": 1, "frequency": 1, "monetary": "100.00"})
    data = SegmentChanged(
        customer_id=customer_id, old_segment=old_segment, new_segment=new_segment, **fields
    )
    return envelope(data, **meta)


def churn_risk_detected(customer_id: str, **fields: Any) -> dict[str, Any]:
    meta = _meta({"source": "loopcrm/segmentation", **fields})
    fields.pop("source", None)
    fields.setdefault("reason", "monthly_spend_falling")
    return envelope(ChurnRiskDetected(customer_id=customer_id, **fields), **meta)


def silence_started(customer_id: str, **fields: Any) -> dict[str, Any]:
    meta = _meta({"source": "loopcrm/engagement", **fields})
    fields.pop("source", None)
    fields.setdefault("until", meta.get("at", T0) + timedelta(days=30))
    fields.setdefault("reason", "complaint")
    return envelope(SilenceStarted(customer_id=customer_id, **fields), **meta)


def message_sent(customer_id: str, **fields: Any) -> dict[str, Any]:
    meta = _meta({"source": "loopcrm/engagement", **fields})
    fields.pop("source", None)
    fields.setdefault("message_id", new_id("m"))
    fields.setdefault("channel", "email")
    fields.setdefault("purpose", "marketing")
    fields.setdefault("template", "hello")
    return envelope(MessageSent(customer_id=customer_id, **fields), **meta)


def message_suppressed(customer_id: str, **fields: Any) -> dict[str, Any]:
    meta = _meta({"source": "loopcrm/engagement", **fields})
    fields.pop("source", None)
    fields.setdefault("message_id", new_id("m"))
    fields.setdefault("channel", "email")
    fields.setdefault("purpose", "marketing")
    fields.setdefault("template", "hello")
    fields.setdefault("reason", "silenced")
    return envelope(MessageSuppressed(customer_id=customer_id, **fields), **meta)


def ticket_opened(customer_id: str, **fields: Any) -> dict[str, Any]:
    meta = _meta({"source": "loopcrm/ticketing", **fields})
    fields.pop("source", None)
    opened_at = fields.setdefault("opened_at", meta.get("at", T0))
    fields.setdefault("ticket_id", new_id("t"))
    fields.setdefault("kind", "inquiry")
    fields.setdefault("category", "other")
    fields.setdefault("priority", "P3")
    fields.setdefault("tier", "bronze")
    fields.setdefault("response_due_at", opened_at + timedelta(hours=24))
    return envelope(TicketOpened(customer_id=customer_id, **fields), **meta)


def complaint_opened(customer_id: str, **fields: Any) -> dict[str, Any]:
    meta = _meta({"source": "loopcrm/ticketing", **fields})
    fields.pop("source", None)
    fields.setdefault("opened_at", meta.get("at", T0))
    fields.setdefault("ticket_id", new_id("t"))
    fields.setdefault("category", "logistics")
    return envelope(ComplaintOpened(customer_id=customer_id, **fields), **meta)


def ticket_prioritized(customer_id: str, **fields: Any) -> dict[str, Any]:
    meta = _meta({"source": "loopcrm/ticketing", **fields})
    fields.pop("source", None)
    fields.setdefault("ticket_id", new_id("t"))
    fields.setdefault("old_priority", "P3")
    fields.setdefault("new_priority", "P2")
    fields.setdefault("response_due_at", meta.get("at", T0) + timedelta(hours=24))
    fields.setdefault("tier", "bronze")
    fields.setdefault("reason", "complaint")
    return envelope(TicketPrioritized(customer_id=customer_id, **fields), **meta)


def ticket_resolved(customer_id: str, **fields: Any) -> dict[str, Any]:
    meta = _meta({"source": "loopcrm/ticketing", **fields})
    fields.pop("source", None)
    fields.setdefault("ticket_id", new_id("t"))
    fields.setdefault("kind", "inquiry")
    fields.setdefault("category", "other")
    fields.setdefault("resolved_at", meta.get("at", T0))
    return envelope(TicketResolved(customer_id=customer_id, **fields), **meta)


def sla_breached(customer_id: str, **fields: Any) -> dict[str, Any]:
    meta = _meta({"source": "loopcrm/ticketing", **fields})
    fields.pop("source", None)
    at = meta.get("at", T0)
    fields.setdefault("ticket_id", new_id("t"))
    fields.setdefault("tier", "bronze")
    fields.setdefault("priority", "P3")
    fields.setdefault("response_due_at", at)
    fields.setdefault("breached_at", at)
    return envelope(SlaBreached(customer_id=customer_id, **fields), **meta)


def points_earned(customer_id: str, **fields: Any) -> dict[str, Any]:
    meta = _meta({"source": "loopcrm/loyalty", **fields})
    fields.pop("source", None)
    fields.setdefault("points", 100)
    fields.setdefault("reason", "order")
    fields.setdefault("source_id", new_id("o"))
    fields.setdefault("rule_version", 1)
    fields.setdefault("balance", fields["points"])
    return envelope(PointsEarned(customer_id=customer_id, **fields), **meta)


def points_redeemed(customer_id: str, **fields: Any) -> dict[str, Any]:
    meta = _meta({"source": "loopcrm/loyalty", **fields})
    fields.pop("source", None)
    fields.setdefault("points", 100)
    fields.setdefault("redemption_id", new_id("r"))
    fields.setdefault("coupon_value", Decimal("1.00"))
    fields.setdefault("balance", 0)
    return envelope(PointsRedeemed(customer_id=customer_id, **fields), **meta)


def points_expired(customer_id: str, **fields: Any) -> dict[str, Any]:
    meta = _meta({"source": "loopcrm/loyalty", **fields})
    fields.pop("source", None)
    fields.setdefault("points", 100)
    fields.setdefault("balance", 0)
    return envelope(PointsExpired(customer_id=customer_id, **fields), **meta)


def points_held(customer_id: str, **fields: Any) -> dict[str, Any]:
    meta = _meta({"source": "loopcrm/loyalty", **fields})
    fields.pop("source", None)
    fields.setdefault("points", 100)
    fields.setdefault("source_id", new_id("o"))
    fields.setdefault("business_day", date(2025, 6, 1))
    return envelope(PointsHeld(customer_id=customer_id, **fields), **meta)


def tier_changed(
    customer_id: str, *, new_tier: str, old_tier: str = "bronze", **fields: Any
) -> dict[str, Any]:
    meta = _meta({"source": "loopcrm/loyalty", **fields})
    fields.pop("source", None)
    fields.setdefault("net_spend_12m", Decimal("10000.00"))
    fields.setdefault("reason", "upgrade")
    data = TierChanged(customer_id=customer_id, old_tier=old_tier, new_tier=new_tier, **fields)
    return envelope(data, **meta)
