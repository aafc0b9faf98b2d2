"""The publisher hands the producer record batches it builds itself: on the real broker every
message arrives once, on the partition the producer would choose for its key, in order, with
its headers, and a message too large for a batch goes alone without breaking the order."""

from __future__ import annotations

from aiokafka.partitioner import DefaultPartitioner

from shared.messaging.publisher import OutgoingMessage, Publisher
from tests.support.events import read_topic

TOPIC = "ticket.opened"  # any topic of the catalogue: the broker fixture creates them all


async def test_batches_keep_each_keys_order_partition_and_headers(broker) -> None:
    keys = [f"c-{n}" for n in range(7)]
    large = b"x" * (300 * 1024)  # more than a batch holds, less than a request may
    messages = [
        OutgoingMessage(
            TOPIC,
            keys[n % len(keys)],
            large if n == 20 else f"{n}".encode(),
            [("n", f"{n}".encode())],
        )
        for n in range(60)
    ]
    publisher = Publisher(broker.bootstrap, idempotence=False, client_id="test-batches")
    try:
        await publisher.send_all(messages)
    finally:
        await publisher.close()

    records = await read_topic(broker.bootstrap, TOPIC, expect=len(messages))
    assert len(records) == len(messages)
    partitions = [0, 1, 2]  # as ensure_topics creates every topic
    default = DefaultPartitioner()
    for key in keys:
        mine = [r for r in records if r.key == key.encode()]
        numbers = [int(dict(r.headers)["n"]) for r in sorted(mine, key=lambda r: r.offset)]
        assert numbers == [n for n in range(60) if keys[n % len(keys)] == key]
        assert {r.partition for r in mine} == {default(key.encode(), partitions, partitions)}
    (alone,) = [r for r in records if len(r.value) > 1000]
    assert alone.value == large and dict(alone.headers)["n"] == b"20"
