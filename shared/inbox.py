"""Inbox: the (source, id) of every event a service has handled, written with its effect."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from shared import bulk
from shared.events.envelope import CloudEvent
from shared.tables import inbox


async def claim(session: AsyncSession, event: CloudEvent, *, now: datetime) -> bool:
    """Record the event as handled in the current transaction; False if it already was.

    One statement: the primary key decides, so two deliveries racing each other cannot both
    claim the event (the second waits for the first transaction and then inserts nothing).
    """
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement: Any = (
        dialect.insert(inbox)
        .values(source=event.source, event_id=event.id, event_type=event.type, processed_at=now)
        .on_conflict_do_nothing(index_elements=[inbox.c.source, inbox.c.event_id])
    )
    # The inbox row depends on nothing pending in the session: flushing the previous event's
    # changes here would write a shared transaction's rows one event at a time.
    with session.no_autoflush:
        result = await session.execute(statement)
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


async def claim_many(
    session: AsyncSession, events: Sequence[CloudEvent], *, now: datetime
) -> list[bool]:
    """Claim a run of events in one statement; for each, whether this transaction claimed it.

    An event seen before (or earlier in the same run) is not claimed again.
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
