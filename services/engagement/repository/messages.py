"""Decisions as rows in hand: what a run needs of `messages` read in one query per question
(dedupe keys taken, marketing counted under the cap, pending messages), written in one
statement per run (a multi-row insert, an update by key)."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, cast

from sqlalchemy import BindParameter, Table, bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.engagement.models import Message
from services.engagement.repository.customers import chunks
from services.engagement.rules.channels import Purpose
from services.engagement.rules.decision import COUNTED_AGAINST_CAP, PENDING
from shared import bulk
from shared.bulk import update_by_key

messages = cast(Table, Message.__table__)

SETTLEMENT: Final = (
    "outcome",
    "reason",
    "delivered_at",
    "attempts",
    "next_attempt_at",
    "last_error",
)
"""What delivery and settlement change on a recorded message."""

_COLUMNS = [column for column in messages.c if column.name != "seq"]
_NAMES = tuple(column.name for column in _COLUMNS)
_SELECT = select(*_COLUMNS)
_IDS: BindParameter[list[str]] = bindparam("ids", expanding=True)


@dataclass
class MessageRecord:
    """One row of `messages` in hand (see `models.Message` for what each field holds)."""

    message_id: str
    customer_id: str
    channel: str
    purpose: str
    template: str
    params: dict[str, Any] | None
    trigger: str
    campaign_id: str | None
    dedupe_key: str | None
    request_hash: str | None
    outcome: str
    reason: str | None
    decided_at: datetime
    delivered_at: datetime | None = None
    attempts: int = 0
    next_attempt_at: datetime | None = None
    last_error: str | None = None


def _row(record: MessageRecord) -> dict[str, Any]:
    return {name: getattr(record, name) for name in _NAMES}


def _records(rows: Iterable[Any]) -> list[MessageRecord]:
    return [MessageRecord(**dict(zip(_NAMES, row, strict=True))) for row in rows]


async def insert_messages(session: AsyncSession, records: Sequence[MessageRecord]) -> set[str]:
    """Insert the records, leaving out any whose dedupe key a message already holds; the ids
    of those inserted. One statement (`shared.bulk`)."""
    rows = [_row(record) for record in records]
    inserted = await bulk.insert_new(
        session, messages, rows, key=("dedupe_key",), returning=("message_id",)
    )
    return {message_id for (message_id,) in inserted}


async def update_messages(
    session: AsyncSession, records: Sequence[MessageRecord], columns: Sequence[str]
) -> None:
    """Write `columns` of each record, one statement by message id."""
    rows = [{"message_id": r.message_id, **{c: getattr(r, c) for c in columns}} for r in records]
    await update_by_key(session, messages, rows, key=["message_id"])


async def recorded_keys(session: AsyncSession, dedupe_keys: Collection[str]) -> set[str]:
    """Which of `dedupe_keys` a recorded message already holds."""
    found: set[str] = set()
    query = select(messages.c.dedupe_key).where(messages.c.dedupe_key.in_(_IDS))
    for part in chunks(sorted(set(dedupe_keys))):
        found.update((await session.scalars(query, {"ids": list(part)})).all())
    return found


async def marketing_in_window(
    session: AsyncSession, customer_ids: Collection[str], window_start: datetime
) -> dict[str, int]:
    """Per customer, the marketing that counts against the cap (sent, and on its way)
    decided after `window_start`: one grouped range count over (customer_id, decided_at)."""
    query = (
        select(messages.c.customer_id, func.count())
        .where(
            messages.c.customer_id.in_(_IDS),
            messages.c.decided_at > bindparam("since"),
            messages.c.purpose == Purpose.MARKETING.value,
            messages.c.outcome.in_(sorted(COUNTED_AGAINST_CAP)),
        )
        .group_by(messages.c.customer_id)
    )
    counted: dict[str, int] = {}
    for part in chunks(sorted(set(customer_ids))):
        rows = await session.execute(query, {"ids": list(part), "since": window_start})
        counted.update({customer_id: count for customer_id, count in rows})
    return counted


async def messages_by_id(
    session: AsyncSession, message_ids: Collection[str], *, lock: bool = False
) -> dict[str, MessageRecord]:
    """The messages by id; `lock` holds them to the end of the transaction (PostgreSQL), so
    a settlement and an erasure never cross."""
    found: dict[str, MessageRecord] = {}
    query = _SELECT.where(messages.c.message_id.in_(_IDS))
    if lock:
        query = query.order_by(messages.c.message_id).with_for_update()
    for part in chunks(sorted(set(message_ids))):
        rows = await session.execute(query, {"ids": list(part)})
        found.update({r.message_id: r for r in _records(rows)})
    return found


async def message_by_key(session: AsyncSession, dedupe_key: str) -> MessageRecord | None:
    rows = await session.execute(_SELECT.where(messages.c.dedupe_key == dedupe_key))
    return next(iter(_records(rows)), None)


async def pending_of(session: AsyncSession, customer_ids: Collection[str]) -> list[MessageRecord]:
    """The customers' messages still pending delivery, oldest first."""
    query = (
        _SELECT.where(messages.c.customer_id.in_(_IDS), messages.c.outcome == PENDING)
        .order_by(messages.c.seq)
        .with_for_update()
    )
    found: list[MessageRecord] = []
    for part in chunks(sorted(set(customer_ids))):
        found.extend(_records(await session.execute(query, {"ids": list(part)})))
    return found


async def forget_params(session: AsyncSession, customer_ids: Collection[str]) -> None:
    """Every message of the customers keeps its decision and loses its params."""
    statement = update(messages).where(messages.c.customer_id.in_(_IDS)).values(params=None)
    for part in chunks(sorted(set(customer_ids))):
        await session.execute(statement, {"ids": list(part)})


async def due_messages(session: AsyncSession, now: datetime, limit: int) -> list[MessageRecord]:
    """Pending messages whose next attempt is due, oldest first; rows another worker holds
    are skipped (PostgreSQL), so replicas never claim the same message."""
    rows = await session.execute(
        _SELECT.where(messages.c.outcome == PENDING, messages.c.next_attempt_at <= now)
        .order_by(messages.c.next_attempt_at, messages.c.seq)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return _records(rows)
