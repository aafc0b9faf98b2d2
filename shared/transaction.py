"""One unit of work: a session in a transaction, its business time, its outbox and what it holds.

Event handlers, commands and periodic tasks all receive a ``Transaction``. Everything they
publish goes out through ``tx.outbox`` and is written with the commit; rows a transaction has
read or written can be kept in ``tx.held(Kind)``, a per-transaction instance shared by every
handler of a run, so the events of one run never read the same row twice; what several
handlers gather there is written once by a step registered with ``tx.before_commit``. Nothing
held outlives its transaction.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.db import checkpoint_sqlite, read_options
from shared.outbox import OutboxWriter

Held = TypeVar("Held")


@dataclass(eq=False)
class Transaction:
    session: AsyncSession
    now: datetime
    outbox: OutboxWriter
    _held: dict[type[Any], Any] = field(default_factory=dict)
    _before_commit: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    erasing: bool = False
    """Whether the transaction removes a customer's personal data (``erase``)."""

    def held(self, kind: type[Held]) -> Held:
        """This transaction's one ``kind()``, made on first use."""
        found = self._held.get(kind)
        if found is None:
            found = self._held[kind] = kind()
        return found  # type: ignore[no-any-return]

    def before_commit(self, step: Callable[[], Awaitable[None]]) -> None:
        """Await ``step`` once the work is done, before the outbox is written: a mixed run's
        handlers (views, orders, refunds of the same customers) gather their changes in
        something held and write them once."""
        self._before_commit.append(step)

    def erase(self) -> None:
        """Say that this transaction removes a customer's personal data: once it is committed,
        SQLite's write-ahead log, which holds the earlier versions of every page it changed,
        is checkpointed and emptied (``checkpoint_sqlite``). PostgreSQL keeps dead row
        versions until vacuum: docs/operations.md, "Erasure"."""
        self.erasing = True

    async def finish(self) -> None:
        """The registered steps, in order (a step may register another)."""
        while self._before_commit:
            await self._before_commit.pop(0)()


@dataclass(frozen=True)
class TransactionFactory:
    """Opens transactions of one service: its sessions, its event source, what it publishes."""

    sessions: async_sessionmaker[AsyncSession]
    source: str
    publishes: frozenset[str] | None = None
    on_outbox_written: Callable[[bool], None] = lambda prompt: None

    @contextlib.asynccontextmanager
    async def begin(self, now: datetime, *, prompt: bool = True) -> AsyncIterator[Transaction]:
        """Commit on success (the outbox rows first), roll back on error; wake the relay.
        ``prompt``: what it published leaves at once, even while the relay lets a steady
        stream gather (an API call, a complaint's follow-ups); a run of the steady stream
        itself passes False."""
        async with self.sessions() as session:
            async with session.begin():
                outbox = OutboxWriter(session, source=self.source, now=now, allowed=self.publishes)
                tx = Transaction(session=session, now=now, outbox=outbox)
                yield tx
                await tx.finish()
                await outbox.flush()
            if tx.erasing:
                await checkpoint_sqlite(session)
            if session.info.get("outbox_written"):
                self.on_outbox_written(prompt)

    @contextlib.asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A read-only session for queries; nothing it does is committed. On PostgreSQL each
        statement runs on its own (autocommit: no BEGIN and ROLLBACK round trips; a READ
        COMMITTED transaction gives each statement its own snapshot anyway); on SQLite it
        never waits for the writer's lock (WAL readers see the last commit)."""
        async with self.sessions() as session:
            dialect_name = session.get_bind().dialect.name
            await session.connection(execution_options=read_options(dialect_name))
            try:
                yield session
            finally:
                await session.rollback()
