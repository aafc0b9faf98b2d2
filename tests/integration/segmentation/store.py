"""The segmentation handlers on a real, migrated database, without the broker."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import services.segmentation
from services.segmentation.evaluation import Segmenter
from services.segmentation.handlers import event_handlers
from services.segmentation.models import SegmentMember
from services.segmentation.settings import SegmentationSettings
from services.segmentation.tasks import sweep_due_customers
from shared.clock import FixedClock
from shared.db import create_engine, create_session_factory
from shared.events.envelope import STRUCTURED_CONTENT_TYPE, TypedEvent, decode_message
from shared.migrations import upgrade_async
from shared.tables import outbox
from tests.support.events import storefront_event

MIGRATIONS = Path(services.segmentation.__file__).parent / "migrations"


def typed(
    event_type: str, data: dict[str, Any], *, time: datetime, **envelope: Any
) -> TypedEvent[Any]:
    """An event as the consumer runner hands it to a handler: decoded from the wire format."""
    raw = json.dumps(storefront_event(event_type, data, time=time, **envelope)).encode()
    return decode_message(raw, [("content-type", STRUCTURED_CONTENT_TYPE.encode())])


class SegmentationStore:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: FixedClock) -> None:
        self.sessions = sessions
        self.clock = clock
        self.settings = SegmentationSettings()
        self.segmenter = Segmenter(self.settings.policy(), self.settings.event_source)
        self.handlers = event_handlers(self.segmenter, clock)

    async def deliver(self, *events: TypedEvent[Any]) -> None:
        for event in events:
            async with self.sessions() as session, session.begin():
                await self.handlers[event.type](session, event)

    async def sweep(self, batch_size: int = 100) -> int:
        async with self.sessions() as session, session.begin():
            return await sweep_due_customers(
                session, self.clock.now(), segmenter=self.segmenter, batch_size=batch_size
            )

    async def member(self, customer_id: str) -> SegmentMember | None:
        async with self.sessions() as session:
            return await session.get(SegmentMember, customer_id)

    async def published(self, event_type: str) -> list[dict[str, Any]]:
        async with self.sessions() as session:
            rows = await session.execute(
                select(outbox.c.payload).where(outbox.c.topic == event_type).order_by(outbox.c.seq)
            )
            return [json.loads(payload) for (payload,) in rows]


@asynccontextmanager
async def segmentation_store(url: str, clock: FixedClock) -> AsyncIterator[SegmentationStore]:
    await upgrade_async(MIGRATIONS, url)
    engine = create_engine(url)
    try:
        yield SegmentationStore(create_session_factory(engine), clock)
    finally:
        await engine.dispose()
