"""Ticketing's handlers on a throwaway SQLite database: state and outbox rows, no broker."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.ticketing.handlers import tickets
from services.ticketing.handlers.agents import create_agent
from services.ticketing.handlers.events import event_handlers
from services.ticketing.models import Base, Ticket
from services.ticketing.schemas import AgentCreate, ResponseCreate, TicketCreate, TicketResolve
from services.ticketing.tasks import scan_for_breaches
from shared.clock import FixedClock
from shared.db import create_engine, create_session_factory
from shared.events.catalogue import data_model_for
from shared.events.envelope import CloudEvent, TypedEvent
from shared.tables import kit_metadata, outbox

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
SOURCE = "loopcrm/ticketing"


@pytest.fixture
async def session(tmp_path: Path) -> AsyncIterator[AsyncSession]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'ticketing.db'}")
    async with engine.begin() as connection:
        for metadata in (Base.metadata, kit_metadata):
            await connection.run_sync(metadata.create_all)
    async with create_session_factory(engine)() as session, session.begin():
        yield session
    await engine.dispose()


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def event(event_type: str, data: dict[str, Any], time: datetime, source: str = "x") -> TypedEvent:
    envelope = CloudEvent(
        id=str(uuid.uuid4()),
        source=source,
        type=event_type,
        time=time,
        subject=data["customer_id"],
        data=data,
    )
    model = data_model_for(event_type)
    return TypedEvent[model](envelope=envelope, data=model.model_validate(data))  # type: ignore[valid-type]


async def handle(session: AsyncSession, typed: TypedEvent, now: datetime = T0) -> None:
    await event_handlers(source=SOURCE, clock=FixedClock(now))[typed.type](session, typed)


async def outboxed(session: AsyncSession, topic: str) -> list[dict[str, Any]]:
    rows = await session.execute(select(outbox.c.payload).where(outbox.c.topic == topic))
    return [json.loads(payload)["data"] for (payload,) in rows]


async def open_(session: AsyncSession, customer_id: str, kind: str = "inquiry", **extra: Any):
    command = TicketCreate(
        customer_id=customer_id, kind=kind, category="logistics", subject="Late", **extra
    )
    return await tickets.open_customer_ticket(session, command, now=T0, source=SOURCE)


def complaint(customer_id: str, ticket_id: str, at: datetime, category: str = "logistics"):
    data = {
        "customer_id": customer_id,
        "ticket_id": ticket_id,
        "category": category,
        "opened_at": at.isoformat(),
    }
    return event("complaint.opened", data, at, source="helpdesk")


def tier_changed(customer_id: str, new_tier: str, at: datetime):
    data = {
        "customer_id": customer_id,
        "old_tier": "bronze",
        "new_tier": new_tier,
        "net_spend_12m": "10000",
        "reason": "upgrade",
    }
    return event("tier.changed", data, at)


async def test_opening_a_complaint_writes_both_events_in_the_transaction(session):
    ticket = await open_(session, new_id("c"), "complaint")

    assert [e["ticket_id"] for e in await outboxed(session, "ticket.opened")] == [ticket.id]
    assert [e["ticket_id"] for e in await outboxed(session, "complaint.opened")] == [ticket.id]
    assert (ticket.priority, ticket.response_due_at) == ("P2", T0 + 24 * HOUR)


async def test_a_complaint_raises_open_tickets_and_opens_one_callback(session):
    customer_id = new_id("c")
    await create_agent(session, AgentCreate(name="Senior", skills=["quality"], senior=True), now=T0)
    inquiry = await open_(session, customer_id)
    resolved = await open_(session, customer_id, "return")
    await tickets.resolve_ticket(session, resolved.id, TicketResolve(), now=T0, source=SOURCE)

    await handle(session, complaint(customer_id, "legacy-1", T0 + HOUR))
    await handle(session, complaint(customer_id, "legacy-1", T0 + HOUR))

    assert (inquiry.priority, inquiry.history[0].reason) == ("P2", "complaint.opened")
    assert (resolved.priority, resolved.history) == ("P3", [])
    prioritized = await outboxed(session, "ticket.prioritized")
    assert [(e["ticket_id"], e["new_priority"]) for e in prioritized] == [(inquiry.id, "P2")]
    callbacks = (await session.scalars(select(Ticket).where(Ticket.kind == "callback"))).all()
    assert [c.follow_up_of for c in callbacks] == ["legacy-1"]
    # No senior has the logistics skill: the callback goes to a senior all the same.
    assert callbacks[0].assignee_id is not None
    assert (callbacks[0].opened_at, callbacks[0].priority) == (T0 + HOUR, "P2")
    # A callback is internal: no ticket.opened for it.
    assert len(await outboxed(session, "ticket.opened")) == 2


async def test_a_stale_tier_change_is_ignored(session):
    customer_id = new_id("c")
    inquiry = await open_(session, customer_id)

    await handle(session, tier_changed(customer_id, "gold", T0 + 2 * HOUR))
    await handle(session, tier_changed(customer_id, "silver", T0 + HOUR))

    assert (inquiry.tier, inquiry.response_due_at) == ("gold", T0 + 6 * HOUR)
    later = await open_(session, customer_id, "complaint")
    assert (later.tier, later.priority) == ("gold", "P1")


async def test_the_breach_scan_escalates_each_ticket_once(session):
    customer_id = new_id("c")
    inquiry = await open_(session, customer_id)
    answered = await open_(session, customer_id)
    await tickets.add_response(session, answered.id, ResponseCreate(body="Hi"), now=T0 + HOUR)

    first = await scan_for_breaches(session, T0 + 25 * HOUR, source=SOURCE)
    second = await scan_for_breaches(session, T0 + 26 * HOUR, source=SOURCE)

    assert (dict(first), dict(second)) == ({"bronze": 1}, {})
    assert (inquiry.priority, inquiry.sla_breached_at) == ("P2", T0 + 25 * HOUR)
    assert answered.sla_breached_at is None
    assert [e["ticket_id"] for e in await outboxed(session, "sla.breached")] == [inquiry.id]


async def test_the_queue_pages_in_the_order_of_the_rules(session):
    from services.ticketing.rules import in_work_order
    from services.ticketing.store import state_of

    bronze, gold = new_id("c"), new_id("c")
    await handle(session, tier_changed(gold, "gold", T0 - 48 * HOUR))
    opened = [
        await open_(session, bronze, opened_at=T0 - 72 * HOUR),
        await open_(session, bronze, "complaint", opened_at=T0 - 10 * HOUR),
        await open_(session, gold, opened_at=T0 - HOUR),
        await open_(session, gold, "complaint", opened_at=T0 - 2 * HOUR),
        await open_(session, bronze, "repair", opened_at=T0 - 72 * HOUR),
    ]

    page, total = await tickets.work_queue(session, category=None, assignee=None, limit=3, offset=0)
    rest, _ = await tickets.work_queue(session, category=None, assignee=None, limit=3, offset=3)

    expected = [state.id for state in in_work_order(state_of(t) for t in opened)]
    assert total == 5
    assert [t.id for t in [*page, *rest]] == expected
