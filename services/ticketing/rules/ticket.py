"""A ticket as the rules see it, and the record of a change to its priority or due time."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from services.ticketing.rules.sla import SlaPolicy, initial_priority, response_due_at
from services.ticketing.rules.values import (
    ChangeReason,
    Priority,
    TicketCategory,
    TicketKind,
    TicketStatus,
    Tier,
    require_aware,
)


@dataclass(frozen=True)
class TicketState:
    """What the rules need of a ticket. `tier` is the tier as known when last prioritised."""

    id: str
    kind: TicketKind
    category: TicketCategory
    tier: Tier
    priority: Priority
    opened_at: datetime
    response_due_at: datetime
    status: TicketStatus = TicketStatus.OPEN
    first_response_at: datetime | None = None
    sla_breached_at: datetime | None = None

    def __post_init__(self) -> None:
        require_aware("opened_at", self.opened_at)
        require_aware("response_due_at", self.response_due_at)
        if self.first_response_at is not None:
            require_aware("first_response_at", self.first_response_at)
        if self.sla_breached_at is not None:
            require_aware("sla_breached_at", self.sla_breached_at)

    @property
    def is_open(self) -> bool:
        return self.status is TicketStatus.OPEN

    @property
    def awaits_first_response(self) -> bool:
        return self.is_open and self.first_response_at is None


class OpenedInTheFuture(ValueError):
    """A ticket reported as opened later than now."""


def opening_time(requested: datetime | None, now: datetime) -> datetime:
    """When a new ticket opens: now, or the time an imported ticket was really opened, which
    may lie in the past but never in the future (its SLA would start later than it runs)."""
    require_aware("now", now)
    if requested is None:
        return now
    require_aware("opened_at", requested)
    if requested > now:
        raise OpenedInTheFuture("must not be in the future")
    return requested


def open_ticket(
    ticket_id: str,
    kind: TicketKind,
    category: TicketCategory,
    tier: Tier,
    opened_at: datetime,
    policy: SlaPolicy,
) -> TicketState:
    """A new ticket with its initial priority and response due time from the tier's SLA."""
    return TicketState(
        id=ticket_id,
        kind=kind,
        category=category,
        tier=tier,
        priority=initial_priority(kind, tier, policy),
        opened_at=opened_at,
        response_due_at=response_due_at(opened_at, tier, policy),
    )


@dataclass(frozen=True)
class Change:
    """One entry of a ticket's priority history; also the content of `ticket.prioritized`."""

    ticket_id: str
    reason: ChangeReason
    tier: Tier
    changed_at: datetime
    old_priority: Priority
    new_priority: Priority
    old_response_due_at: datetime
    new_response_due_at: datetime

    @property
    def priority_changed(self) -> bool:
        return self.new_priority is not self.old_priority

    @property
    def response_due_changed(self) -> bool:
        return self.new_response_due_at != self.old_response_due_at


def apply_change(ticket: TicketState, change: Change) -> TicketState:
    if change.ticket_id != ticket.id:
        raise ValueError(f"change for ticket {change.ticket_id} applied to ticket {ticket.id}")
    breached_at = ticket.sla_breached_at
    if change.reason is ChangeReason.SLA_BREACHED and breached_at is None:
        breached_at = change.changed_at
    return replace(
        ticket,
        tier=change.tier,
        priority=change.new_priority,
        response_due_at=change.new_response_due_at,
        sla_breached_at=breached_at,
    )
