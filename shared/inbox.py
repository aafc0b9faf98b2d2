"""Inbox: the (source, id) of every event a service has handled, written with its effect."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from shared import bulk
from shared.events.envelope import CloudEvent
from shared.tables import inbox


async def claim_many(
    session: AsyncSession, events: Sequence[CloudEvent], *, now: datetime
) -> list[bool]:
    """Claim a run of events in one statement; for each, whether this transaction claimed it.

    An event seen before (or earlier in the same run) is not claimed again; the primary key
    decides, so two deliveries racing each other cannot both claim an event (the second waits
    for the first transaction and then inserts nothing).
    """
    if not events:
        return []
    first_of: dict[tuple[str, str], int] = {}
    for index, event in enumerate(events):
        first_of.setdefault((event.source, event.id), index)
    rows = [
        {"source": s, "event_id": i, "event_type": events[n].type, "processed_at": now}
        for (s, i), n in first_of.items()
    ]
    inserted = await bulk.insert_new(session, inbox, rows, returning=("source", "event_id"))
    claimed = set(inserted)
    return [
        first_of[key] == index and key in claimed
        for index, key in enumerate((event.source, event.id) for event in events)
    ]
