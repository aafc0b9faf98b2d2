"""Ticketing's event handlers, run by the consumer inside a transaction after the inbox claim."""

from __future__ import annotations

from services.ticketing import repository
from services.ticketing.context import TicketingContext
from services.ticketing.models import Ticket
from services.ticketing.rules import events
from services.ticketing.rules.dispatch import Staff, agent_for, assignee_when_more_urgent
from services.ticketing.rules.prioritisation import on_tier_changed, reprioritise
from services.ticketing.rules.sla import SlaPolicy
from services.ticketing.rules.ticket import Change, open_ticket
from services.ticketing.rules.values import TicketCategory, TicketKind, Tier
from shared.events.catalogue import (
    ComplaintOpened,
    CustomerErased,
    OrderRefunded,
    SlaBreached,
    TicketOpened,
    TicketPrioritized,
    TicketResolved,
    TierChanged,
)
from shared.events.envelope import TypedEvent
from shared.money import to_fen
from shared.subscriptions import Subscriptions
from shared.transaction import Transaction

subscriptions = Subscriptions[TicketingContext](
    "ticketing",
    publishes=(TicketOpened, ComplaintOpened, TicketPrioritized, TicketResolved, SlaBreached),
)


@subscriptions.on(ComplaintOpened)
async def on_complaint_opened(
    event: TypedEvent[ComplaintOpened], tx: Transaction, ctx: TicketingContext
) -> None:
    """Every open ticket of the customer rises to the tier's complaint priority, and the
    complaint gets one senior callback, whichever source reported it and whether or not its
    ticket is one of ours (ticketing consumes its own complaint.opened)."""
    complaint = event.data
    tier = await repository.tier_of(tx.session, complaint.customer_id)
    policy = await repository.current_policy(tx.session)
    staff = await repository.staff(tx.session)
    for ticket in await repository.open_tickets_of(tx.session, complaint.customer_id):
        change = reprioritise(repository.state_of(ticket), tier, complaint.opened_at, policy)
        staff = await _make_more_urgent(tx, ticket, change, staff)
    await _open_callback(tx, complaint, tier, policy, staff)


async def _open_callback(
    tx: Transaction, complaint: ComplaintOpened, tier: Tier, policy: SlaPolicy, staff: Staff
) -> None:
    """The follow-up call, once per complaint ticket id; it counts from the complaint's time.
    Its subject is generated, so no customer text is copied into it."""
    if await repository.callback_exists(tx.session, complaint.ticket_id):
        return
    state = open_ticket(
        repository.new_ticket_id(),
        TicketKind.CALLBACK,
        TicketCategory(complaint.category),
        tier,
        complaint.opened_at,
        policy,
    )
    chosen = agent_for(state, staff)
    callback = repository.new_ticket_row(
        state,
        customer_id=complaint.customer_id,
        subject=f"Follow-up call on complaint {complaint.ticket_id}",
        description=None,
        assignee_id=chosen.id if chosen is not None else None,
        created_at=tx.now,
        follow_up_of=complaint.ticket_id,
    )
    tx.session.add(callback)


@subscriptions.on(TierChanged)
async def on_tier_changed_event(
    event: TypedEvent[TierChanged], tx: Transaction, ctx: TicketingContext
) -> None:
    """Keep the tier unless a later change is already kept, then pull open tickets' due
    times forward to the new tier's SLA."""
    data = event.data
    new_tier = Tier(data.new_tier)
    if not await repository.remember_tier(tx.session, data.customer_id, new_tier, event.time):
        return
    policy = await repository.current_policy(tx.session)
    staff = await repository.staff(tx.session)
    for ticket in await repository.open_tickets_of(tx.session, data.customer_id):
        change = on_tier_changed(repository.state_of(ticket), new_tier, event.time, policy)
        staff = await _make_more_urgent(tx, ticket, change, staff)


async def _make_more_urgent(
    tx: Transaction, ticket: Ticket, change: Change | None, staff: Staff
) -> Staff:
    """Record the change, announce it, and dispatch the ticket again if its agent no longer
    fits; the staff with the loads that follow."""
    if change is None:
        return staff
    state = repository.record_change(ticket, change)
    await tx.outbox.publish(
        events.ticket_prioritized(ticket.customer_id, change), time=change.changed_at
    )
    assignee = assignee_when_more_urgent(state, ticket.assignee_id, staff)
    staff = staff.reassigned(ticket.assignee_id, assignee)
    ticket.assignee_id = assignee
    return staff


@subscriptions.on(CustomerErased)
async def on_customer_erased(
    event: TypedEvent[CustomerErased], tx: Transaction, ctx: TicketingContext
) -> None:
    await repository.erase_customer_text(tx.session, event.data.customer_id, event.data.erased_at)


@subscriptions.on(OrderRefunded)
async def on_order_refunded(
    event: TypedEvent[OrderRefunded], tx: Transaction, ctx: TicketingContext
) -> None:
    """Kept for the return-reason report."""
    refund = event.data
    repository.add_refund(
        tx.session, refund.order_id, refund.reason, to_fen(refund.amount), event.time
    )
