"""The profile handlers, erasure and sweep on a real, migrated database, without the broker."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine

import services.profile
from services.profile.commands import erase_customer
from services.profile.handlers import event_handlers
from services.profile.profiling import Profiler
from services.profile.settings import ProfileSettings
from services.profile.tasks import sweep_due_customers
from shared.db import create_engine, create_session_factory
from shared.events.envelope import STRUCTURED_CONTENT_TYPE, TypedEvent, decode_message
from shared.migrations import upgrade_async
from shared.tables import outbox

MIGRATIONS = Path(services.profile.__file__).parent / "migrations"
PROFILE_TABLES = {
    "customers": "customer_id",
    "customer_features": "customer_id",
    "customer_tags": "customer_id, tag",
    "ticket_states": "ticket_id",
}


def typed(event: dict[str, Any]) -> TypedEvent[Any]:
    """An event as the consumer runner hands it to a handler: decoded from the wire format."""
    raw = json.dumps(event).encode()
    return decode_message(raw, [("content-type", STRUCTURED_CONTENT_TYPE.encode())])


class ProfileDatabase:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.sessions = create_session_factory(engine)
        settings = ProfileSettings()
        self.profiler = Profiler(
            catalogue=settings.catalogue(),
            timezone=settings.timezone(),
            source=settings.event_source,
        )
        self.handlers = event_handlers(self.profiler)

    async def apply_run(self, events: Sequence[dict[str, Any]]) -> None:
        """Handle ``events`` in one transaction, as the consumer applies a run of a partition."""
        async with self.sessions() as session, session.begin():
            for event in map(typed, events):
                await self.handlers[event.type](session, event)

    async def apply_one_by_one(self, events: Sequence[dict[str, Any]]) -> None:
        for event in events:
            await self.apply_run([event])

    async def erase(self, customer_id: str, at: datetime) -> None:
        async with self.sessions() as session, session.begin():
            await erase_customer(session, customer_id, now=at, source="loopcrm/profile")

    async def sweep(self, now: datetime) -> None:
        async with self.sessions() as session, session.begin():
            await sweep_due_customers(session, now, profiler=self.profiler, batch_size=100)

    async def snapshot(self) -> dict[str, list[Any]]:
        """Every profile row, and the outbox's events without their random ids, in order."""
        found: dict[str, list[Any]] = {}
        async with self.engine.connect() as connection:
            for table, order in PROFILE_TABLES.items():
                rows = await connection.execute(text(f"SELECT * FROM {table} ORDER BY {order}"))
                found[table] = [dict(row) for row in rows.mappings()]
            events = await connection.execute(
                select(outbox.c.topic, outbox.c.payload).order_by(outbox.c.seq)
            )
            found["outbox"] = [(topic, _without_id(payload)) for topic, payload in events]
        return found


def _without_id(payload: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads(payload)
    event.pop("id")
    return event


@asynccontextmanager
async def profile_database(url: str) -> AsyncIterator[ProfileDatabase]:
    await upgrade_async(MIGRATIONS, url)
    engine = create_engine(url)
    try:
        yield ProfileDatabase(engine)
    finally:
        await engine.dispose()
