"""Ticket rows for the API: one ticket, an agent's open tickets, a new ticket; rows as the
`TicketState` the rules work on; and erasing a customer's free text."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Row, Table, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.ticketing.models import Ticket, TicketResponse
from services.ticketing.rules.ticket import TicketState
from services.ticketing.rules.values import (
    Priority,
    TicketCategory,
    TicketKind,
    TicketStatus,
    Tier,
)
from shared.errors import NotFound

tickets = cast(Table, Ticket.__table__)
responses = cast(Table, TicketResponse.__table__)


def new_ticket_id() -> str:
    return f"tkt-{uuid.uuid4().hex}"


def state_of(ticket: Ticket | Row[Any]) -> TicketState:
    """The rules' view of a ticket, from its mapped row or a Core row of its columns."""
    return TicketState(
        id=ticket.id,
        kind=_KINDS[ticket.kind],
        category=_CATEGORIES[ticket.category],
        tier=_TIERS[ticket.tier],
        priority=_PRIORITIES[ticket.priority],
        opened_at=ticket.opened_at,
        response_due_at=ticket.response_due_at,
        status=_STATUSES[ticket.status],
        first_response_at=ticket.first_response_at,
        sla_breached_at=ticket.sla_breached_at,
    )


# Stored names -> values, looked up rather than parsed: a run reads hundreds of tickets.
_KINDS = {str(kind): kind for kind in TicketKind}
_CATEGORIES = {str(category): category for category in TicketCategory}
_TIERS = {str(tier): tier for tier in Tier}
_PRIORITIES = {str(priority): priority for priority in Priority}
_STATUSES = {str(status): status for status in TicketStatus}


def new_ticket_row(
    state: TicketState,
    *,
    customer_id: str,
    subject: str | None,
    description: str | None,
    assignee_id: str | None,
    created_at: datetime,
    follow_up_of: str | None = None,
) -> Ticket:
    return Ticket(
        id=state.id,
        customer_id=customer_id,
        kind=str(state.kind),
        category=str(state.category),
        subject=subject,
        description=description,
        status=str(state.status),
        tier=str(state.tier),
        priority=str(state.priority),
        opened_at=state.opened_at,
        response_due_at=state.response_due_at,
        assignee_id=assignee_id,
        follow_up_of=follow_up_of,
        created_at=created_at,
        history=[],
    )


async def get_ticket(session: AsyncSession, ticket_id: str) -> Ticket:
    """The ticket by primary key, with its priority history."""
    ticket = await session.get(Ticket, ticket_id)
    if ticket is None:
        raise NotFound("ticket", ticket_id)
    return ticket


async def open_tickets_held_by(session: AsyncSession, agent_id: str) -> Sequence[Ticket]:
    """Most urgent first: the order in which they are handed over."""
    return (
        await session.scalars(
            select(Ticket)
            .where(Ticket.assignee_id == agent_id, Ticket.status == TicketStatus.OPEN)
            .order_by(Ticket.priority, Ticket.response_due_at, Ticket.id)
        )
    ).all()


async def erase_customer_text(session: AsyncSession, customer_id: str, erased_at: datetime) -> None:
    """The free text of the customer's tickets and answers goes; the facts (times,
    priorities, CSAT) stay for the SLA record."""
    await session.execute(
        update(tickets)
        .where(tickets.c.customer_id == customer_id)
        .values(subject=None, description=None, erased_at=erased_at)
    )
    of_customer = select(tickets.c.id).where(tickets.c.customer_id == customer_id)
    await session.execute(
        update(responses).where(responses.c.ticket_id.in_(of_customer)).values(body=None)
    )
