"""Periodic work of ticketing: the SLA breach scan."""

from __future__ import annotations

from collections import Counter as Tally
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter

from services.ticketing.context import TicketingContext
from services.ticketing.repository.open_tickets import OpenTickets
from services.ticketing.repository.staff import LoadMoves
from services.ticketing.repository.staff import staff as load_staff
from services.ticketing.rules import events
from services.ticketing.rules.breach import escalate_breach
from services.ticketing.rules.dispatch import assignee_after_breach
from services.ticketing.rules.values import Tier
from shared.app import PeriodicTask, TransactionOpener
from shared.transaction import Transaction

BREACH_SCAN = "sla-breach-scan"


def sla_breach_counter(registry: CollectorRegistry) -> Counter:
    counter = Counter(
        "loopcrm_sla_breaches_total",
        "First-response SLAs missed, by the customer's tier when the ticket was prioritised.",
        ["tier"],
        registry=registry,
    )
    for tier in Tier:
        counter.labels(tier=str(tier))
    return counter


async def escalate_overdue(tx: Transaction, *, batch_size: int = 500) -> Tally[str]:
    """Each open, unanswered ticket past its due time is marked breached once: sla.breached,
    one priority level up (a history entry, and ticket.prioritized when the priority moved),
    and reassigned to a senior agent. At most `batch_size` tickets, as one set: one read,
    one update, one history insert, one move of agents' loads. Returns the breaches by tier."""
    overdue = await OpenTickets.overdue(tx.session, tx.now, batch_size)
    if not len(overdue):
        return Tally()
    staff = await load_staff(tx.session)
    moves = LoadMoves()
    breaches: Tally[str] = Tally()
    for ticket in overdue:
        change = escalate_breach(ticket.state, tx.now)
        if change is None:
            continue
        overdue.record(ticket, change)
        customer_id = ticket.customer_id
        await tx.outbox.publish(events.sla_breached(customer_id, change), time=change.changed_at)
        if change.priority_changed:
            await tx.outbox.publish(
                events.ticket_prioritized(customer_id, change), time=change.changed_at
            )
        assignee = assignee_after_breach(ticket.state, ticket.assignee_id, staff)
        staff = staff.reassigned(ticket.assignee_id, assignee)
        moves.moved(ticket.assignee_id, assignee)
        ticket.assignee_id = assignee
        breaches[str(change.tier)] += 1
    await overdue.save(tx.session)
    await moves.save(tx.session)
    return breaches


def breach_scan_task(ctx: TicketingContext) -> PeriodicTask:
    """The scan in sets of `breach_scan_batch_size`, each in its own transaction, back to back
    until nothing is due; each set's breaches are counted once it has committed."""
    batch_size = ctx.settings.breach_scan_batch_size

    async def run(begin: TransactionOpener, now: datetime) -> None:
        while True:
            async with begin() as tx:
                found = await escalate_overdue(tx, batch_size=batch_size)
            for tier, count in found.items():
                ctx.sla_breaches.labels(tier=tier).inc(count)
            if sum(found.values()) < batch_size:
                return

    return PeriodicTask(name=BREACH_SCAN, interval_s=ctx.settings.breach_scan_interval_s, run=run)
