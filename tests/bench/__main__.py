"""``make bench``: throughput of the event path, as ratios against baselines from the same run.

- consume: N events through the full consumer path of a service (decode, inbox, handler,
  commit, offset commit) against a bare aiokafka consumer reading the same N messages.
- http: a read endpoint against /healthz on the same app (auth, database, serialisation).
"""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
from pathlib import Path

from aiokafka import AIOKafkaConsumer

from shared.messaging.embedded_broker import EmbeddedBroker
from shared.messaging.topics import ensure_topics
from tests.integration.kit.test_crash_recovery import produce, ticket_opened_batch
from tests.support.events import new_id
from tests.support.services import running_service

EVENTS = 2000
HTTP_REQUESTS = 500


async def bare_consume(bootstrap: str, count: int) -> float:
    consumer = AIOKafkaConsumer(
        "ticket.opened",
        bootstrap_servers=bootstrap,
        group_id=new_id("bench"),
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        session_timeout_ms=2000,
        heartbeat_interval_ms=500,
        fetch_max_wait_ms=10,
    )
    await consumer.start()
    seen = 0
    started = time.perf_counter()
    try:
        while seen < count:
            batch = await consumer.getmany(timeout_ms=200, max_records=200)
            for tp, records in batch.items():
                for record in records:
                    json.loads(record.value)
                seen += len(records)
                await consumer.commit({tp: records[-1].offset + 1})
    finally:
        await consumer.stop()
    return time.perf_counter() - started


async def service_consume(bootstrap: str, database_url: str, count: int) -> tuple[float, float]:
    async with running_service(
        "profile", bootstrap=bootstrap, database_url=database_url
    ) as profile:
        metrics = profile.runtime.metrics.events_consumed
        started = time.perf_counter()
        while metrics.labels(topic="ticket.opened", outcome="handled")._value.get() < count:  # noqa: ASYNC110
            await asyncio.sleep(0.01)
        consume_seconds = time.perf_counter() - started

        client = profile.client
        started = time.perf_counter()
        for _ in range(HTTP_REQUESTS):
            await client.get("/healthz")
        healthz = time.perf_counter() - started
        started = time.perf_counter()
        for _ in range(HTTP_REQUESTS):
            await client.get("/v1/customers/bench-customer")
        read = time.perf_counter() - started
        return consume_seconds, read / healthz


async def main() -> None:
    with EmbeddedBroker() as broker, tempfile.TemporaryDirectory() as scratch:
        await ensure_topics(broker.bootstrap)
        messages = ticket_opened_batch([new_id("c") for _ in range(100)])[:EVENTS]
        await produce(broker.bootstrap, messages)
        baseline = await bare_consume(broker.bootstrap, len(messages))
        url = f"sqlite+aiosqlite:///{Path(scratch) / 'profile.db'}"
        service_seconds, http_ratio = await service_consume(broker.bootstrap, url, len(messages))
    print(f"events: {len(messages)}")
    print(f"bare aiokafka consume      {len(messages) / baseline:10.0f} events/s (baseline)")
    print(f"service consume (SQLite)   {len(messages) / service_seconds:10.0f} events/s")
    print(f"consume ratio              {service_seconds / baseline:10.1f}x the baseline's time")
    print(f"HTTP read vs /healthz      {http_ratio:10.1f}x the baseline's time")


if __name__ == "__main__":
    asyncio.run(main())
