"""``make bench``: the event path and the HTTP path, as ratios against baselines from the same run.

- kit consume: N events through the consumer runner with a one-row handler (decode, inbox,
  handler, commit, offset commit), against a bare aiokafka consumer reading the same N.
- profile consume: the same N through the profile service's real handlers (features, tags,
  outbox), against the same baseline.
- http: a read endpoint of profile against /healthz on the same app.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer

from shared.messaging.embedded_broker import EmbeddedBroker
from shared.messaging.topics import ensure_topics
from tests.integration.kit.test_crash_recovery import produce, ticket_opened_batch
from tests.support.counting_service import counting_service
from tests.support.events import new_id
from tests.support.services import running_service

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


async def wait_handled(metrics: Any, count: int) -> float:
    started = time.perf_counter()
    handled = metrics.events_consumed.labels(topic="ticket.opened", outcome="handled")
    while handled._value.get() < count:  # noqa: ASYNC110 - polling a counter
        await asyncio.sleep(0.01)
    return time.perf_counter() - started


async def kit_consume(bootstrap: str, scratch: Path, count: int) -> float:
    async with counting_service(bootstrap, scratch) as app:
        return await wait_handled(app.state.metrics, count)


async def profile_consume(bootstrap: str, scratch: Path, count: int) -> tuple[float, float]:
    url = f"sqlite+aiosqlite:///{scratch / 'profile.db'}"
    async with running_service("profile", bootstrap=bootstrap, database_url=url) as profile:
        seconds = await wait_handled(profile.runtime.metrics, count)
        client = profile.client
        started = time.perf_counter()
        for _ in range(HTTP_REQUESTS):
            await client.get("/healthz")
        healthz = time.perf_counter() - started
        started = time.perf_counter()
        for _ in range(HTTP_REQUESTS):
            await client.get("/v1/customers/bench-customer")
        return seconds, (time.perf_counter() - started) / healthz


async def main() -> None:
    with EmbeddedBroker() as broker, tempfile.TemporaryDirectory() as scratch_dir:
        scratch = Path(scratch_dir)
        await ensure_topics(broker.bootstrap)
        messages = ticket_opened_batch([new_id("c") for _ in range(100)])
        await produce(broker.bootstrap, messages)
        n = len(messages)
        baseline = await bare_consume(broker.bootstrap, n)
        kit = await kit_consume(broker.bootstrap, scratch, n)
        profile, http_ratio = await profile_consume(broker.bootstrap, scratch, n)
    print(f"events: {n}")
    print(f"bare aiokafka consume        {n / baseline:9.0f} events/s  (baseline)")
    print(f"kit consume, SQLite          {n / kit:9.0f} events/s  {kit / baseline:7.1f}x baseline")
    print(f"profile consume, SQLite      {n / profile:9.0f} events/s  {profile / baseline:7.1f}x")
    print(f"HTTP read vs /healthz        {http_ratio:9.1f}x")


if __name__ == "__main__":
    asyncio.run(main())
