"""How the consumer runner tells a failure that will pass from one that never will."""

from __future__ import annotations

import asyncio

from aiokafka.errors import KafkaError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError


class EventRejected(Exception):
    """Raised by a handler for an event it can never apply; the event goes to the DLQ at once."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


def is_infrastructure_failure(exc: BaseException) -> bool:
    """Database or broker unreachable: retried until it passes, never dead-lettered.

    Dead-lettering during an outage would empty the topic into the DLQ; blocking the partition
    instead keeps every event and shows up as consumer lag.
    """
    if isinstance(exc, OperationalError | InterfaceError):
        return True
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, OSError | ConnectionError | asyncio.TimeoutError | KafkaError)
