"""A consumer that cannot get its batch done (here: the database away, retried) shows lag
for what it holds, while it is stuck; not only once the batch is over."""

from __future__ import annotations

import asyncio

from tests.integration.kit.test_crash_recovery import EVENTS, produce, ticket_opened_batch
from tests.support.counting_service import (
    count_event,
    counting_service,
    metric_total,
    read_counts,
)
from tests.support.polling import eventually


async def test_lag_shows_the_batch_a_consumer_is_stuck_on(broker, tmp_path):
    outage = asyncio.Event()
    outage.set()

    async def count_unless_away(session, event):
        if outage.is_set():
            raise ConnectionRefusedError("the database is away")  # retried, never dead-lettered
        await count_event(session, event)

    await produce(broker.bootstrap, ticket_opened_batch([f"c-{n}" for n in range(10)]))
    async with counting_service(
        broker.bootstrap, tmp_path, handler=count_unless_away, consumer_transaction_size=10_000
    ) as app:

        async def lag() -> float:
            return metric_total(app, "loopcrm_consumer_lag")

        await eventually(lag, lambda found: found >= EVENTS / 3, timeout=30)
        assert sum((await read_counts(app)).values()) == 0

        outage.clear()
        await eventually(lambda: read_counts(app), lambda c: sum(c.values()) == EVENTS, timeout=60)
        await eventually(lag, lambda found: found == 0, timeout=30)
