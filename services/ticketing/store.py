"""Loading and saving what the rules work on: tickets as `TicketState`, tiers and the policy."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.ticketing.models import CustomerTier, PriorityChange, SlaPolicyVersion, Ticket
from services.ticketing.rules import (
    DEFAULT_TIER,
    Change,
    Priority,
    SlaPolicy,
    TicketCategory,
    TicketKind,
    TicketState,
    TicketStatus,
    Tier,
    apply_change,
)
from shared.errors import NotFound


def new_ticket_id() -> str:
    return f"tkt-{uuid.uuid4().hex}"


def state_of(ticket: Ticket) -> TicketState:
    return TicketState(
        id=ticket.id,
        kind=TicketKind(ticket.kind),
        category=TicketCategory(ticket.category),
        tier=Tier(ticket.tier),
        priority=Priority(ticket.priority),
        opened_at=ticket.opened_at,
        response_due_at=ticket.response_due_at,
        status=TicketStatus(ticket.status),
        first_response_at=ticket.first_response_at,
        sla_breached_at=ticket.sla_breached_at,
    )


def new_ticket_row(
    state: TicketState,
    *,
    customer_id: str,
    subject: str | None,
    description: str | None,
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
        follow_up_of=follow_up_of,
        created_at=created_at,
        history=[],
    )


def record_change(ticket: Ticket, change: Change) -> None:
    """Apply a change decided by the rules to the row and append it to the history."""
    updated = apply_change(state_of(ticket), change)
    ticket.tier = str(updated.tier)
    ticket.priority = str(updated.priority)
    ticket.response_due_at = updated.response_due_at
    ticket.sla_breached_at = updated.sla_breached_at
    ticket.history.append(
        PriorityChange(
            reason=str(change.reason),
            tier=str(change.tier),
            old_priority=str(change.old_priority),
            new_priority=str(change.new_priority),
            old_response_due_at=change.old_response_due_at,
            new_response_due_at=change.new_response_due_at,
            changed_at=change.changed_at,
        )
    )


async def get_ticket(session: AsyncSession, ticket_id: str) -> Ticket:
    ticket = await session.get(Ticket, ticket_id)
    if ticket is None:
        raise NotFound("ticket", ticket_id)
    return ticket


async def open_tickets_of(session: AsyncSession, customer_id: str) -> Sequence[Ticket]:
    return (
        await session.scalars(
            select(Ticket)
            .where(Ticket.customer_id == customer_id, Ticket.status == TicketStatus.OPEN)
            .order_by(Ticket.opened_at, Ticket.id)
        )
    ).all()


async def tier_of(session: AsyncSession, customer_id: str) -> Tier:
    known = await session.get(CustomerTier, customer_id)
    return Tier(known.tier) if known is not None else DEFAULT_TIER


async def current_policy_row(session: AsyncSession) -> SlaPolicyVersion | None:
    return await session.scalar(
        select(SlaPolicyVersion).order_by(SlaPolicyVersion.version.desc()).limit(1)
    )


async def current_policy(session: AsyncSession) -> SlaPolicy:
    """The policy in force; the defaults until someone puts a policy."""
    row = await current_policy_row(session)
    return SlaPolicy.from_dict(row.policy) if row is not None else SlaPolicy()
