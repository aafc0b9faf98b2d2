"""The consumer runner: broker -> envelope -> inbox check -> handler -> commit -> offset commit.

Offsets are committed per partition, after every effect of the batch in hand is durable.
A rebalance waits for that batch (the revocation listener takes the batch lock), so it never
commits work not done; redeliveries that follow a crash are recognised by the inbox.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import time
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import (
    CommitFailedError,
    KafkaError,
    MessageSizeTooLargeError,
    RecordListTooLargeError,
    RecordTooLargeError,
)
from aiokafka.structs import ConsumerRecord
from pydantic import BaseModel

from shared import inbox
from shared.backoff import Backoff
from shared.clock import Clock
from shared.db import is_sqlite
from shared.events.catalogue import dead_letter_topic
from shared.events.envelope import EventDecodeError, TypedEvent, decode_message
from shared.messaging.errors import EventRejected, is_infrastructure_failure
from shared.messaging.publisher import OutgoingMessage, Publisher
from shared.metrics import ServiceMetrics
from shared.settings import ServiceSettings
from shared.subscriptions import RunHandler
from shared.transaction import TransactionFactory
from shared.turns import in_turns

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ConsumerConfig:
    bootstrap: str
    group_id: str
    client_id: str
    batch_size: int = 200
    transaction_size: int = 20
    max_attempts: int = 5
    backoff: Backoff = field(default_factory=lambda: Backoff(0.1, 5.0))
    fetch_max_wait_ms: int = 10
    """How long the broker may hold a fetch while records are arriving."""
    idle_fetch_max_wait_ms: int = 6000
    """... doubling from the above with every empty fetch up to this: at rest, a consumer
    fetches once every few seconds; after a lone event it polls a few times, not a hundred."""
    gather_ms: int = 0
    """Once caught up (a fetch brought a few records, and few more wait), the next records are
    taken no sooner than this after the last: a steady trickle is applied in a few runs a
    second, each one transaction and one fetch, not one per handful of events. The embedded
    broker reads the whole retained partition for every fetch that finds records, so fewer
    fetches is most of what it costs under load."""
    session_timeout_ms: int = 10_000
    heartbeat_interval_ms: int = 3_000
    concurrency: int = 1
    """How many partitions of a batch are applied at once, each in its own transactions."""

    @classmethod
    def from_settings(cls, settings: ServiceSettings) -> ConsumerConfig:
        return cls(
            bootstrap=settings.kafka_bootstrap,
            group_id=settings.consumer_group,
            client_id=f"loopcrm-{settings.service_name}",
            batch_size=settings.consumer_batch_size,
            transaction_size=max(1, settings.consumer_transaction_size),
            max_attempts=settings.consumer_max_attempts,
            backoff=Backoff(
                settings.consumer_retry_backoff_ms / 1000,
                settings.consumer_retry_backoff_max_ms / 1000,
            ),
            fetch_max_wait_ms=settings.kafka_fetch_max_wait_ms,
            idle_fetch_max_wait_ms=settings.kafka_idle_fetch_max_wait_ms,
            gather_ms=settings.consumer_gather_ms,
            session_timeout_ms=settings.kafka_session_timeout_ms,
            heartbeat_interval_ms=settings.kafka_heartbeat_interval_ms,
            concurrency=(
                1 if is_sqlite(settings.resolved_database_url()) else settings.consumer_concurrency
            ),
        )

    def urgent(self, settings: ServiceSettings) -> ConsumerConfig:
        """The lane of the latency-critical topics: a group of its own whose fetch wait stays
        short at rest (``kafka_urgent_fetch_max_wait_ms``) and that takes records as they come."""
        return replace(
            self,
            group_id=f"{self.group_id}.urgent",
            client_id=f"{self.client_id}-urgent",
            idle_fetch_max_wait_ms=settings.kafka_urgent_fetch_max_wait_ms,
            gather_ms=0,
        )


class EventApplier:
    """A run of events in one transaction: one inbox claim for the run, then each type's
    handler on its fresh events in order. The consumer runner and the test harness share it."""

    def __init__(
        self,
        handlers: Mapping[str, RunHandler],
        transactions: TransactionFactory,
        clock: Clock,
        urgent: Collection[str] = (),
        data_models: Mapping[str, type[BaseModel]] | None = None,
    ) -> None:
        self.handlers = dict(handlers)
        self.data_models = dict(data_models or {})
        """The types the handlers read with a model of their own, to decode them with."""
        self._transactions = transactions
        self._clock = clock
        self._urgent = frozenset(urgent)

    async def apply(self, events: Sequence[TypedEvent[Any]]) -> list[str]:
        """Apply the run; each event's outcome, "handled" or "duplicate". What a run of
        urgent types publishes leaves at once; a run of the steady stream may gather."""
        prompt = any(event.type in self._urgent for event in events)
        async with self._transactions.begin(self._clock.now(), prompt=prompt) as tx:
            claimed = await inbox.claim_many(
                tx.session, [event.envelope for event in events], now=tx.now
            )
            fresh = [event for event, new in zip(events, claimed, strict=True) if new]
            for event_type, run in itertools.groupby(fresh, key=lambda event: event.type):
                await self.handlers[event_type](list(run), tx)
        return ["handled" if new else "duplicate" for new in claimed]


_LAG_EVERY_S = 1.0
_LAG_AT_REST_EVERY_S = 30.0
"""At rest no record arrives, so the lag stays what it was once it has been seen after the
last records; it is looked at every second again as soon as records come."""


def _set_fetch_wait(consumer: AIOKafkaConsumer, wait_ms: int) -> None:
    """Change how long the broker may hold the next fetch. Apache Kafka answers a held fetch as
    soon as data arrives, so a long wait costs no latency there; the embedded broker holds it
    for most of the wait, hence short waits while busy and on the urgent lane. aiokafka reads
    this attribute for every fetch request it builds (pinned: aiokafka 0.14)."""
    consumer._fetcher._fetch_max_wait_ms = wait_ms


class _FetchWait:
    """How long the broker may hold the consumer's next fetch: short while records stream in
    (a fetch brings ``_STREAMING`` or more), halved after a fetch that brought a few, doubled
    after an empty one, between the busy and the idle wait. A fixed short wait would keep
    every consumer fetching a hundred times a second under a trickle of events (most of the
    broker's CPU, and the latency of everything else); a fixed long one would add up to half
    of it to the first records after a pause (the embedded broker holds a fetch that long)."""

    def __init__(self, busy_ms: int, idle_ms: int) -> None:
        self.busy_ms, self.idle_ms = busy_ms, max(busy_ms, idle_ms)
        self.ms = busy_ms

    @property
    def getmany_timeout_ms(self) -> int:
        # While the wait moves, about one fetch per loop, so it moves with each answer. At
        # rest nothing moves until records come, and records end the wait at once: one loop
        # per fetch, at least a second (the urgent lane fetches many times a second), and
        # stopping cancels the wait, it is not polled for.
        return max(self.idle_ms, _AT_REST_LOOP_MS) if self.at_rest else max(10, min(self.ms, 200))

    @property
    def at_rest(self) -> bool:
        return self.ms >= self.idle_ms

    def after_fetch(self, records: int) -> bool:
        """Move the wait after a fetch that brought ``records``; whether it changed."""
        if records >= _STREAMING:
            wait = self.busy_ms
        elif records:
            wait = max(self.busy_ms, self.ms // 2)
        else:
            wait = min(self.ms * 2, self.idle_ms)
        changed, self.ms = wait != self.ms, wait
        return changed


_STREAMING = 10
_AT_REST_LOOP_MS = 1000


def _caught_up(
    consumer: AIOKafkaConsumer, batch: dict[TopicPartition, list[ConsumerRecord[Any, Any]]]
) -> bool:
    """Whether a batch was a trickle: a few records, and no partition of it with many more
    waiting at the broker (as of the last fetch). A backlog is taken at full speed."""
    if sum(map(len, batch.values())) >= _GATHER_BELOW:
        return False
    for tp, records in batch.items():
        highwater = consumer.highwater(tp)
        if highwater is not None and highwater - (records[-1].offset + 1) >= _GATHER_BELOW:
            return False
    return True


_GATHER_BELOW = 1000


Batch = Mapping[TopicPartition, list[ConsumerRecord[Any, Any]]]


def _by_number(batch: Batch) -> dict[int, dict[TopicPartition, list[ConsumerRecord[Any, Any]]]]:
    """The batch's partitions by partition number: a customer's key has the same number in
    every topic of the catalogue (same partition count, same partitioner), so the partitions
    of one number hold one set of customers and those of different numbers never share one."""
    by_number: dict[int, dict[TopicPartition, list[ConsumerRecord[Any, Any]]]] = {}
    for tp, records in batch.items():
        by_number.setdefault(tp.partition, {})[tp] = records
    return by_number


def _shared_out(batch: Batch, lanes: int) -> list[Batch]:
    """The batch's partition numbers in at most ``lanes`` lanes of about as many records."""
    numbers = _by_number(batch)
    shares: list[dict[TopicPartition, list[ConsumerRecord[Any, Any]]]] = [
        {} for _ in range(min(lanes, len(numbers)))
    ]
    sizes = [0] * len(shares)
    for parts in sorted(numbers.values(), key=lambda p: -sum(map(len, p.values()))):
        lightest = sizes.index(min(sizes))
        shares[lightest].update(parts)
        sizes[lightest] += sum(map(len, parts.values()))
    return list(shares)


_TOO_LARGE = (MessageSizeTooLargeError, RecordListTooLargeError, RecordTooLargeError)


def _refused_for_good(exc: Exception) -> bool:
    """A failure that sending again will not cure: not the broker being away (a Kafka error
    the client calls retriable, a connection or a timeout)."""
    if isinstance(exc, KafkaError):
        return not exc.retriable
    return not is_infrastructure_failure(exc)


def _reference(
    whole: OutgoingMessage,
    record: ConsumerRecord[Any, Any],
    reason: str,
    headers: list[tuple[str, bytes]],
) -> OutgoingMessage:
    """A dead letter that says where the original is (it stays on its topic for the
    retention period) instead of carrying it, with the dead-letter headers only."""
    reference = {
        "topic": record.topic,
        "partition": record.partition,
        "offset": record.offset,
        "size": len(record.value or b""),
        "reason": reason,
    }
    return replace(
        whole,
        value=json.dumps(reference).encode(),
        headers=[*headers, ("dlq-value", b"reference")],
    )


class _Alone(Exception):
    """A run of one event goes to the per-event path directly."""


class _ShutdownDuringRetry(Exception):
    """The process is stopping while an event waits on an outage: leave it uncommitted.

    ``next_offset`` is the first record of the partition not done, when it is known."""

    next_offset: int | None = None


class ConsumerRunner:
    def __init__(
        self,
        config: ConsumerConfig,
        *,
        applier: EventApplier,
        topics: Sequence[str] | None = None,
        dead_letters: Publisher,
        metrics: ServiceMetrics,
        clock: Clock,
    ) -> None:
        self._config = config
        self._applier = applier
        self._topics = sorted(topics if topics is not None else applier.handlers)
        self._dead_letters = dead_letters
        self._metrics = metrics
        self._clock = clock
        self._stopping = asyncio.Event()
        self._batch_lock = asyncio.Lock()
        self._consumer: AIOKafkaConsumer | None = None
        self._polling: asyncio.Future[Any] | None = None
        self.ready = asyncio.Event()
        self.joined = asyncio.Event()
        """Set once the group has given this member its partitions (none, when there are more
        members than partitions): from then on it takes events as they come."""
        self.batch_since: float | None = None
        """When (event loop time) the batch in hand was taken; None between batches."""
        self._undone: dict[TopicPartition, int] = {}
        """The first offset of each partition of the batch in hand not yet applied: the lag
        counts from there, so a batch that does not get done shows as lag."""
        metrics.prepare_topics(self.topics)

    @property
    def topics(self) -> list[str]:
        return self._topics

    @property
    def group_id(self) -> str:
        return self._config.group_id

    def stop(self) -> None:
        self._stopping.set()
        # A consumer at rest waits seconds for its next fetch: end the wait, not the batch.
        if self._polling is not None:
            self._polling.cancel()

    async def run(self) -> None:
        consumer = await self._start_consumer()
        if consumer is None:
            return
        loop = asyncio.get_running_loop()
        last_lag = loop.time()
        # Records came, or no look yet saw every partition, since the lag was last looked at.
        lag_unseen = True
        wait = _FetchWait(self._config.fetch_max_wait_ms, self._config.idle_fetch_max_wait_ms)
        try:
            while not self._stopping.is_set():
                batch = await self._poll(consumer, wait.getmany_timeout_ms)
                if batch is None:
                    break
                now = loop.time()
                if wait.after_fetch(sum(map(len, batch.values()))):
                    _set_fetch_wait(consumer, wait.ms)
                if batch:
                    lag_unseen = True
                    self._undone = {tp: records[0].offset for tp, records in batch.items()}
                    self.batch_since = loop.time()
                    watch = asyncio.create_task(self._watch_lag(consumer))
                    try:
                        async with self._batch_lock:
                            # A batch too large for a transaction goes partition by partition.
                            size = await self._handle_batch_at_once(consumer, batch)
                            if size is not None:
                                await self._handle_partitions(consumer, batch, size)
                    finally:
                        watch.cancel()
                        self._undone, self.batch_since = {}, None
                    gathering = now + self._config.gather_ms / 1000 - loop.time()
                    if gathering > 0 and _caught_up(consumer, batch):
                        await self._gather(consumer, gathering)
                at_rest = wait.at_rest and not lag_unseen
                if now - last_lag >= (_LAG_AT_REST_EVERY_S if at_rest else _LAG_EVERY_S):
                    last_lag = now
                    lag_unseen = not await self._observe_lag(consumer)
        finally:
            self._consumer = None
            # Leaving the group needs the broker; without one, stopping must not hang.
            with contextlib.suppress(Exception):
                await asyncio.wait_for(consumer.stop(), timeout=5)

    async def _gather(self, consumer: AIOKafkaConsumer, seconds: float) -> None:
        """Let records gather at the broker. The partitions are paused meanwhile: aiokafka
        would otherwise fetch those with nothing buffered again and again, and each fetch costs
        the embedded broker a read of every partition in it."""
        consumer.pause(*consumer.assignment())
        try:
            await self._pause(seconds)
        finally:
            # A rebalance meanwhile assigns partitions afresh, unpaused.
            consumer.resume(*consumer.paused())

    async def _poll(
        self, consumer: AIOKafkaConsumer, timeout_ms: int
    ) -> dict[TopicPartition, list[ConsumerRecord[Any, Any]]] | None:
        """The next fetched records (empty after ``timeout_ms``); None when stopping ended the
        wait. Records fetched meanwhile stay in the client, uncommitted: nothing is lost."""
        poll = asyncio.ensure_future(
            consumer.getmany(timeout_ms=timeout_ms, max_records=self._config.batch_size)
        )
        self._polling = poll
        try:
            batch: dict[TopicPartition, list[ConsumerRecord[Any, Any]]] = await poll
        except asyncio.CancelledError:
            if poll.cancelled() and self._stopping.is_set():
                return None
            raise
        finally:
            self._polling = None
        return batch

    async def _handle_batch_at_once(
        self,
        consumer: AIOKafkaConsumer,
        batch: Batch,
    ) -> int | None:
        """Apply a fetched batch of several partitions in a transaction per lane, when it fits
        one (None: done), or the transaction size for the partition by partition path. A lane
        with a record that does not decode goes that path; a lane that fails is redone there
        event by event, where the retry and dead-letter rules apply to the event that fails.

        Under a steady mix a fetch holds a few events of many partitions; one transaction for
        all of them costs what one partition's run costs. With ``concurrency`` above 1 the
        partition numbers are shared out between that many lanes (as in ``_handle_partitions``,
        each lane holds other customers), so while one lane's statements wait on the database
        the next is decoded and applied. Within a type, each partition's order is kept (a
        stable sort); across topics there is no order to keep.
        """
        usual = self._config.transaction_size
        if len(batch) < 2 or sum(map(len, batch.values())) > usual:
            return usual
        lanes = _shared_out(batch, self._config.concurrency)
        sizes = await asyncio.gather(*(self._apply_lane(consumer, lane) for lane in lanes))
        for lane, size in zip(lanes, sizes, strict=True):
            if size is not None:
                await self._handle_partitions(consumer, lane, size)
        return None

    async def _apply_lane(
        self,
        consumer: AIOKafkaConsumer,
        lane: Batch,
    ) -> int | None:
        """One lane of ``_handle_batch_at_once`` in one transaction, its offsets committed
        (None), or the transaction size to redo it partition by partition."""
        records = [record for part in lane.values() for record in part]
        started = time.perf_counter()
        try:
            decoded = [(record, self._decode(record)) async for record in in_turns(records, 256)]
        except EventDecodeError:
            return self._config.transaction_size
        decoded.sort(key=lambda pair: pair[1].type)
        try:
            outcomes = await self._applier.apply([event for _, event in decoded])
        except Exception as exc:
            self._note_redone({tp.topic for tp in lane}, len(records), exc)
            return 1
        for (record, _event), outcome in zip(decoded, outcomes, strict=True):
            self._observe(record.topic, outcome, started)
        offsets = {tp: part[-1].offset + 1 for tp, part in lane.items()}
        for tp in lane:
            self._undone.pop(tp, None)
        try:
            await consumer.commit(offsets)
        except (CommitFailedError, KafkaError) as exc:
            # The partitions moved to another member; they redeliver and the inbox dedupes.
            log.warning("offset commit refused", extra={"error": repr(exc)})
        return None

    async def _start_consumer(self) -> AIOKafkaConsumer | None:
        failures = 0
        while not self._stopping.is_set():
            consumer = AIOKafkaConsumer(
                bootstrap_servers=self._config.bootstrap,
                group_id=self._config.group_id,
                client_id=self._config.client_id,
                enable_auto_commit=False,
                auto_offset_reset="earliest",
                fetch_max_wait_ms=self._config.fetch_max_wait_ms,
                max_poll_records=self._config.batch_size,
                # A backlog arrives in runs as long as a transaction takes (records are about
                # 1 KiB), so a customer's many events are applied together.
                max_partition_fetch_bytes=max(1 << 20, self._config.transaction_size * 2048),
                session_timeout_ms=self._config.session_timeout_ms,
                heartbeat_interval_ms=self._config.heartbeat_interval_ms,
            )
            consumer.subscribe(self.topics, listener=_FinishBatchOnRevoke(self))
            try:
                await consumer.start()
            except KafkaError as exc:
                await consumer.stop()
                log.warning("broker unreachable, consumer retrying", extra={"error": repr(exc)})
                failures += 1
                await self._pause(self._config.backoff.delay(failures))
                continue
            self._consumer = consumer
            self.ready.set()
            return consumer
        return None

    async def _handle_partitions(
        self,
        consumer: AIOKafkaConsumer,
        batch: Batch,
        size: int,
    ) -> None:
        """Each partition's records in order, up to ``concurrency`` partition numbers at once.

        Events are keyed by customer, and a key has the same partition number in every topic of
        the catalogue (same partition count, same partitioner), so lanes of different numbers
        hold different customers' rows and never wait on each other, nor insert the same new
        customer twice; the topics of one number are applied one after the other. While one
        run waits on the database, another is decoded and applied. An unexpected failure of
        one lane is raised once the others are done (their offsets committed)."""
        lanes = asyncio.Semaphore(self._config.concurrency)

        async def in_lane(parts: Batch) -> None:
            async with lanes:
                for tp, records in parts.items():
                    await self._handle_partition(consumer, tp, records, size)

        outcomes = await asyncio.gather(
            *(in_lane(parts) for parts in _by_number(batch).values()), return_exceptions=True
        )
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome

    async def _handle_partition(
        self,
        consumer: AIOKafkaConsumer,
        tp: TopicPartition,
        records: list[ConsumerRecord[Any, Any]],
        size: int,
    ) -> None:
        next_offset: int | None = None
        for start in range(0, len(records), size):
            chunk = records[start : start + size]
            try:
                await self._handle_chunk(chunk)
            except _ShutdownDuringRetry as stopped:
                next_offset = (
                    stopped.next_offset if stopped.next_offset is not None else next_offset
                )
                break
            next_offset = chunk[-1].offset + 1
        if next_offset is None:
            return
        self._undone[tp] = next_offset
        try:
            await consumer.commit({tp: next_offset})
        except (CommitFailedError, KafkaError) as exc:
            # The partition moved to another member; it will redeliver and the inbox dedupes.
            log.warning("offset commit refused", extra={"topic": tp.topic, "error": repr(exc)})

    async def _handle_chunk(self, records: list[ConsumerRecord[Any, Any]]) -> None:
        """Apply a run of one partition's records in one transaction when all of them succeed.

        If any handler fails, nothing of the run was committed; it is then redone one event per
        transaction, where the retry and dead-letter rules apply to the event that fails.
        """
        started = time.perf_counter()
        decoded: list[tuple[ConsumerRecord[Any, Any], TypedEvent[Any]]] = []
        async for record in in_turns(records, 256):
            event = await self._decode_or_dead_letter(record)
            if event is not None:
                decoded.append((record, event))
        if not decoded:
            return
        try:
            if len(records) == 1:
                raise _Alone  # one event: straight to its own attempts, retries included
            outcomes = await self._applier.apply([event for _, event in decoded])
        except Exception as exc:
            if not isinstance(exc, _Alone):
                self._note_redone({records[0].topic}, len(decoded), exc)
            for record, event in decoded:
                try:
                    await self._handle_event(record, event, started)
                except _ShutdownDuringRetry as stopped:
                    stopped.next_offset = record.offset
                    raise
            return
        for (record, _event), outcome in zip(decoded, outcomes, strict=True):
            self._observe(record.topic, outcome, started)

    def _note_redone(self, topics: set[str], events: int, exc: Exception) -> None:
        """A run that failed as a set is redone one event per transaction: worth a look (a
        poison event, or contention between runs), since each event then costs a transaction."""
        for topic in topics:
            self._metrics.runs_redone.labels(topic=topic).inc()
        log.warning(
            "run redone event by event",
            extra={"topics": sorted(topics), "events": events, "error": repr(exc)[:300]},
        )

    def _decode(self, record: ConsumerRecord[Any, Any]) -> TypedEvent[Any]:
        event = decode_message(record.value, record.headers, self._applier.data_models)
        if event.type != record.topic:
            raise EventDecodeError("type_mismatch", f"{event.type!r} on topic {record.topic!r}")
        return event

    async def _decode_or_dead_letter(
        self, record: ConsumerRecord[Any, Any]
    ) -> TypedEvent[Any] | None:
        try:
            event = self._decode(record)
        except EventDecodeError as exc:
            await self._dead_letter(record, exc.reason, exc.detail)
            return None
        return event

    async def _handle_event(
        self, record: ConsumerRecord[Any, Any], event: TypedEvent[Any], started: float
    ) -> None:
        topic = record.topic
        attempt = 0
        while True:
            attempt += 1
            try:
                [outcome] = await self._applier.apply([event])
            except EventRejected as exc:
                await self._dead_letter(record, exc.reason, exc.detail)
                return
            except Exception as exc:
                infrastructure = is_infrastructure_failure(exc)
                if not infrastructure and attempt >= self._config.max_attempts:
                    log.exception("handler failed, dead-lettering", extra={"topic": topic})
                    await self._dead_letter(record, "handler_failed", repr(exc)[:500])
                    return
                self._metrics.events_consumed.labels(topic=topic, outcome="retried").inc()
                log.warning(
                    "handler failed, retrying",
                    extra={"topic": topic, "attempt": attempt, "error": repr(exc)[:300]},
                )
                if self._stopping.is_set() and infrastructure:
                    raise _ShutdownDuringRetry from exc
                await self._pause(self._config.backoff.delay(attempt))
                continue
            self._observe(topic, outcome, started)
            return

    def _observe(self, topic: str, outcome: str, started: float) -> None:
        self._metrics.events_consumed.labels(topic=topic, outcome=outcome).inc()
        self._metrics.event_handling.labels(topic=topic).observe(time.perf_counter() - started)

    async def _dead_letter(
        self, record: ConsumerRecord[Any, Any], reason: str, detail: str
    ) -> None:
        """Send the record to its dead-letter topic, with why and where from in headers, and
        count it. A record the broker would refuse as it is (over the request size once the
        headers are added) goes as a reference to the original instead; a dead letter that
        cannot be sent even so, for a reason other than the broker being away, is given up
        after ``max_attempts`` (logged and counted): the consumer never stops on one message.
        A broker that is away is waited for, as the next records would be."""
        headers = [
            ("dlq-reason", reason.encode()),
            ("dlq-error", detail[:1000].encode()),
            ("dlq-original-topic", record.topic.encode()),
            ("dlq-original-partition", str(record.partition).encode()),
            ("dlq-original-offset", str(record.offset).encode()),
            ("dlq-consumer-group", self._config.group_id.encode()),
            ("dlq-failed-at", self._clock.now().isoformat().encode()),
        ]
        message = OutgoingMessage(
            topic=dead_letter_topic(record.topic),
            key=(record.key or b"").decode("utf-8", "replace"),
            value=record.value or b"",
            headers=[*(record.headers or ()), *headers],
        )
        failures, as_reference = 0, False
        while True:
            try:
                await self._dead_letters.send_all([message])
                break
            except _TOO_LARGE as exc:
                if as_reference:
                    self._dead_letter_lost(record, reason, exc)
                    return
                message, as_reference = _reference(message, record, reason, headers), True
            except Exception as exc:
                if self._stopping.is_set():
                    raise _ShutdownDuringRetry from exc
                failures += 1
                if failures >= self._config.max_attempts and _refused_for_good(exc):
                    self._dead_letter_lost(record, reason, exc)
                    return
                log.warning("dead-letter send failed, retrying", extra={"error": repr(exc)})
                await self._pause(self._config.backoff.delay(failures))
        log.warning(
            "event dead-lettered",
            extra={"topic": record.topic, "offset": record.offset, "reason": reason},
        )
        self._metrics.events_consumed.labels(topic=record.topic, outcome="dead_lettered").inc()

    def _dead_letter_lost(
        self, record: ConsumerRecord[Any, Any], reason: str, exc: Exception
    ) -> None:
        log.error(
            "event could not be dead-lettered, skipped",
            extra={
                "topic": record.topic,
                "partition": record.partition,
                "offset": record.offset,
                "reason": reason,
                "error": repr(exc)[:300],
            },
        )
        self._metrics.events_consumed.labels(topic=record.topic, outcome="dead_letter_failed").inc()

    async def _watch_lag(self, consumer: AIOKafkaConsumer) -> None:
        """While a batch takes longer than a second (a slow run, an outage being retried),
        look at the lag every second, which the loop does only between batches."""
        while True:
            await asyncio.sleep(_LAG_EVERY_S)
            await self._observe_lag(consumer)

    async def _observe_lag(self, consumer: AIOKafkaConsumer) -> bool:
        """Set the lag of each assigned partition; whether every one was seen."""
        # highwater - position: this broker's end_offsets() answers are not to be trusted.
        assigned = consumer.assignment()
        seen = 0
        for tp in assigned:
            highwater = consumer.highwater(tp)
            if highwater is None:
                continue
            try:
                position = await asyncio.wait_for(consumer.position(tp), timeout=0.5)
            except (TimeoutError, KafkaError, AssertionError, KeyError):
                continue
            done_up_to = min(position, self._undone.get(tp, position))
            self._metrics.consumer_lag.labels(topic=tp.topic, partition=str(tp.partition)).set(
                max(0, highwater - done_up_to)
            )
            seen += 1
        return bool(assigned) and seen == len(assigned)

    def forget_partitions(self, revoked: set[TopicPartition]) -> None:
        for tp in revoked:
            with contextlib.suppress(KeyError):
                self._metrics.consumer_lag.remove(tp.topic, str(tp.partition))

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)


class _FinishBatchOnRevoke(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, runner: ConsumerRunner) -> None:
        self._runner = runner

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        async with self._runner._batch_lock:
            self._runner.forget_partitions(revoked)

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        self._runner.joined.set()
