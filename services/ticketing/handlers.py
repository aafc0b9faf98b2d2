"""Ticketing's event handlers, run by the consumer inside a transaction after the inbox claim.

The hot ones take a run of events: the state of every customer in the run is read with one
query per table, the rules apply the events one by one in memory, and the changes are
written with one statement per table, so a run of N gives what N transactions would.

What a complaint does to the customer's tickets is applied the same way wherever ticketing
learns of it: in the transaction where the API opens it (`commands.open_customer_ticket`),
and on `complaint.opened` from any source, where a complaint of ours finds its work done
(its callback is there).
"""

from __future__ import annotations

from collections.abc import Sequence

from services.ticketing.context import TicketingContext
from services.ticketing.repository import tickets as ticket_rows
from services.ticketing.repository.open_tickets import (
    HeldTicket,
    NewTicket,
    OpenTickets,
    callbacks_following,
)
from services.ticketing.repository.policy import current_policy
from services.ticketing.repository.refunds import RefundRow, add_refunds
from services.ticketing.repository.staff import StaffOfRun
from services.ticketing.repository.tiers import TierBook
from services.ticketing.rules import events
from services.ticketing.rules.dispatch import agent_for, assignee_when_more_urgent
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
    reading,
)
from shared.events.envelope import TypedEvent
from shared.money import to_fen
from shared.subscriptions import Subscriptions
from shared.transaction import Transaction

subscriptions = Subscriptions[TicketingContext](
    "ticketing",
    publishes=(TicketOpened, ComplaintOpened, TicketPrioritized, TicketResolved, SlaBreached),
)


@subscriptions.on_batch(ComplaintOpened)
async def on_complaints_opened(
    run: Sequence[TypedEvent[ComplaintOpened]], tx: Transaction, ctx: TicketingContext
) -> None:
    """Whichever source reported the complaint and whether or not its ticket is one of ours.
    A complaint opened through our API had these effects in its own transaction: it comes
    back here and changes nothing (hence no urgent lane for it)."""
    await follow_up_complaints(tx, [event.data for event in run])


async def follow_up_complaints(
    tx: Transaction,
    complaints: Sequence[ComplaintOpened],
    *,
    policy: SlaPolicy | None = None,
    staff: StaffOfRun | None = None,
) -> None:
    """Every open ticket of each complaint's customer rises to the tier's complaint priority,
    and each complaint gets one senior callback, in order: the state of all their customers
    read with one query per table, the changes written with one statement per table. The
    policy and the staff the caller already has in hand (the API's complaint) are not read
    again.

    A complaint is applied once, with its callback in the same transaction: one whose
    callback is there (ours, applied by the API) changes nothing."""
    customers = {complaint.customer_id for complaint in complaints}
    tiers = await TierBook.load(tx.session, customers)
    # Locked before the callbacks are read: two complaints of one customer (the API and the
    # handler, or two requests) applied at once queue here, and the second sees the first.
    open_tickets = await OpenTickets.of_customers(tx.session, customers, lock=True)
    followed_up = await callbacks_following(tx.session, {c.ticket_id for c in complaints})
    if policy is None:
        policy = await current_policy(tx.session)
    if staff is None:
        staff = StaffOfRun(tx.session)
    for complaint in complaints:
        if complaint.ticket_id in followed_up:
            continue  # applied meanwhile, or earlier in this run
        tier = tiers.tier_of(complaint.customer_id)
        for ticket in open_tickets.of(complaint.customer_id):
            change = reprioritise(ticket.state, tier, complaint.opened_at, policy)
            await _make_more_urgent(tx, open_tickets, ticket, change, staff)
        await _open_callback(tx, open_tickets, complaint, tier, policy, staff)
        followed_up.add(complaint.ticket_id)
    await open_tickets.save(tx.session)
    await staff.save()


async def _open_callback(
    tx: Transaction,
    open_tickets: OpenTickets,
    complaint: ComplaintOpened,
    tier: Tier,
    policy: SlaPolicy,
    staff: StaffOfRun,
) -> None:
    """The follow-up call, once per complaint ticket id; it counts from the complaint's time.
    Its subject is generated, so no customer text is copied into it."""
    state = open_ticket(
        ticket_rows.new_ticket_id(),
        TicketKind.CALLBACK,
        TicketCategory(complaint.category),
        tier,
        complaint.opened_at,
        policy,
    )
    chosen = agent_for(state, await staff.get())
    assignee = chosen.id if chosen is not None else None
    staff.moved(None, assignee)
    opened = NewTicket(
        subject=f"Follow-up call on complaint {complaint.ticket_id}",
        created_at=tx.now,
        follow_up_of=complaint.ticket_id,
    )
    open_tickets.open(state, complaint.customer_id, assignee, opened)


async def _make_more_urgent(
    tx: Transaction,
    open_tickets: OpenTickets,
    ticket: HeldTicket,
    change: Change | None,
    staff: StaffOfRun,
) -> None:
    """Record the change, announce it, and dispatch the ticket again if its agent no longer
    fits."""
    if change is None:
        return
    open_tickets.record(ticket, change)
    await tx.outbox.publish(
        events.ticket_prioritized(ticket.customer_id, change), time=change.changed_at
    )
    assignee = assignee_when_more_urgent(ticket.state, ticket.assignee_id, await staff.get())
    staff.moved(ticket.assignee_id, assignee)
    ticket.assignee_id = assignee


@subscriptions.on_batch(reading(TierChanged, "new_tier"))
async def on_tiers_changed(
    run: Sequence[TypedEvent[TierChanged]], tx: Transaction, ctx: TicketingContext
) -> None:
    """Keep each tier unless a later change is already kept (a stale one is ignored, also
    within the run), then pull the customer's open tickets' due times forward to the new
    tier's SLA."""
    customers = {event.data.customer_id for event in run}
    tiers = await TierBook.load(tx.session, customers)
    open_tickets = await OpenTickets.of_customers(tx.session, customers)
    # Without open tickets the policy decides nothing: no need to read it.
    policy = await current_policy(tx.session) if len(open_tickets) else SlaPolicy()
    staff = StaffOfRun(tx.session)
    for event in run:
        customer_id, new_tier = event.data.customer_id, Tier(event.data.new_tier)
        if not tiers.learn(customer_id, new_tier, event.time):
            continue
        for ticket in open_tickets.of(customer_id):
            change = on_tier_changed(ticket.state, new_tier, event.time, policy)
            await _make_more_urgent(tx, open_tickets, ticket, change, staff)
    await tiers.save(tx.session)
    await open_tickets.save(tx.session)
    await staff.save()


@subscriptions.on(CustomerErased)
async def on_customer_erased(
    event: TypedEvent[CustomerErased], tx: Transaction, ctx: TicketingContext
) -> None:
    await ticket_rows.erase_customer_text(tx.session, event.data.customer_id, event.data.erased_at)


@subscriptions.on_batch(OrderRefunded)
async def on_orders_refunded(
    run: Sequence[TypedEvent[OrderRefunded]], tx: Transaction, ctx: TicketingContext
) -> None:
    """Kept for the return-reason report."""
    await add_refunds(
        tx.session,
        [
            RefundRow(event.data.order_id, event.data.reason, to_fen(event.data.amount), event.time)
            for event in run
        ],
    )
