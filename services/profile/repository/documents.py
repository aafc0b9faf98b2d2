"""The customer 360 as stored: one JSON document per customer (``customers.customer_360``),
rewritten whenever the customer changes, read by ``GET /v1/customers/{id}`` with one
primary-key read and nothing worked out but whether a silence is still on (the clock's).

Times and dates go in as they are: the JSON encoder (orjson, ``shared.db``) writes them as ISO
8601 text, as ``isoformat()`` does, several times faster than formatting each one here (a
dozen per document, a document per customer evaluated)."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from services.profile.rules.customer import CustomerProfile
from services.profile.rules.summary import Activity


def _money(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def customer_360(
    profile: CustomerProfile, tags: Iterable[str], activity: Activity
) -> dict[str, Any]:
    """The document: the shape of ``CustomerPublic`` without ``silence.silenced``."""
    return {
        "customer_id": profile.customer_id,
        "name": profile.name,
        "email": profile.email,
        "phone": profile.phone,
        "birthday": profile.birthday,
        "referrer_id": profile.referrer_id,
        "consents": dict(profile.consents),
        "registered_at": profile.registered_at,
        "updated_at": profile.updated_at,
        "open_tickets": profile.open_tickets,
        "erased": profile.erased,
        "erased_at": profile.erased_at,
        "tags": sorted(tags),
        "tags_as_of": profile.tags_as_of,
        "tier": profile.tier,
        "tier_since": profile.tier_since,
        "segment": profile.segment,
        "segment_since": profile.segment_since,
        "silence": {"until": profile.silenced_until, "reason": profile.silence_reason},
        "activity": {
            "as_of": activity.as_of,
            "lifetime_orders": activity.lifetime_orders,
            "lifetime_spend": _money(activity.lifetime_spend),
            "last_order_at": activity.last_order_at,
            "last_seen_at": activity.last_seen_at,
            "orders_365d": activity.orders_365d,
            "spend_365d": _money(activity.spend_365d),
            "avg_order_value_365d": _money(activity.avg_order_value_365d),
            "refunds_90d": activity.refunds_90d,
            "views_30d": activity.views_30d,
            "inquiries_30d": activity.inquiries_30d,
            "complaints_365d": activity.complaints_365d,
            "avg_rating_365d": _money(activity.avg_rating_365d),
        },
    }
