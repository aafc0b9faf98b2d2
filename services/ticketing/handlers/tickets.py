"""Ticket commands and queries: open, answer, resolve, list, and the work queue."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.ticketing import dispatching, store
from services.ticketing.errors import InvalidInput
from services.ticketing.models import Agent, Ticket, TicketResponse
from services.ticketing.outgoing import Outgoing
from services.ticketing.rules import TicketCategory, TicketKind, TicketStatus, open_ticket
from services.ticketing.schemas import ResponseCreate, TicketCreate, TicketResolve
from shared.errors import Conflict


async def open_customer_ticket(
    session: AsyncSession, command: TicketCreate, *, now: datetime, source: str
) -> Ticket:
    """A ticket at the tier's SLA, dispatched, with ticket.opened (and complaint.opened)."""
    opened_at = command.opened_at or now
    if opened_at > now:
        raise InvalidInput("opened_at", "must not be in the future")
    tier = await store.tier_of(session, command.customer_id)
    policy = await store.current_policy(session)
    state = open_ticket(
        store.new_ticket_id(),
        TicketKind(command.kind),
        TicketCategory(command.category),
        tier,
        opened_at,
        policy,
    )
    ticket = store.new_ticket_row(
        state,
        customer_id=command.customer_id,
        subject=command.subject,
        description=command.description,
        created_at=now,
    )
    await dispatching.assign_new(session, ticket)
    session.add(ticket)
    outgoing = Outgoing(session, source=source, now=now)
    await outgoing.ticket_opened(ticket)
    if state.kind is TicketKind.COMPLAINT:
        await outgoing.complaint_opened(ticket)
    return ticket


async def add_response(
    session: AsyncSession, ticket_id: str, command: ResponseCreate, *, now: datetime
) -> tuple[TicketResponse, bool]:
    """Record an answer; the first one stops the response SLA clock (the flag says whether
    this was it). An unassigned ticket is taken by the answering agent."""
    ticket = await store.get_ticket(session, ticket_id)
    if ticket.status != TicketStatus.OPEN:
        raise Conflict("ticket_resolved", f"Ticket {ticket_id!r} is resolved.")
    if command.agent_id is not None and await session.get(Agent, command.agent_id) is None:
        raise InvalidInput("agent_id", f"no agent with id {command.agent_id!r}")
    response = TicketResponse(
        id=f"rsp-{uuid.uuid4().hex}",
        ticket_id=ticket.id,
        agent_id=command.agent_id,
        body=command.body,
        responded_at=now,
    )
    session.add(response)
    first = ticket.first_response_at is None
    if first:
        ticket.first_response_at = now
    if ticket.assignee_id is None and command.agent_id is not None:
        ticket.assignee_id = command.agent_id
    return response, first


async def list_responses(session: AsyncSession, ticket_id: str) -> Sequence[TicketResponse]:
    await store.get_ticket(session, ticket_id)
    return (
        await session.scalars(
            select(TicketResponse)
            .where(TicketResponse.ticket_id == ticket_id)
            .order_by(TicketResponse.responded_at, TicketResponse.id)
        )
    ).all()


async def resolve_ticket(
    session: AsyncSession, ticket_id: str, command: TicketResolve, *, now: datetime, source: str
) -> Ticket:
    ticket = await store.get_ticket(session, ticket_id)
    if ticket.status == TicketStatus.RESOLVED:
        raise Conflict(
            "already_resolved", f"Ticket {ticket_id!r} is already resolved.", ticket_id=ticket_id
        )
    ticket.status = str(TicketStatus.RESOLVED)
    ticket.resolved_at = now
    ticket.csat = command.csat
    await Outgoing(session, source=source, now=now).ticket_resolved(ticket)
    return ticket


async def list_tickets(
    session: AsyncSession,
    *,
    customer_id: str | None,
    status: str | None,
    limit: int,
    offset: int,
) -> tuple[Sequence[Ticket], int]:
    query = select(Ticket)
    if customer_id is not None:
        query = query.where(Ticket.customer_id == customer_id)
    if status is not None:
        query = query.where(Ticket.status == status)
    newest_first = query.order_by(Ticket.opened_at.desc(), Ticket.id)
    return await _page(session, query, newest_first, limit, offset)


async def work_queue(
    session: AsyncSession,
    *,
    category: str | None,
    assignee: str | None,
    limit: int,
    offset: int,
) -> tuple[Sequence[Ticket], int]:
    """Open tickets in work order. The ORDER BY is `rules.queue_key` in SQL (priority names
    sort like their rank), so the queue pages in the database."""
    query = select(Ticket).where(Ticket.status == TicketStatus.OPEN)
    if category is not None:
        query = query.where(Ticket.category == category)
    if assignee is not None:
        query = query.where(Ticket.assignee_id == assignee)
    in_order = query.order_by(Ticket.priority, Ticket.response_due_at, Ticket.opened_at, Ticket.id)
    return await _page(session, query, in_order, limit, offset)


async def _page(
    session: AsyncSession,
    filtered: Select[Ticket],
    ordered: Select[Ticket],
    limit: int,
    offset: int,
) -> tuple[Sequence[Ticket], int]:
    total = await session.scalar(select(func.count()).select_from(filtered.subquery()))
    items = (await session.scalars(ordered.limit(limit).offset(offset))).all()
    return items, total or 0


async def get_ticket(session: AsyncSession, ticket_id: str) -> Ticket:
    return await store.get_ticket(session, ticket_id)
