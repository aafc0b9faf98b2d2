"""A caught-up consumer gathers a trickle: the events of a steady stream are applied in a few
runs, not one run each, every event once; and after the stream a lone event is still taken
(the partitions paused while gathering are resumed)."""

from __future__ import annotations

import asyncio
import json

from aiokafka import AIOKafkaProducer

from tests.support import builders
from tests.support.counting_service import count_event, counting_service, read_counts
from tests.support.polling import eventually

TRICKLE = 40
HEADERS = [("content-type", b"application/cloudevents+json")]


def _ticket_opened(customer_id: str, number: int) -> bytes:
    return json.dumps(builders.ticket_opened(customer_id, ticket_id=f"t-{number}")).encode()


async def test_a_trickle_is_applied_in_a_few_runs_and_a_lone_event_after_it(broker, tmp_path):
    runs: set[int] = set()

    async def count_run(session, event):
        runs.add(id(session))
        await count_event(session, event)

    producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap, enable_idempotence=False)
    await producer.start()
    try:
        async with counting_service(
            broker.bootstrap, tmp_path, handler=count_run, consumer_gather_ms=500
        ) as app:
            await producer.send_and_wait(
                "ticket.opened", _ticket_opened("c-first", 0), key=b"c-first", headers=HEADERS
            )
            await eventually(lambda: read_counts(app), lambda c: c.get("c-first") == 1, timeout=60)
            runs.clear()
            # A steady trickle: one event every 25 ms for about a second.
            for number in range(TRICKLE):
                await producer.send_and_wait(
                    "ticket.opened",
                    _ticket_opened(f"c-{number}", number),
                    key=f"c-{number}".encode(),
                    headers=HEADERS,
                )
                await asyncio.sleep(0.025)
            counted = await eventually(
                lambda: read_counts(app), lambda c: len(c) == TRICKLE + 1, timeout=60
            )
            assert set(counted.values()) == {1}
            # Gathered every half second: a handful of runs (one per event without it).
            assert len(runs) <= TRICKLE // 4, f"{len(runs)} runs for {TRICKLE} events"

            await producer.send_and_wait(
                "ticket.opened", _ticket_opened("c-last", 99), key=b"c-last", headers=HEADERS
            )
            await eventually(lambda: read_counts(app), lambda c: c.get("c-last") == 1, timeout=60)
    finally:
        await producer.stop()
