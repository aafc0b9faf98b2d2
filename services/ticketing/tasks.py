"""Periodic work of ticketing: the SLA breach scan, a function of (session, now)."""

from __future__ import annotations

from collections import Counter as Tally
from collections.abc import Callable
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from services.ticketing import dispatching, store
from services.ticketing.models import Ticket
from services.ticketing.outgoing import Outgoing
from services.ticketing.rules import TicketStatus, Tier, escalate_breach
from shared.app import PeriodicTask

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


async def scan_for_breaches(
    session: AsyncSession, now: datetime, *, source: str, batch_size: int = 500
) -> Tally[str]:
    """Each open, unanswered ticket past its due time is marked breached once: sla.breached,
    one priority level up (a history entry, and ticket.prioritized when the priority moved),
    and reassigned to a senior agent. Returns the breaches by tier."""
    overdue = (
        await session.scalars(
            select(Ticket)
            .where(
                Ticket.status == TicketStatus.OPEN,
                Ticket.first_response_at.is_(None),
                Ticket.sla_breached_at.is_(None),
                Ticket.response_due_at < now,
            )
            .order_by(Ticket.response_due_at, Ticket.id)
            .limit(batch_size)
            # Replicas scanning at once skip each other's rows: one sla.breached per ticket.
            .with_for_update(skip_locked=True)
        )
    ).all()
    outgoing = Outgoing(session, source=source, now=now)
    breaches: Tally[str] = Tally()
    for ticket in overdue:
        change = escalate_breach(store.state_of(ticket), now)
        if change is None:
            continue
        store.record_change(ticket, change)
        await outgoing.sla_breached(ticket, change)
        if change.priority_changed:
            await outgoing.ticket_prioritized(ticket, change)
        await dispatching.reassign_to_senior(session, ticket)
        breaches[str(change.tier)] += 1
    return breaches


def after_commit(session: AsyncSession, callback: Callable[[], None]) -> None:
    """Run `callback` once the session's transaction has committed (never on rollback)."""

    def _committed(_session: Session) -> None:
        callback()

    event.listen(session.sync_session, "after_commit", _committed, once=True)


def breach_scan_task(
    *, source: str, interval_s: float, batch_size: int, breaches: Counter
) -> PeriodicTask:
    async def run(session: AsyncSession, now: datetime) -> None:
        found = await scan_for_breaches(session, now, source=source, batch_size=batch_size)
        if found:
            after_commit(session, lambda: _count(breaches, found))

    return PeriodicTask(name=BREACH_SCAN, interval_s=interval_s, run=run)


def _count(breaches: Counter, found: Tally[str]) -> None:
    for tier, count in found.items():
        breaches.labels(tier=tier).inc(count)
