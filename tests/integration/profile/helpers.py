"""Events as the storefront and the other services publish them, and probes of profile."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.support.events import new_id, read_topic, storefront_event
from tests.support.polling import eventually

T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)


def registered(customer_id: str, at: datetime = T0, **fields: Any) -> dict[str, Any]:
    return storefront_event("customer.registered", {"customer_id": customer_id, **fields}, time=at)


def updated(customer_id: str, at: datetime, **fields: Any) -> dict[str, Any]:
    return storefront_event("customer.updated", {"customer_id": customer_id, **fields}, time=at)


def viewed(customer_id: str, at: datetime, category: str = "robot_vacuum") -> dict[str, Any]:
    data = {"customer_id": customer_id, "sku": new_id("sku"), "category": category}
    return storefront_event("product.viewed", data, time=at)


def placed(customer_id: str, order_id: str, at: datetime, amount: str = "200.00") -> dict:
    data = {
        "customer_id": customer_id,
        "order_id": order_id,
        "amount": amount,
        "currency": "CNY",
        "items": [{"sku": "s-1", "category": "snacks", "quantity": 1, "unit_price": amount}],
        "channel": "online",
    }
    return storefront_event("order.placed", data, time=at)


def refunded(customer_id: str, order_id: str, at: datetime) -> dict[str, Any]:
    data = {
        "customer_id": customer_id,
        "order_id": order_id,
        "amount": "200.00",
        "reason": "size_mismatch",
    }
    return storefront_event("order.refunded", data, time=at)


def service_event(event_type: str, source: str, at: datetime, **data: Any) -> dict[str, Any]:
    return storefront_event(event_type, data, time=at, source=f"loopcrm/{source}")


def ticket_opened(customer_id: str, ticket_id: str, at: datetime, kind: str = "inquiry") -> dict:
    return service_event(
        "ticket.opened",
        "ticketing",
        at,
        customer_id=customer_id,
        ticket_id=ticket_id,
        kind=kind,
        category="logistics",
        priority="P3",
        tier="bronze",
        opened_at=at.isoformat(),
        response_due_at=(at + timedelta(hours=24)).isoformat(),
    )


def ticket_resolved(customer_id: str, ticket_id: str, at: datetime) -> dict[str, Any]:
    return service_event(
        "ticket.resolved",
        "ticketing",
        at,
        customer_id=customer_id,
        ticket_id=ticket_id,
        kind="inquiry",
        category="logistics",
        resolved_at=at.isoformat(),
        csat=5,
    )


def complaint_opened(customer_id: str, ticket_id: str, at: datetime) -> dict[str, Any]:
    return service_event(
        "complaint.opened",
        "ticketing",
        at,
        customer_id=customer_id,
        ticket_id=ticket_id,
        category="logistics",
        opened_at=at.isoformat(),
    )


def tier_changed(customer_id: str, old: str, new: str, at: datetime) -> dict[str, Any]:
    return service_event(
        "tier.changed",
        "loyalty",
        at,
        customer_id=customer_id,
        old_tier=old,
        new_tier=new,
        net_spend_12m="12000.00",
        reason="upgrade",
    )


def segment_changed(customer_id: str, old: str | None, new: str, at: datetime) -> dict:
    rfm = {"recency_days": 3, "frequency": 4, "monetary": "800.00"}
    return service_event(
        "segment.changed",
        "segmentation",
        at,
        customer_id=customer_id,
        old_segment=old,
        new_segment=new,
        rfm=rfm,
    )


def silence_started(customer_id: str, until: datetime, at: datetime) -> dict[str, Any]:
    return service_event(
        "silence.started",
        "engagement",
        at,
        customer_id=customer_id,
        until=until.isoformat(),
        reason="complaint",
    )


async def customer_when(
    client: httpx.AsyncClient, customer_id: str, check: Callable[[dict[str, Any]], bool]
) -> dict[str, Any]:
    """The customer 360 once ``check`` holds for it."""

    async def probe() -> dict[str, Any]:
        response = await client.get(f"/v1/customers/{customer_id}")
        return response.json() if response.status_code == 200 else {}

    return await eventually(probe, lambda body: bool(body) and check(body))


async def published(
    bootstrap: str, topic: str, customer_id: str, *, expect: int = 1, timeout: float = 20.0
) -> list[dict[str, Any]]:
    """The envelopes on ``topic`` about ``customer_id``, once ``expect`` of them arrived."""

    async def probe() -> list[dict[str, Any]]:
        # Reads the whole topic each time: a fresh reader needs a moment to get its partitions.
        records = await read_topic(bootstrap, topic, expect=10_000, timeout=2.0)
        return [json.loads(r.value) for r in records if r.key == customer_id.encode()]

    return await eventually(probe, lambda found: len(found) >= expect, timeout=timeout)


async def handled(client: httpx.AsyncClient, topic: str) -> float:
    """How many events of ``topic`` the service has handled (its metrics)."""
    text = (await client.get("/metrics")).text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if (
                sample.name == "loopcrm_events_consumed_total"
                and sample.labels.get("topic") == topic
                and sample.labels.get("outcome") == "handled"
            ):
                return sample.value
    return 0.0
