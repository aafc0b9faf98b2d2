"""On PostgreSQL a batch's partitions are applied side by side, whether it is a backlog taken
partition by partition or a batch small enough for one transaction per lane: every event still
has one effect, each customer's events are applied in partition order, and two runs really
were open at once."""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from functools import partial

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text

from shared.messaging.errors import EventRejected
from tests.integration.kit.test_crash_recovery import EVENTS, produce, ticket_opened_batch
from tests.support import builders
from tests.support.builders import new_id
from tests.support.counting_service import counting_service, metric_total, read_counts
from tests.support.databases import fresh_database, postgres_server_url
from tests.support.events import publish
from tests.support.polling import eventually

pytestmark = pytest.mark.skipif(
    postgres_server_url() is None, reason="side by side only on PostgreSQL"
)

_COUNT = text(
    "INSERT INTO counts (customer_id, events) VALUES (:customer_id, 1) "
    "ON CONFLICT (customer_id) DO UPDATE SET events = counts.events + 1 RETURNING events"
)


@pytest.mark.parametrize(
    "transaction_size", [100, 10_000], ids=["partition by partition", "a lane at once"]
)
async def test_partitions_applied_side_by_side_keep_each_customers_order(
    broker, tmp_path, transaction_size
):
    customers = [f"c-{n}" for n in range(12)]
    open_runs: set[int] = set()
    most_open = 0

    async def in_order(session, event):
        """The k-th event of customer i carries ticket t-(i + k * 12): anything else is out
        of order."""
        nonlocal most_open
        open_runs.add(id(session))
        most_open = max(most_open, len(open_runs))
        events = (await session.execute(_COUNT, {"customer_id": event.subject})).scalar_one()
        number = int(event.data.ticket_id.removeprefix("t-"))
        expected = customers.index(event.subject) + (events - 1) * len(customers)
        if number != expected:
            raise EventRejected("out_of_order", f"t-{number} applied as t-{expected}")
        await asyncio.sleep(0)  # let the other run take its turn, if there is one
        open_runs.discard(id(session))

    async with _two_lanes(broker, tmp_path, in_order, customers, transaction_size) as app:
        counted = await eventually(
            lambda: read_counts(app), lambda c: sum(c.values()) == EVENTS, timeout=90
        )
        # None out of order (it would have been dead-lettered, never counted).
        assert set(counted.values()) == {EVENTS // len(customers)}
    assert most_open >= 2


async def test_a_lane_that_fails_is_redone_alone(broker, tmp_path):
    """One poison event: its lane is redone event by event and the event dead-lettered; the
    other lane's events, applied once, are not applied again (none counted as duplicates)."""
    customers = [f"c-{n}" for n in range(12)]
    poison = "t-5"

    async def count_unless_poison(session, event):
        if event.data.ticket_id == poison:
            raise EventRejected("poison", "a test's poison event")
        await session.execute(_COUNT, {"customer_id": event.subject})

    async with _two_lanes(broker, tmp_path, count_unless_poison, customers, 10_000) as app:
        counted = await eventually(
            lambda: read_counts(app), lambda c: sum(c.values()) == EVENTS - 1, timeout=90
        )
        assert sum(counted.values()) == EVENTS - 1
        consumed = partial(metric_total, app, "loopcrm_events_consumed_total")
        # The poison event comes before the rest of its lane, all counted by now.
        assert consumed("dead_lettered") == 1
        assert consumed("duplicate") == 0
        assert metric_total(app, "loopcrm_consumer_runs_redone_total") >= 1


async def test_topics_of_one_partition_number_share_a_lane_so_new_customers_never_collide(
    broker, service
):
    """A customer's events have one partition number in every topic: registrations and views
    of the same new customers, applied side by side by topic, would both insert each customer
    and all but one run would fail and be redone event by event."""
    customers = [new_id("c") for _ in range(60)]
    events = [builders.customer_registered(c, name="Li Wei") for c in customers]
    events += [builders.product_viewed(c, sku=new_id("sku")) for c in customers]
    await publish(broker.bootstrap, *events)
    async with service("profile", consumer_transaction_size=10, consumer_concurrency=6) as profile:
        handled = partial(_total, profile.client, "loopcrm_events_consumed_total", "handled")
        await eventually(handled, lambda n: n >= len(events), timeout=60)
        assert await _total(profile.client, "loopcrm_consumer_runs_redone_total") == 0


async def _total(client, name: str, outcome: str | None = None) -> float:
    """The sum of a counter's samples over its label sets (those of ``outcome`` if given)."""
    text = (await client.get("/metrics")).text
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name and outcome in (None, sample.labels.get("outcome"))
    )


@asynccontextmanager
async def _two_lanes(broker, tmp_path, handler, customers, transaction_size):
    """The counting service with two lanes on a fresh database, the customers' ticket.opened
    batch waiting for it."""
    async with fresh_database(tmp_path, "two_lanes") as url:
        await produce(broker.bootstrap, ticket_opened_batch(customers))
        async with counting_service(
            broker.bootstrap,
            tmp_path,
            handler=handler,
            database_url=url,
            consumer_transaction_size=transaction_size,
            consumer_concurrency=2,
        ) as app:
            yield app
