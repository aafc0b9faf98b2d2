"""Events as a storefront would publish them, and a reader for what services published."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def storefront_event(
    event_type: str,
    data: dict[str, Any],
    *,
    time: datetime | None = None,
    event_id: str | None = None,
    source: str = "storefront",
) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": event_id or str(uuid.uuid4()),
        "source": source,
        "type": event_type,
        "time": (time or datetime.now(UTC)).isoformat(),
        "subject": data["customer_id"],
        "datacontenttype": "application/json",
        "data": data,
    }


async def publish_raw(
    bootstrap: str,
    topic: str,
    values: list[bytes],
    *,
    key: bytes | None = b"k",
    headers: list[tuple[str, bytes]] | None = None,
) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=False, acks="all")
    await producer.start()
    try:
        for value in values:
            await producer.send_and_wait(
                topic,
                value,
                key=key,
                headers=headers or [("content-type", b"application/cloudevents+json")],
            )
    finally:
        await producer.stop()


async def publish(bootstrap: str, *events: dict[str, Any]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=False, acks="all")
    await producer.start()
    try:
        for event in events:
            await producer.send_and_wait(
                event["type"],
                json.dumps(event).encode(),
                key=event["subject"].encode(),
                headers=[("content-type", b"application/cloudevents+json")],
            )
    finally:
        await producer.stop()


async def read_topic(
    bootstrap: str, topic: str, *, expect: int = 1, timeout: float = 10.0
) -> list[Any]:
    """Everything on ``topic`` from the beginning, waiting until ``expect`` records arrived."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        fetch_max_wait_ms=10,
    )
    await consumer.start()
    records: list[Any] = []
    try:
        deadline = asyncio.get_running_loop().time() + timeout
        while len(records) < expect and asyncio.get_running_loop().time() < deadline:
            batch = await consumer.getmany(timeout_ms=200)
            for messages in batch.values():
                records.extend(messages)
    finally:
        await consumer.stop()
    return records
