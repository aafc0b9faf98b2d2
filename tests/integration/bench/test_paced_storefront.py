"""The bench's paced storefront builds its batches itself: on the real broker every event
arrives once, as the JSON it was made from, on the partition the default partitioner picks
for its customer, in the order it was made, with its content type."""

from __future__ import annotations

import json

from aiokafka.partitioner import DefaultPartitioner

from tests.bench.load import produce_paced
from tests.bench.workload import MIX_KINDS, StorefrontMix, customer_ids
from tests.support.events import read_topic


async def test_every_event_arrives_once_on_its_customers_partition_in_order(broker) -> None:
    made: list[dict] = []
    mix = StorefrontMix(customer_ids("paced", 40))

    def recorded():
        for event in mix:
            made.append(event)
            yield event

    result = await produce_paced(broker.bootstrap, recorded(), rate=500, seconds=1.0)

    assert result.sent == len(made) == 500 and result.failed == 0
    default = DefaultPartitioner()
    for topic in MIX_KINDS:
        sent = [event for event in made if event["type"] == topic]
        records = await read_topic(broker.bootstrap, topic, expect=len(sent))
        assert sorted(r.value for r in records) == sorted(json.dumps(e).encode() for e in sent)
        for record in records:
            assert record.partition == default(record.key, [0, 1, 2], [0, 1, 2])
            assert dict(record.headers)["content-type"] == b"application/cloudevents+json"
            assert json.loads(record.value)["subject"].encode() == record.key
        for customer in {event["subject"] for event in sent}:
            theirs = [r for r in records if r.key == customer.encode()]
            ids = [json.loads(r.value)["id"] for r in sorted(theirs, key=lambda r: r.offset)]
            assert ids == [e["id"] for e in sent if e["subject"] == customer]
