"""Inbox: the (source, id) of every event a service has handled, written with its effect."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.events.envelope import CloudEvent
from shared.tables import inbox


async def claim(session: AsyncSession, event: CloudEvent, *, now: datetime) -> bool:
    """Record the event as handled in the current transaction; False if it already was.

    Two deliveries racing past the check both insert; the primary key makes the second
    transaction fail, and its retry then finds the row and reports a duplicate.
    """
    seen = await session.scalar(
        select(inbox.c.event_id).where(inbox.c.source == event.source, inbox.c.event_id == event.id)
    )
    if seen is not None:
        return False
    await session.execute(
        insert(inbox).values(
            source=event.source, event_id=event.id, event_type=event.type, processed_at=now
        )
    )
    return True
