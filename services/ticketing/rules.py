"""The business rules of ticketing, pure: (state, input, now) -> decision; no I/O, no clock.

The rules live in `services.ticketing.domain`, one module per job; this module is the one
place the rest of the service imports them from.
"""

from services.ticketing.domain.breach import escalate, escalate_breach, is_breached
from services.ticketing.domain.dispatch import Agent, choose_agent, requires_senior
from services.ticketing.domain.prioritisation import (
    on_tier_changed,
    recomputed_response_due_at,
    reprioritise,
)
from services.ticketing.domain.queue import Queueable, in_work_order, queue_key
from services.ticketing.domain.sla import (
    MAX_FIRST_RESPONSE_HOURS,
    PolicyError,
    SlaPolicy,
    initial_priority,
    response_due_at,
)
from services.ticketing.domain.ticket import Change, TicketState, apply_change, open_ticket
from services.ticketing.domain.values import (
    CUSTOMER_TICKET_KINDS,
    DEFAULT_TIER,
    ChangeReason,
    Priority,
    TicketCategory,
    TicketKind,
    TicketStatus,
    Tier,
    most_urgent,
)

__all__ = [
    "CUSTOMER_TICKET_KINDS",
    "DEFAULT_TIER",
    "MAX_FIRST_RESPONSE_HOURS",
    "Agent",
    "Change",
    "ChangeReason",
    "PolicyError",
    "Priority",
    "Queueable",
    "SlaPolicy",
    "TicketCategory",
    "TicketKind",
    "TicketState",
    "TicketStatus",
    "Tier",
    "apply_change",
    "choose_agent",
    "escalate",
    "escalate_breach",
    "in_work_order",
    "initial_priority",
    "is_breached",
    "most_urgent",
    "on_tier_changed",
    "open_ticket",
    "queue_key",
    "recomputed_response_due_at",
    "reprioritise",
    "requires_senior",
    "response_due_at",
]
