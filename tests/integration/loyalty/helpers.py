"""Probes of a running loyalty service for the integration tests: its API and its metrics,
and a producer that publishes many events without waiting on each (events themselves come
from `tests.support.builders`)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import httpx
from aiokafka import AIOKafkaProducer
from prometheus_client.parser import text_string_to_metric_families

from tests.support.polling import eventually

T0 = datetime(2025, 3, 10, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai


async def publish_many(bootstrap: str, events: list[dict[str, Any]]) -> None:
    """Publish without waiting for each acknowledgement (order per key is kept)."""
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, enable_idempotence=False, acks="all", linger_ms=5
    )
    await producer.start()
    try:
        for event in events:
            await producer.send(
                event["type"],
                json.dumps(event).encode(),
                key=event["subject"].encode(),
                headers=[("content-type", b"application/cloudevents+json")],
            )
        await producer.flush()
    finally:
        await producer.stop()


async def points_of(client: httpx.AsyncClient, customer_id: str) -> dict[str, Any] | None:
    response = await client.get(f"/v1/customers/{customer_id}/points")
    return response.json() if response.status_code == 200 else None


async def wait_for_points(
    client: httpx.AsyncClient, customer_id: str, check: Any, *, timeout: float = 10.0
) -> dict[str, Any]:
    return await eventually(
        lambda: points_of(client, customer_id),
        lambda body: body is not None and check(body),
        timeout=timeout,
    )


async def ledger_of(client: httpx.AsyncClient, customer_id: str) -> list[dict[str, Any]]:
    response = await client.get(f"/v1/customers/{customer_id}/ledger", params={"limit": 200})
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def assert_ledger_consistent(client: httpx.AsyncClient, customer_id: str) -> None:
    response = await client.get(f"/v1/customers/{customer_id}/ledger/verify")
    assert response.status_code == 200, response.text
    assert response.json()["consistent"] is True, response.json()


async def handled(client: httpx.AsyncClient, topic: str) -> float:
    text = (await client.get("/metrics")).text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = sample.labels
            if (
                sample.name == "loopcrm_events_consumed_total"
                and labels.get("topic") == topic
                and labels.get("outcome") == "handled"
            ):
                return sample.value
    return 0.0


async def wait_handled(
    client: httpx.AsyncClient, topic: str, count: int, *, timeout: float = 10.0
) -> None:
    """Events of different topics are not ordered; wait for one topic before the next."""
    await eventually(
        lambda: handled(client, topic), lambda n: n >= count, timeout=timeout, interval=0.2
    )
