"""A dead letter the broker refuses never stops the consumer: whole, then as a reference,
then given up (logged and counted)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from aiokafka.errors import (
    KafkaConnectionError,
    MessageSizeTooLargeError,
    TopicAuthorizationFailedError,
)
from aiokafka.structs import ConsumerRecord

from shared.backoff import Backoff
from shared.clock import FixedClock
from shared.messaging.consumer import (
    ConsumerConfig,
    ConsumerRunner,
    EventApplier,
    _ShutdownDuringRetry,
)
from shared.messaging.publisher import OutgoingMessage
from shared.metrics import ServiceMetrics


class RefusingPublisher:
    """Refuses every message of more than ``limit`` bytes of value, or all with ``failure``."""

    def __init__(self, limit: int, failure: Exception | None = None) -> None:
        self.limit, self.failure = limit, failure
        self.sent: list[OutgoingMessage] = []
        self.attempts = 0

    async def send_all(self, messages: list[OutgoingMessage]) -> None:
        self.attempts += 1
        [message] = messages
        if self.failure is not None:
            raise self.failure
        if len(message.value) > self.limit:
            raise MessageSizeTooLargeError("too large")
        self.sent.append(message)


def _runner(publisher: RefusingPublisher, metrics: ServiceMetrics) -> ConsumerRunner:
    clock = FixedClock(datetime(2026, 3, 1, tzinfo=UTC))
    config = ConsumerConfig(
        bootstrap="unused:9092",
        group_id="loopcrm.test",
        client_id="test",
        max_attempts=3,
        backoff=Backoff(0.001, 0.001),
    )
    applier = EventApplier({}, transactions=None, clock=clock)  # type: ignore[arg-type]
    return ConsumerRunner(
        config,
        applier=applier,
        topics=["review.posted"],
        dead_letters=publisher,  # type: ignore[arg-type]
        metrics=metrics,
        clock=clock,
    )


def _record(value: bytes) -> ConsumerRecord:
    return ConsumerRecord(
        topic="review.posted",
        partition=2,
        offset=41,
        timestamp=0,
        timestamp_type=0,
        key=b"c-1",
        value=value,
        checksum=None,
        serialized_key_size=3,
        serialized_value_size=len(value),
        headers=[("content-type", b"application/cloudevents+json")],
    )


def _outcome(metrics: ServiceMetrics, outcome: str) -> float:
    value = metrics.registry.get_sample_value(
        "loopcrm_events_consumed_total", {"topic": "review.posted", "outcome": outcome}
    )
    return value or 0.0


async def test_a_dead_letter_too_large_goes_as_a_reference_to_the_original():
    publisher, metrics = RefusingPublisher(limit=1000), ServiceMetrics("test")
    await _runner(publisher, metrics)._dead_letter(_record(b"x" * 5000), "bad_json", "detail")

    [sent] = publisher.sent
    assert json.loads(sent.value) == {
        "topic": "review.posted",
        "partition": 2,
        "offset": 41,
        "size": 5000,
        "reason": "bad_json",
    }
    headers = dict(sent.headers)
    assert headers["dlq-value"] == b"reference"
    assert headers["dlq-reason"] == b"bad_json"
    assert "content-type" not in headers  # the original's headers may be what is large
    assert _outcome(metrics, "dead_lettered") == 1


async def test_a_dead_letter_refused_even_as_a_reference_is_given_up_and_counted():
    publisher, metrics = RefusingPublisher(limit=0), ServiceMetrics("test")
    await _runner(publisher, metrics)._dead_letter(_record(b"x" * 5000), "bad_json", "detail")

    assert publisher.sent == []
    assert publisher.attempts == 2  # whole, then as a reference
    assert _outcome(metrics, "dead_letter_failed") == 1
    assert _outcome(metrics, "dead_lettered") == 0


async def test_a_dead_letter_the_broker_keeps_refusing_is_given_up_after_the_attempts():
    refusal = TopicAuthorizationFailedError("the dead-letter topic is not ours to write")
    publisher, metrics = RefusingPublisher(limit=10_000, failure=refusal), ServiceMetrics("test")
    await _runner(publisher, metrics)._dead_letter(_record(b"{}"), "bad_json", "detail")

    assert publisher.attempts == 3
    assert _outcome(metrics, "dead_letter_failed") == 1


async def test_a_broker_away_is_waited_for_not_given_up(monkeypatch):
    """Each attempt fails as a broker that is down does; the consumer keeps trying (here
    until the test stops it) and counts nothing as lost."""
    publisher, metrics = RefusingPublisher(limit=10_000), ServiceMetrics("test")
    runner = _runner(publisher, metrics)

    async def down(messages: list[OutgoingMessage]) -> None:
        publisher.attempts += 1
        if publisher.attempts == 10:
            runner.stop()
        raise KafkaConnectionError("broker away")

    monkeypatch.setattr(publisher, "send_all", down)
    # Stopping during the wait leaves the record uncommitted, to be redelivered.
    with pytest.raises(_ShutdownDuringRetry):
        await runner._dead_letter(_record(b"{}"), "bad_json", "detail")
    assert publisher.attempts == 10
    assert _outcome(metrics, "dead_letter_failed") == 0
