"""Events and probes the engagement integration tests share."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

import httpx

from tests.support.events import new_id, publish, read_topic, storefront_event
from tests.support.polling import eventually

FAST = {"delivery_interval_s": 0.05}


async def register(
    bootstrap: str,
    customer_id: str,
    *,
    consents: dict[str, bool] | None = None,
    at: datetime | None = None,
    **contact: str,
) -> None:
    data: dict[str, Any] = {"customer_id": customer_id, **contact}
    if consents is not None:
        data["consents"] = consents
    await publish(bootstrap, storefront_event("customer.registered", data, time=at))


async def open_complaint(
    bootstrap: str, customer_id: str, opened_at: datetime, *, ticket_id: str | None = None
) -> str:
    ticket_id = ticket_id or new_id("t")
    data = {
        "customer_id": customer_id,
        "ticket_id": ticket_id,
        "category": "logistics",
        "opened_at": opened_at.isoformat(),
    }
    event = storefront_event("complaint.opened", data, time=opened_at, source="loopcrm/ticketing")
    await publish(bootstrap, event)
    return ticket_id


async def service_event(
    bootstrap: str, event_type: str, data: dict[str, Any], *, at: datetime | None = None
) -> None:
    source = {"profile.tagged": "loopcrm/profile", "segment.changed": "loopcrm/segmentation"}
    await publish(
        bootstrap,
        storefront_event(event_type, data, time=at, source=source.get(event_type, "loopcrm/x")),
    )


async def known(
    client: httpx.AsyncClient,
    customer_id: str,
    check: Callable[[dict[str, Any]], bool] = lambda _body: True,
) -> dict[str, Any]:
    """Wait until engagement has learned of the customer (and `check` holds)."""
    response = await eventually(
        lambda: client.get(f"/v1/customers/{customer_id}"),
        lambda r: r.status_code == 200 and check(r.json()),
    )
    body: dict[str, Any] = response.json()
    return body


async def handled(client: httpx.AsyncClient, topic: str, count: int) -> None:
    """Wait until the service has handled `count` events of `topic` (its own metrics say)."""
    line = f'loopcrm_events_consumed_total{{outcome="handled",topic="{topic}"}} {float(count)}'
    await eventually(lambda: client.get("/metrics"), lambda r: line in r.text)


async def messages(client: httpx.AsyncClient, customer_id: str) -> list[dict[str, Any]]:
    response = await client.get(f"/v1/customers/{customer_id}/messages")
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def settled(count: int) -> Callable[[list[dict[str, Any]]], bool]:
    """`count` messages, none of them still pending delivery."""
    return lambda items: len(items) == count and all(m["outcome"] != "pending" for m in items)


async def messages_until(
    client: httpx.AsyncClient,
    customer_id: str,
    check: Callable[[list[dict[str, Any]]], bool],
) -> list[dict[str, Any]]:
    async def probe() -> list[dict[str, Any]]:
        return await messages(client, customer_id)

    return await eventually(probe, check)


async def send(client: httpx.AsyncClient, customer_id: str, **fields: Any) -> dict[str, Any]:
    body = {"channel": "email", "purpose": "marketing", "template": "spring_sale", **fields}
    response = await client.post("/v1/messages", json={"customer_id": customer_id, **body})
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def published(
    bootstrap: str, topic: str, predicate: Callable[[dict[str, Any]], bool], expect: int = 1
) -> list[dict[str, Any]]:
    """The events on `topic` that match, waiting until `expect` of them arrived."""

    async def probe() -> list[dict[str, Any]]:
        records = await read_topic(bootstrap, topic, expect=10_000, timeout=0.5)
        events = [json.loads(record.value) for record in records]
        return [event for event in events if predicate(event)]

    def enough(found: list[dict[str, Any]]) -> bool:
        return len(found) >= expect

    return await eventually(probe, enough)
