"""The default adapter: sends nothing, keeps what would have been sent (newest last)."""

from __future__ import annotations

from collections import deque

from services.engagement.adapters.delivery import Delivery


class RecordingAdapter:
    def __init__(self, capacity: int = 10_000) -> None:
        self._deliveries: deque[Delivery] = deque(maxlen=capacity)

    async def deliver(self, delivery: Delivery) -> None:
        self._deliveries.append(delivery)

    def forget(self, customer_id: str) -> None:
        kept = [d for d in self._deliveries if d.customer_id != customer_id]
        self._deliveries.clear()
        self._deliveries.extend(kept)

    @property
    def deliveries(self) -> list[Delivery]:
        return list(self._deliveries)

    def for_customer(self, customer_id: str) -> list[Delivery]:
        return [d for d in self._deliveries if d.customer_id == customer_id]
