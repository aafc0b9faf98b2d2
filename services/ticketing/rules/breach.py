"""Detecting a missed first-response SLA and escalating the ticket."""

from __future__ import annotations

from datetime import datetime

from services.ticketing.rules.ticket import Change, TicketState
from services.ticketing.rules.values import ChangeReason, Priority, require_aware


def is_breached(ticket: TicketState, now: datetime) -> bool:
    """True once `now` is past the due time of an open, unanswered ticket not yet marked
    breached. The due time itself is still on time."""
    require_aware("now", now)
    return (
        ticket.awaits_first_response
        and ticket.sla_breached_at is None
        and now > ticket.response_due_at
    )


def escalate(priority: Priority) -> Priority:
    """One level more urgent; P1 stays P1."""
    return Priority(f"P{max(priority.rank - 1, 1)}")


def escalate_breach(ticket: TicketState, now: datetime) -> Change | None:
    """The breach record for a ticket that `is_breached`, else None. Returned even for a P1
    ticket whose priority cannot rise, because the breach itself must be recorded once."""
    if not is_breached(ticket, now):
        return None
    return Change(
        ticket_id=ticket.id,
        reason=ChangeReason.SLA_BREACHED,
        tier=ticket.tier,
        changed_at=now,
        old_priority=ticket.priority,
        new_priority=escalate(ticket.priority),
        old_response_due_at=ticket.response_due_at,
        new_response_due_at=ticket.response_due_at,
    )
