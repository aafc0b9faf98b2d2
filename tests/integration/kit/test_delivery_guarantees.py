"""The consumer runner over the real broker: one effect per event, poison to the DLQ."""

import json
from datetime import UTC, datetime

from prometheus_client.parser import text_string_to_metric_families

from tests.support.events import new_id, publish, publish_raw, read_topic, storefront_event
from tests.support.polling import eventually


def ticket_opened(customer_id: str, **overrides) -> dict:
    now = datetime.now(UTC).isoformat()
    return storefront_event(
        "ticket.opened",
        {
            "customer_id": customer_id,
            "ticket_id": new_id("t"),
            "kind": "inquiry",
            "category": "logistics",
            "priority": "P3",
            "tier": "bronze",
            "opened_at": now,
            "response_due_at": now,
        },
        source="loopcrm/ticketing",
        **overrides,
    )


async def metric_value(client, name: str, **labels: str) -> float:
    text = (await client.get("/metrics")).text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return sample.value
    return 0.0


async def lag_samples(client, topic: str) -> dict[str, float]:
    text = (await client.get("/metrics")).text
    return {
        sample.labels["partition"]: sample.value
        for family in text_string_to_metric_families(text)
        if family.name == "loopcrm_consumer_lag"
        for sample in family.samples
        if sample.labels.get("topic") == topic
    }


async def open_tickets(client, customer_id: str) -> int:
    response = await client.get(f"/v1/customers/{customer_id}")
    return response.json()["open_tickets"] if response.status_code == 200 else -1


async def test_the_same_event_delivered_twice_has_one_effect(broker, service):
    customer_id = new_id("c")
    event = ticket_opened(customer_id)
    async with service("profile") as profile:
        await publish(broker.bootstrap, event, event)
        await eventually(
            lambda: metric_value(
                profile.client,
                "loopcrm_events_consumed_total",
                topic="ticket.opened",
                outcome="duplicate",
            ),
            lambda n: n == 1,
        )
        assert await open_tickets(profile.client, customer_id) == 1
        handled = await metric_value(
            profile.client,
            "loopcrm_events_consumed_total",
            topic="ticket.opened",
            outcome="handled",
        )
        assert handled == 1
        # Lag is measured per assigned partition once the batch is handled: nothing left.
        lag = await eventually(
            lambda: lag_samples(profile.client, "ticket.opened"), lambda found: len(found) == 3
        )
        assert set(lag.values()) == {0.0}


async def test_a_poison_message_is_dead_lettered_and_the_next_good_one_handled(broker, service):
    customer_id = new_id("c")
    async with service("profile") as profile:
        bad_schema = ticket_opened(customer_id)
        bad_schema["data"]["kind"] = "tantrum"
        await publish_raw(
            broker.bootstrap,
            "ticket.opened",
            [b"{not json", json.dumps(bad_schema).encode()],
            key=customer_id.encode(),
        )
        await publish(broker.bootstrap, ticket_opened(customer_id))

        await eventually(lambda: open_tickets(profile.client, customer_id), lambda n: n == 1)
        dead = await read_topic(broker.bootstrap, "ticket.opened.dlq", expect=2)
        assert len(dead) == 2
        reasons = sorted(dict(record.headers)["dlq-reason"].decode() for record in dead)
        assert reasons == ["bad_json", "invalid_data"]
        first = dict(dead[0].headers)
        assert first["dlq-original-topic"] == b"ticket.opened"
        assert first["dlq-consumer-group"] == b"loopcrm.profile"
        assert b"kind" in dict(dead[1].headers)["dlq-error"]
        assert dead[0].value == b"{not json"
        assert (
            await metric_value(
                profile.client,
                "loopcrm_events_consumed_total",
                topic="ticket.opened",
                outcome="dead_lettered",
            )
            == 2
        )


async def test_a_bad_message_too_large_to_dead_letter_whole_leaves_a_reference(broker, service):
    """Just under the broker's limit, the copy with the dead-letter headers is over it: the
    dead letter then carries where the message is instead of the message, and the consumer
    goes on to the next event."""
    customer_id = new_id("c")
    oversized = b"{not json".ljust(1_048_576 - 150)  # the producer's and broker's limit, 1 MiB
    async with service("profile") as profile:
        await publish_raw(broker.bootstrap, "ticket.opened", [oversized], key=customer_id.encode())
        await publish(broker.bootstrap, ticket_opened(customer_id))

        await eventually(lambda: open_tickets(profile.client, customer_id), lambda n: n == 1)
        [dead] = await read_topic(broker.bootstrap, "ticket.opened.dlq", expect=1)
        headers = dict(dead.headers)
        assert headers["dlq-reason"] == b"bad_json"
        assert headers["dlq-value"] == b"reference"
        reference = json.loads(dead.value)
        assert reference["topic"] == "ticket.opened"
        assert reference["size"] == len(oversized)
        assert reference["reason"] == "bad_json"
        assert reference["offset"] == int(headers["dlq-original-offset"])
        assert reference["partition"] == int(headers["dlq-original-partition"])


async def test_an_event_of_another_type_on_a_topic_is_dead_lettered(broker, service):
    customer_id = new_id("c")
    async with service("profile") as profile:
        stray = ticket_opened(customer_id)
        await publish_raw(
            broker.bootstrap, "ticket.resolved", [json.dumps(stray).encode()], key=b"k"
        )
        dead = await read_topic(broker.bootstrap, "ticket.resolved.dlq", expect=1)
        assert dict(dead[0].headers)["dlq-reason"] == b"type_mismatch"
        assert await open_tickets(profile.client, customer_id) == -1
