"""Transactional outbox: events are written with the state change and relayed afterwards.

``OutboxWriter`` belongs to one transaction: ``publish`` keeps the event and ``flush`` writes
every event of the transaction in one multi-row insert just before the commit, so an event
exists exactly when the change it describes does. ``OutboxRelay`` moves rows to the broker in
sequence order (hence in order per customer) and deletes them once acknowledged; a broker
outage only delays it.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import time
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Row, delete, func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from shared import bulk
from shared.clock import Clock
from shared.db import read_options
from shared.events.catalogue import CustomerEventData, event_type_of
from shared.events.envelope import STRUCTURED_CONTENT_TYPE, encode_new_event
from shared.messaging.publisher import OutgoingMessage, Publisher
from shared.metrics import ServiceMetrics
from shared.tables import outbox

log = logging.getLogger(__name__)

_BACKLOG_EVERY_S = 5.0

# Events relayed over the last second from which the service counts as publishing steadily
# (profile, segmentation and loyalty under a storefront mix: hundreds a second). A complaint
# and its follow-ups, a few events, are never held.
_BUSY_EVENTS_PER_S = 100

# One relay per service database, even with several replicas (PostgreSQL advisory lock key).
_RELAY_LOCK_KEY = 0x6C6F6F70


def _busy(recent: collections.deque[tuple[float, int]], now: float, relayed: int) -> bool:
    """Note a round that relayed ``relayed`` events; whether the last second's add up to a
    steady stream."""
    recent.append((now, relayed))
    while recent[0][0] < now - 1.0:
        recent.popleft()
    return sum(count for _, count in recent) >= _BUSY_EVENTS_PER_S


class OutboxWriter:
    """The events one transaction publishes: ``await tx.outbox.publish(SilenceStarted(...),
    time=...)``. Type from the model, subject from ``customer_id``, source from the service."""

    def __init__(
        self,
        session: AsyncSession,
        *,
        source: str,
        now: datetime,
        allowed: frozenset[str] | None = None,
    ) -> None:
        self._session = session
        self._source = source
        self._now = now
        self._allowed = allowed
        self._pending: list[dict[str, Any]] = []

    async def publish(self, data: CustomerEventData, *, time: datetime) -> str:
        """Publish ``data`` at business time ``time`` with the transaction's commit; its id."""
        event_type = event_type_of(type(data))
        if self._allowed is not None and event_type not in self._allowed:
            raise ValueError(f"{self._source} does not declare that it publishes {event_type}")
        event_id, value = encode_new_event(
            event_type, source=self._source, time=time, subject=data.customer_id, data=data
        )
        self._pending.append(
            {
                "event_id": event_id,
                "topic": event_type,
                "key": data.customer_id,
                "payload": value.decode(),
                "created_at": self._now,
            }
        )
        return event_id

    def forward(self, topic: str, key: str, value: bytes) -> None:
        """Publish an event received from outside (HTTP ingestion) as it came: its own id,
        source and time, under the key a storefront's producer would use."""
        self._pending.append(
            {
                "event_id": str(uuid.uuid4()),
                "topic": topic,
                "key": key,
                "payload": value.decode(),
                "created_at": self._now,
            }
        )

    async def flush(self) -> None:
        """Write what was published, in publication order; the transaction commits it."""
        if not self._pending:
            return
        rows, self._pending = self._pending, []
        await bulk.insert_rows(self._session, outbox, rows)
        self._session.info["outbox_written"] = True


