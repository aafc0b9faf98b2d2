"""The events ticketing publishes, written to the outbox in the caller's transaction.

`ticket.opened` and `ticket.resolved` are published for customer tickets only: their `kind`
cannot say `callback` without a breaking change to those types, and a callback is an internal
follow-up task rather than a ticket the customer opened.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.ticketing.models import Ticket
from services.ticketing.rules import CUSTOMER_TICKET_KINDS, Change, TicketKind
from shared.events.catalogue import data_model_for
from shared.events.envelope import new_event
from shared.outbox import add_event


class Outgoing:
    """Adds ticketing's events to the outbox: one source, the writer's clock for `now`."""

    def __init__(self, session: AsyncSession, *, source: str, now: datetime) -> None:
        self._session = session
        self._source = source
        self._now = now

    @property
    def now(self) -> datetime:
        return self._now

    async def _add(self, event_type: str, ticket: Ticket, time: datetime, **fields: Any) -> None:
        data = data_model_for(event_type).model_validate(
            {"customer_id": ticket.customer_id, "ticket_id": ticket.id, **fields}
        )
        event = new_event(
            event_type, source=self._source, time=time, subject=ticket.customer_id, data=data
        )
        await add_event(self._session, event, now=self._now)

    async def ticket_opened(self, ticket: Ticket) -> None:
        if TicketKind(ticket.kind) not in CUSTOMER_TICKET_KINDS:
            return
        await self._add(
            "ticket.opened",
            ticket,
            ticket.opened_at,
            kind=ticket.kind,
            category=ticket.category,
            priority=ticket.priority,
            tier=ticket.tier,
            opened_at=ticket.opened_at,
            response_due_at=ticket.response_due_at,
        )

    async def complaint_opened(self, ticket: Ticket) -> None:
        # The subject stays off the broker: free text may hold personal data, and a topic
        # cannot forget it when the customer is erased.
        await self._add(
            "complaint.opened",
            ticket,
            ticket.opened_at,
            category=ticket.category,
            opened_at=ticket.opened_at,
        )

    async def ticket_prioritized(self, ticket: Ticket, change: Change) -> None:
        await self._add(
            "ticket.prioritized",
            ticket,
            change.changed_at,
            old_priority=str(change.old_priority),
            new_priority=str(change.new_priority),
            old_response_due_at=change.old_response_due_at,
            response_due_at=change.new_response_due_at,
            tier=str(change.tier),
            reason=str(change.reason),
        )

    async def sla_breached(self, ticket: Ticket, change: Change) -> None:
        """`priority` and `response_due_at` are those that were missed, before escalation."""
        await self._add(
            "sla.breached",
            ticket,
            change.changed_at,
            tier=str(change.tier),
            priority=str(change.old_priority),
            response_due_at=change.old_response_due_at,
            breached_at=change.changed_at,
        )

    async def ticket_resolved(self, ticket: Ticket) -> None:
        if TicketKind(ticket.kind) not in CUSTOMER_TICKET_KINDS or ticket.resolved_at is None:
            return
        await self._add(
            "ticket.resolved",
            ticket,
            ticket.resolved_at,
            kind=ticket.kind,
            category=ticket.category,
            resolved_at=ticket.resolved_at,
            csat=ticket.csat,
        )
