"""The one place a service's events leave for the broker (only the outbox relay calls it)."""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import murmur2
from aiokafka.record.default_records import DefaultRecordBatchBuilder

# Record batches of up to this size: a relay round of a few hundred events is a few batches.
_BATCH_BYTES = 256 * 1024


@dataclass(frozen=True)
class OutgoingMessage:
    topic: str
    key: str
    value: bytes
    headers: list[tuple[str, bytes]]


class Publisher:
    """An aiokafka producer started lazily, so a service starts while the broker is down."""

    def __init__(
        self,
        bootstrap: str,
        *,
        idempotence: bool,
        client_id: str,
        max_request_bytes: int = 1_048_576,
    ) -> None:
        self._bootstrap = bootstrap
        self._max_request_bytes = max_request_bytes
        self._idempotence = idempotence
        self._client_id = client_id
        self._producer: AIOKafkaProducer | None = None
        self._lock = asyncio.Lock()

    async def _started(self) -> AIOKafkaProducer:
        async with self._lock:
            if self._producer is None:
                producer = AIOKafkaProducer(
                    bootstrap_servers=self._bootstrap,
                    client_id=self._client_id,
                    acks="all",
                    enable_idempotence=self._idempotence,
                    # No lingering: the relay hands over a whole batch at once, and the first
                    # event after a quiet spell (a complaint) should not wait for company.
                    linger_ms=0,
                    max_batch_size=_BATCH_BYTES,
                    # A message over the broker's limit fails here (MessageSizeTooLargeError),
                    # not as a batch the broker refuses.
                    max_request_size=self._max_request_bytes,
                    request_timeout_ms=10_000,
                )
                self._producer = producer
                try:
                    await producer.start()
                except BaseException:
                    self._producer = None
                    with contextlib.suppress(Exception):
                        await producer.stop()
                    raise
            return self._producer

    async def send_all(self, messages: Sequence[OutgoingMessage]) -> None:
        """Send in order and wait until the broker acknowledged every one, or raise.

        The messages go as one record batch per partition (more when one fills up), the
        partition the producer itself would choose for the key: a few batches to hand over
        instead of a future per message, which costs half the CPU."""
        producer = await self._started()
        try:
            acknowledged = []
            for topic, partition, batch in await _batches(producer, messages):
                if isinstance(batch, OutgoingMessage):
                    # Larger than a batch: alone, under the producer's own size limit.
                    send = producer.send(
                        topic,
                        batch.value,
                        key=batch.key.encode(),
                        headers=batch.headers,
                        partition=partition,
                    )
                else:
                    send = producer.send_batch(batch, topic, partition=partition)
                acknowledged.append(await send)
            await asyncio.gather(*acknowledged)
        except Exception:
            # A producer that failed mid-batch may hold half-sent batches; start afresh next time.
            await self.reset()
            raise

    async def reset(self) -> None:
        async with self._lock:
            producer, self._producer = self._producer, None
        if producer is not None:
            with contextlib.suppress(Exception):
                await producer.stop()

    async def close(self) -> None:
        await self.reset()


async def _batches(
    producer: AIOKafkaProducer, messages: Sequence[OutgoingMessage]
) -> list[tuple[str, int, Any]]:
    """Each partition's messages in order, in as many batches as they fill (a message too
    large for any batch stands alone), in the order to send them."""
    counts = {
        topic: len(await producer.partitions_for(topic)) for topic in {m.topic for m in messages}
    }
    filling: dict[tuple[str, int], Any] = {}
    ready: list[tuple[str, int, Any]] = []
    for message in messages:
        key = message.key.encode()
        where = (message.topic, _partition(key, counts[message.topic]))
        batch = filling.get(where)
        if batch is not None and _added(batch, key, message):
            continue
        if batch is not None:
            ready.append((*where, filling.pop(where)))
        batch = producer.create_batch()
        # An empty batch takes a record of any size: a large one goes alone, where the
        # producer checks it against the request size limit.
        if not _too_large(key, message) and _added(batch, key, message):
            filling[where] = batch
        else:
            ready.append((*where, message))
    ready.extend((*where, batch) for where, batch in filling.items())
    return ready


def _too_large(key: bytes, message: OutgoingMessage) -> bool:
    size = DefaultRecordBatchBuilder.estimate_size_in_bytes(key, message.value, message.headers)
    return bool(size > _BATCH_BYTES)


def _added(batch: Any, key: bytes, message: OutgoingMessage) -> bool:
    metadata = batch.append(key=key, value=message.value, timestamp=None, headers=message.headers)
    return metadata is not None


@functools.lru_cache(maxsize=65536)
def _partition(key: bytes, partitions: int) -> int:
    # As the Java client and aiokafka's default partitioner: murmur2 of the key.
    return (murmur2(key) & 0x7FFFFFFF) % partitions