class OutboxRelay:
    def __init__(
        self,
        engine: AsyncEngine,
        sessions: async_sessionmaker[AsyncSession],
        publisher: Publisher,
        metrics: ServiceMetrics,
        clock: Clock,
        *,
        batch_size: int = 200,
        poll_interval: float = 0.2,
        linger: float = 0.0,
        max_backoff: float = 5.0,
    ) -> None:
        self._engine = engine
        self._sessions = sessions
        self._leader_connection: AsyncConnection | None = None
        self._publisher = publisher
        self._metrics = metrics
        self._clock = clock
        self._batch_size = batch_size
        self._poll_interval = poll_interval
        self._linger = linger
        self._max_backoff = max_backoff
        self._wakeup = asyncio.Event()
        self._prompt = asyncio.Event()
        self._stopping = asyncio.Event()
        self._backlog_seen_at: float | None = None

    def notify(self, prompt: bool = True) -> None:
        """Called after a commit that wrote outbox rows, so they leave without waiting a poll;
        ``prompt``: nor the gathering of a steady stream."""
        self._wakeup.set()
        if prompt:
            self._prompt.set()

    def stop(self) -> None:
        self._stopping.set()
        self._wakeup.set()
        self._prompt.set()

    async def run(self) -> None:
        backoff = self._poll_interval
        recent: collections.deque[tuple[float, int]] = collections.deque()
        while not self._stopping.is_set():
            # Cleared before the round, not after: a commit that lands while the round reads
            # must wake the next sleep at once, not be forgotten until the next poll.
            self._wakeup.clear()
            self._prompt.clear()
            try:
                relayed = await self.relay_once()
                self._metrics.broker_up.set(1)
                backoff = self._poll_interval
                if relayed:
                    if _busy(recent, time.monotonic(), relayed) and relayed < self._batch_size:
                        await self._gather()
                    continue
            except Exception as exc:
                self._metrics.broker_up.set(0)
                log.warning("outbox relay failed, will retry", extra={"error": repr(exc)})
                backoff = min(max(backoff * 2, 0.1), self._max_backoff)
            await self._sleep(backoff)

    async def _gather(self) -> None:
        """Busy: let the next round's events gather, unless a prompt commit (an API call, a
        complaint's follow-ups) wants its events out now. Each send is a batch per partition,
        and a broker keeps (the embedded one lists, on every fetch) every batch it was sent."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._prompt.wait(), timeout=self._linger)

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wakeup.wait(), timeout=seconds)

    async def relay_once(self) -> int:
        """Relay one batch; returns how many events reached the broker.

        Rows are read and deleted in two short transactions with the send in between, so a slow
        or absent broker never holds a database lock that the API and the consumer wait on.
        """
        if not await self._is_leader():
            await self._observe_backlog(None)
            return 0
        relayed: int | None = None
        try:
            relayed = await self._relay_batch()
            return relayed
        finally:
            await self._observe_backlog(relayed)

    async def _relay_batch(self) -> int:
        async with self._sessions() as session:
            # A deferred read: on SQLite an idle relay never takes the write lock.
            await session.connection(execution_options=read_options(self._engine.dialect.name))
            rows = (
                await session.execute(
                    select(outbox.c.seq, outbox.c.topic, outbox.c.key, outbox.c.payload)
                    .order_by(outbox.c.seq)
                    .limit(self._batch_size)
                )
            ).all()
            await session.rollback()
        if not rows:
            return 0
        await self._publisher.send_all([_message(row) for row in rows])
        async with self._sessions() as session, session.begin():
            await session.execute(delete(outbox).where(outbox.c.seq.in_([row.seq for row in rows])))
        for row in rows:
            self._metrics.events_published.labels(topic=row.topic).inc()
        return len(rows)

    async def _is_leader(self) -> bool:
        """On PostgreSQL, several replicas may run; a session advisory lock elects one relay."""
        if self._engine.dialect.name != "postgresql":
            return True
        if self._leader_connection is not None and not self._leader_connection.closed:
            return True
        connection = await self._engine.connect()
        got = (
            await connection.execute(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": _RELAY_LOCK_KEY}
            )
        ).scalar()
        await connection.commit()
        if not got:
            await connection.close()
            return False
        self._leader_connection = connection
        return True

    async def close(self) -> None:
        if self._leader_connection is not None:
            await self._leader_connection.close()
            self._leader_connection = None

    async def _observe_backlog(self, relayed: int | None) -> None:
        """Backlog gauges after a round: ``relayed`` events moved, 0 when the round found the
        outbox empty, None when it did not read it (another replica relays, or it failed).

        An empty outbox is known without a query: that is how a round that drained it ends.
        Otherwise the rows are counted every few seconds (a long drain included), not after
        every round that moved some: the next round follows at once, and events committed
        meanwhile (a complaint's ticket.prioritized right after its complaint.opened) would
        wait for the count. The count reads the whole table, which under a steady stream is
        mostly rows deleted and not yet vacuumed."""
        now = time.monotonic()
        if relayed == 0:
            self._backlog_seen_at = now
            self._set_backlog(0, None)
            return
        seen_at = self._backlog_seen_at
        if seen_at is not None and now - seen_at < _BACKLOG_EVERY_S:
            return
        self._backlog_seen_at = now
        try:
            async with self._sessions() as session:
                await session.connection(execution_options=read_options(self._engine.dialect.name))
                count, oldest = (
                    await session.execute(select(func.count(), func.min(outbox.c.created_at)))
                ).one()
        except Exception as exc:
            log.warning("outbox backlog not observed", extra={"error": repr(exc)})
            return
        self._set_backlog(count, oldest)

    def _set_backlog(self, count: int, oldest: datetime | None) -> None:
        self._metrics.outbox_backlog.set(count)
        age = 0.0 if oldest is None else (self._clock.now() - oldest).total_seconds()
        self._metrics.outbox_oldest_age.set(max(0.0, age))


def _message(row: Row[Any, Any, Any, Any]) -> OutgoingMessage:
    return OutgoingMessage(
        topic=row.topic,
        key=row.key,
        value=row.payload.encode(),
        headers=[("content-type", STRUCTURED_CONTENT_TYPE.encode())],
    )
