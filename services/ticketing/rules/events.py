"""What ticketing tells other services about a ticket: which events a change gives, and what
each carries (catalogue payloads built from rule values).

`ticket.opened` and `ticket.resolved` are published for customer tickets only: their `kind`
cannot say `callback` without a breaking change to those types, and a callback is an internal
follow-up task rather than a ticket the customer opened.
"""

from __future__ import annotations

from datetime import datetime

from services.ticketing.rules.ticket import Change, TicketState
from services.ticketing.rules.values import CUSTOMER_TICKET_KINDS, TicketKind
from shared.events.catalogue import (
    ComplaintOpened,
    SlaBreached,
    TicketOpened,
    TicketPrioritized,
    TicketResolved,
)


def ticket_opened(customer_id: str, ticket: TicketState) -> TicketOpened | None:
    if ticket.kind not in CUSTOMER_TICKET_KINDS:
        return None
    return TicketOpened.model_validate(
        {
            "customer_id": customer_id,
            "ticket_id": ticket.id,
            "kind": str(ticket.kind),
            "category": str(ticket.category),
            "priority": str(ticket.priority),
            "tier": str(ticket.tier),
            "opened_at": ticket.opened_at,
            "response_due_at": ticket.response_due_at,
        }
    )


def complaint_opened(customer_id: str, ticket: TicketState) -> ComplaintOpened | None:
    """For a complaint only. The subject stays off the broker: free text may hold personal
    data, and a topic cannot forget it when the customer is erased."""
    if ticket.kind is not TicketKind.COMPLAINT:
        return None
    return ComplaintOpened.model_validate(
        {
            "customer_id": customer_id,
            "ticket_id": ticket.id,
            "category": str(ticket.category),
            "opened_at": ticket.opened_at,
        }
    )


def ticket_prioritized(customer_id: str, change: Change) -> TicketPrioritized:
    return TicketPrioritized.model_validate(
        {
            "customer_id": customer_id,
            "ticket_id": change.ticket_id,
            "old_priority": str(change.old_priority),
            "new_priority": str(change.new_priority),
            "old_response_due_at": change.old_response_due_at,
            "response_due_at": change.new_response_due_at,
            "tier": str(change.tier),
            "reason": str(change.reason),
        }
    )


def sla_breached(customer_id: str, change: Change) -> SlaBreached:
    """`priority` and `response_due_at` are those that were missed, before escalation."""
    return SlaBreached.model_validate(
        {
            "customer_id": customer_id,
            "ticket_id": change.ticket_id,
            "tier": str(change.tier),
            "priority": str(change.old_priority),
            "response_due_at": change.old_response_due_at,
            "breached_at": change.changed_at,
        }
    )


def ticket_resolved(
    customer_id: str, ticket: TicketState, resolved_at: datetime, csat: int | None
) -> TicketResolved | None:
    if ticket.kind not in CUSTOMER_TICKET_KINDS:
        return None
    return TicketResolved.model_validate(
        {
            "customer_id": customer_id,
            "ticket_id": ticket.id,
            "kind": str(ticket.kind),
            "category": str(ticket.category),
            "resolved_at": resolved_at,
            "csat": csat,
        }
    )
