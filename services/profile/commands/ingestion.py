"""HTTP ingestion (``POST /v1/events``): a storefront's events, checked as the consumers will
check them, published as they came through the outbox. Accepted means written with the
commit, so the relay takes it to the broker whatever happens next; the consumers' inboxes make
an event sent twice (over HTTP, or over HTTP and Kafka) count once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from shared.events.envelope import TypedEvent, encode_event
from shared.rate_limit import RateLimiter
from shared.transaction import Transaction


@dataclass(frozen=True)
class Ingestion:
    limiter: RateLimiter
    """Events per second and burst, per API key."""
    max_events: int = 1000
    """Events one request may carry."""
    max_body_bytes: int = 5 << 20


async def publish_received(tx: Transaction, events: Sequence[TypedEvent[Any]]) -> None:
    """Each event to its type's topic under its customer's id, as a storefront's producer
    would send it (structured mode, ``content-type: application/cloudevents+json``)."""
    for event in events:
        value, _headers = encode_event(event.envelope)
        tx.outbox.forward(event.type, event.subject, value)
