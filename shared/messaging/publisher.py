"""The one place a service's events leave for the broker (only the outbox relay calls it)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from dataclasses import dataclass

from aiokafka import AIOKafkaProducer


@dataclass(frozen=True)
class OutgoingMessage:
    topic: str
    key: str
    value: bytes
    headers: list[tuple[str, bytes]]


class Publisher:
    """An aiokafka producer started lazily, so a service starts while the broker is down."""

    def __init__(self, bootstrap: str, *, idempotence: bool, client_id: str) -> None:
        self._bootstrap = bootstrap
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
        """Send in order and wait until the broker acknowledged every one, or raise."""
        producer = await self._started()
        try:
            futures = [
                await producer.send(m.topic, m.value, key=m.key.encode(), headers=m.headers)
                for m in messages
            ]
            await asyncio.gather(*futures)
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
