"""Ticketing's event handlers, called by the consumer inside a transaction after the inbox check."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.ticketing import dispatching, store
from services.ticketing.handlers.reports import to_fen
from services.ticketing.models import CustomerTier, Refund, Ticket, TicketResponse
from services.ticketing.outgoing import Outgoing
from services.ticketing.rules import (
    Change,
    TicketCategory,
    TicketKind,
    Tier,
    on_tier_changed,
    open_ticket,
    reprioritise,
)
from shared.clock import Clock
from shared.events.catalogue import ComplaintOpened, CustomerErased, OrderRefunded, TierChanged
from shared.events.envelope import TypedEvent
from shared.messaging.consumer import EventHandler


async def on_complaint_opened(
    session: AsyncSession, event: TypedEvent[ComplaintOpened], outgoing: Outgoing
) -> None:
    """Every open ticket of the customer rises to the tier's complaint priority, and the
    complaint gets one senior callback, whichever source reported it and whether or not its
    ticket is one of ours."""
    data = event.data
    tier = await store.tier_of(session, data.customer_id)
    policy = await store.current_policy(session)
    for ticket in await store.open_tickets_of(session, data.customer_id):
        change = reprioritise(store.state_of(ticket), tier, data.opened_at, policy)
        await _make_more_urgent(session, ticket, change, outgoing)
    await _open_callback(session, data, tier, outgoing)


async def _open_callback(
    session: AsyncSession, complaint: ComplaintOpened, tier: Tier, outgoing: Outgoing
) -> None:
    """The follow-up call, once per complaint ticket id; it counts from the complaint's time.
    Its subject is generated, so no customer text is copied into it."""
    exists = await session.scalar(
        select(Ticket.id).where(Ticket.follow_up_of == complaint.ticket_id)
    )
    if exists is not None:
        return
    state = open_ticket(
        store.new_ticket_id(),
        TicketKind.CALLBACK,
        TicketCategory(complaint.category),
        tier,
        complaint.opened_at,
        await store.current_policy(session),
    )
    callback = store.new_ticket_row(
        state,
        customer_id=complaint.customer_id,
        subject=f"Follow-up call on complaint {complaint.ticket_id}",
        description=None,
        created_at=outgoing.now,
        follow_up_of=complaint.ticket_id,
    )
    await dispatching.assign_new(session, callback)
    session.add(callback)


async def on_tier_changed_event(
    session: AsyncSession, event: TypedEvent[TierChanged], outgoing: Outgoing
) -> None:
    """Update the read model unless a later change is already applied, then pull open
    tickets' due times forward to the new tier's SLA."""
    data = event.data
    known = await session.get(CustomerTier, data.customer_id)
    if known is not None and event.time < known.changed_at:
        return
    if known is None:
        session.add(
            CustomerTier(customer_id=data.customer_id, tier=data.new_tier, changed_at=event.time)
        )
    else:
        known.tier, known.changed_at = data.new_tier, event.time
    new_tier = Tier(data.new_tier)
    policy = await store.current_policy(session)
    for ticket in await store.open_tickets_of(session, data.customer_id):
        change = on_tier_changed(store.state_of(ticket), new_tier, event.time, policy)
        await _make_more_urgent(session, ticket, change, outgoing)


async def _make_more_urgent(
    session: AsyncSession, ticket: Ticket, change: Change | None, outgoing: Outgoing
) -> None:
    if change is None:
        return
    store.record_change(ticket, change)
    await outgoing.ticket_prioritized(ticket, change)
    await dispatching.redispatch_if_unfit(session, ticket)


async def on_customer_erased(
    session: AsyncSession, event: TypedEvent[CustomerErased], outgoing: Outgoing
) -> None:
    """The free text of the customer's tickets and answers goes; the facts (times, priorities,
    CSAT) stay for the SLA record."""
    customer_id = event.data.customer_id
    await session.execute(
        update(Ticket)
        .where(Ticket.customer_id == customer_id)
        .values(subject=None, description=None, erased_at=event.data.erased_at)
    )
    of_customer = select(Ticket.id).where(Ticket.customer_id == customer_id)
    await session.execute(
        update(TicketResponse).where(TicketResponse.ticket_id.in_(of_customer)).values(body=None)
    )


async def on_order_refunded(
    session: AsyncSession, event: TypedEvent[OrderRefunded], outgoing: Outgoing
) -> None:
    session.add(
        Refund(
            order_id=event.data.order_id,
            reason=event.data.reason,
            amount_fen=to_fen(event.data.amount),
            refunded_at=event.time,
        )
    )


_Handler = Callable[[AsyncSession, TypedEvent[Any], Outgoing], Awaitable[None]]

_BY_TYPE: dict[str, _Handler] = {
    "complaint.opened": on_complaint_opened,
    "tier.changed": on_tier_changed_event,
    "customer.erased": on_customer_erased,
    "order.refunded": on_order_refunded,
}


def event_handlers(*, source: str, clock: Clock) -> dict[str, EventHandler]:
    """The consumer's handlers, each given an outbox writer for its own transaction."""

    def bind(handler: _Handler) -> EventHandler:
        async def handle(session: AsyncSession, event: TypedEvent[Any]) -> None:
            await handler(session, event, Outgoing(session, source=source, now=clock.now()))

        handle.__name__ = handler.__name__
        return handle

    return {event_type: bind(handler) for event_type, handler in _BY_TYPE.items()}
