"""The publisher batches by partition itself; its choice must be the producer's own (murmur2 of
the key, as every Kafka client), or one customer's events would be split across partitions."""

from __future__ import annotations

import pytest
from aiokafka.partitioner import DefaultPartitioner

from shared.messaging.publisher import _partition


@pytest.mark.parametrize("partitions", [1, 3, 12])
def test_partition_is_the_default_partitioners(partitions: int) -> None:
    default = DefaultPartitioner()
    every = list(range(partitions))
    for i in range(2000):
        key = f"c-{i:07d}".encode()
        assert _partition(key, partitions) == default(key, every, every)


def test_an_empty_key_has_a_fixed_partition() -> None:
    assert _partition(b"", 3) == DefaultPartitioner()(b"", [0, 1, 2], [0, 1, 2])
