"""Events of a partition are applied in shared transactions; a failure undoes only its own."""

from shared.messaging.errors import EventRejected
from tests.integration.kit.test_crash_recovery import produce, ticket_opened_batch
from tests.support.counting_service import count_event, counting_service, read_counts
from tests.support.events import read_topic
from tests.support.polling import eventually


async def test_one_rejected_event_in_a_shared_transaction_loses_none_of_the_others(
    broker, tmp_path
):
    customers = [f"c-{n}" for n in range(5)]
    messages = ticket_opened_batch(customers)[:60]
    poison_ticket = '"ticket_id": "t-17"'
    calls = {"poison": 0}

    async def reject_one(session, event):
        if event.data.ticket_id == "t-17":
            calls["poison"] += 1
            raise EventRejected("bad_ticket", "t-17 cannot be applied")
        await count_event(session, event)

    async with counting_service(
        broker.bootstrap, tmp_path, handler=reject_one, consumer_transaction_size=20
    ) as app:
        await produce(broker.bootstrap, messages)
        counted = await eventually(lambda: read_counts(app), lambda c: sum(c.values()) == 59)
        assert poison_ticket.encode() in messages[17][1]
        assert counted["c-2"] == 11  # t-17 went to c-2 and is the one missing
        dead = await read_topic(broker.bootstrap, "ticket.opened.dlq")
        assert [dict(r.headers)["dlq-reason"] for r in dead] == [b"bad_ticket"]
        # Once in the shared attempt, once alone: then straight to the DLQ, no retries.
        assert calls["poison"] == 2


async def test_duplicates_inside_one_transaction_count_once(broker, tmp_path):
    messages = ticket_opened_batch(["c-1"])[:10]
    async with counting_service(broker.bootstrap, tmp_path) as app:
        await produce(broker.bootstrap, messages + messages)
        await eventually(lambda: read_counts(app), lambda c: c.get("c-1") == 10)
        metrics = app.state.metrics.events_consumed
        await eventually(
            lambda: _value(metrics.labels(topic="ticket.opened", outcome="duplicate")),
            lambda n: n == 10,
        )
        assert (await read_counts(app))["c-1"] == 10


async def _value(child):
    return child._value.get()
