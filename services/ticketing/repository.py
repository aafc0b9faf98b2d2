"""Loading and saving what the rules work on: tickets as `TicketState`, agents and their loads
as `Staff`, the tier read model and the SLA policy; and the rows events leave behind."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.ticketing import models
from services.ticketing.models import CustomerTier, PriorityChange, SlaPolicyVersion, Ticket
from services.ticketing.rules.dispatch import Agent, Staff
from services.ticketing.rules.sla import SlaPolicy
from services.ticketing.rules.ticket import Change, TicketState, apply_change
from services.ticketing.rules.values import (
    DEFAULT_TIER,
    Priority,
    TicketCategory,
    TicketKind,
    TicketStatus,
    Tier,
)
from shared.errors import NotFound

# --- tickets --------------------------------------------------------------------------------


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


def record_change(ticket: Ticket, change: Change) -> TicketState:
    """Apply a change decided by the rules to the row, append it to the history, and return
    the ticket as it now is."""
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
    return updated


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


async def open_tickets_held_by(session: AsyncSession, agent_id: str) -> Sequence[Ticket]:
    """Most urgent first: the order in which they are handed over."""
    return (
        await session.scalars(
            select(Ticket)
            .where(Ticket.assignee_id == agent_id, Ticket.status == TicketStatus.OPEN)
            .order_by(Ticket.priority, Ticket.response_due_at, Ticket.id)
        )
    ).all()


async def overdue_tickets(session: AsyncSession, now: datetime, limit: int) -> Sequence[Ticket]:
    """Open, unanswered tickets past their due time and not yet marked breached, earliest due
    first. Replicas scanning at once skip each other's rows: one sla.breached per ticket."""
    return (
        await session.scalars(
            select(Ticket)
            .where(
                Ticket.status == TicketStatus.OPEN,
                Ticket.first_response_at.is_(None),
                Ticket.sla_breached_at.is_(None),
                Ticket.response_due_at < now,
            )
            .order_by(Ticket.response_due_at, Ticket.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    ).all()


async def callback_exists(session: AsyncSession, complaint_ticket_id: str) -> bool:
    found = await session.scalar(
        select(Ticket.id).where(Ticket.follow_up_of == complaint_ticket_id)
    )
    return found is not None


async def erase_customer_text(session: AsyncSession, customer_id: str, erased_at: datetime) -> None:
    """The free text of the customer's tickets and answers goes; the facts (times,
    priorities, CSAT) stay for the SLA record."""
    await session.execute(
        update(Ticket)
        .where(Ticket.customer_id == customer_id)
        .values(subject=None, description=None, erased_at=erased_at)
    )
    of_customer = select(Ticket.id).where(Ticket.customer_id == customer_id)
    await session.execute(
        update(models.TicketResponse)
        .where(models.TicketResponse.ticket_id.in_(of_customer))
        .values(body=None)
    )


# --- agents ---------------------------------------------------------------------------------


def agent_of(row: models.Agent) -> Agent:
    return Agent(
        id=row.agent_id,
        skills=frozenset(TicketCategory(skill) for skill in row.skills),
        senior=row.senior,
        active=row.active,
    )


async def open_loads(session: AsyncSession) -> dict[str, int]:
    """Agent id -> open tickets assigned to them."""
    rows = await session.execute(
        select(Ticket.assignee_id, func.count())
        .where(Ticket.status == TicketStatus.OPEN, Ticket.assignee_id.is_not(None))
        .group_by(Ticket.assignee_id)
    )
    return {agent_id: count for agent_id, count in rows if agent_id is not None}


async def staff(session: AsyncSession) -> Staff:
    """Every agent on record with their open loads, as dispatch sees them."""
    agents = (await session.scalars(select(models.Agent))).all()
    return Staff(tuple(agent_of(row) for row in agents), await open_loads(session))


# --- the tier read model and the SLA policy -------------------------------------------------


async def tier_of(session: AsyncSession, customer_id: str) -> Tier:
    known = await session.get(CustomerTier, customer_id)
    return Tier(known.tier) if known is not None else DEFAULT_TIER


async def remember_tier(
    session: AsyncSession, customer_id: str, tier: Tier, changed_at: datetime
) -> bool:
    """Keep the customer's tier as of `changed_at`, unless a later change is already kept;
    whether it was kept."""
    known = await session.get(CustomerTier, customer_id)
    if known is not None and changed_at < known.changed_at:
        return False
    if known is None:
        session.add(CustomerTier(customer_id=customer_id, tier=str(tier), changed_at=changed_at))
    else:
        known.tier, known.changed_at = str(tier), changed_at
    return True


async def current_policy_row(session: AsyncSession) -> SlaPolicyVersion | None:
    return await session.scalar(
        select(SlaPolicyVersion).order_by(SlaPolicyVersion.version.desc()).limit(1)
    )


async def current_policy(session: AsyncSession) -> SlaPolicy:
    """The policy in force; the defaults until someone puts a policy."""
    row = await current_policy_row(session)
    return SlaPolicy.from_dict(row.policy) if row is not None else SlaPolicy()


# --- refunds, for the return-reason report --------------------------------------------------


def add_refund(
    session: AsyncSession, order_id: str, reason: str, amount_fen: int, refunded_at: datetime
) -> None:
    session.add(
        models.Refund(
            order_id=order_id, reason=reason, amount_fen=amount_fen, refunded_at=refunded_at
        )
    )
